"""A training program that logs through OpenTelemetry's SDK, as an app instrumented for
OTLP would: its resource and exporter come from the OTEL_* environment alone.

It prints each line to stdout as well, so the test can compare the run's points with
what the program printed.
"""

from __future__ import annotations

import logging
import sys

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor


def main() -> None:
    provider = LoggerProvider()  # resource: OTEL_RESOURCE_ATTRIBUTES
    # endpoint: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT; headers: OTEL_EXPORTER_OTLP_LOGS_HEADERS
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    log = logging.getLogger("train")
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(logger_provider=provider))
    log.addHandler(logging.StreamHandler(sys.stdout))
    for epoch, loss in enumerate([0.9, 0.7, 0.55, 0.4, 0.35], 1):
        log.info("epoch %d: Loss = %s; lr=0.1", epoch, loss)
    provider.shutdown()  # flushes the batch


if __name__ == "__main__":
    main()
