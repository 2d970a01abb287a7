"""Request bodies to ExportLogsServiceRequest (app.otlp.decoding), and the answers."""

from __future__ import annotations

import gzip
import zlib

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from app.otlp.answers import export_response, status
from app.otlp.decoding import MAX_MESSAGES, decode_request, inflate
from app.otlp.encoding import Encoding, encoding_of
from app.otlp.errors import (
    MalformedRequest,
    RequestTooLarge,
    TooManyMessages,
    UnsupportedEncoding,
)
from tests.otlp.messages import record, request

# OTLP/JSON as the specification writes it: hex ids, camelCase, enums and int64 as numbers
# or strings.
OTLP_JSON = b"""{"resourceLogs": [{
  "resource": {"attributes": [{"key": "logmetrics.job", "value": {"stringValue": "gan"}}]},
  "scopeLogs": [{"scope": {"name": "train"}, "logRecords": [{
    "timeUnixNano": "1544712660300000000", "observedTimeUnixNano": 1544712660300000001,
    "severityNumber": 10, "severityText": "Information",
    "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
    "body": {"stringValue": "loss=0.5"}, "someFieldFromLater": true,
    "attributes": [{"key": "logmetrics.run", "value": {"stringValue": "r1"}}]
  }]}]
}]}"""


def test_otlp_json_is_read_with_hex_ids_camel_case_enum_numbers_and_int64_strings():
    decoded = decode_request(OTLP_JSON, Encoding.JSON)

    logs = decoded.resource_logs[0]
    found = logs.scope_logs[0].log_records[0]
    assert logs.resource.attributes[0].value.string_value == "gan"
    assert (found.time_unix_nano, found.observed_time_unix_nano) == (
        1544712660300000000,
        1544712660300000001,
    )
    assert (found.severity_number, found.body.string_value) == (10, "loss=0.5")
    assert found.attributes[0].value.string_value == "r1"


def test_protobuf_is_read_as_the_exporter_writes_it():
    sent = request(record("loss=0.5", 1), logmetrics_job="gan")

    assert decode_request(sent.SerializeToString(), Encoding.PROTOBUF) == sent


@pytest.mark.parametrize(
    ("body", "encoding", "says"),
    [
        (b"\x0a\xff\xff", Encoding.PROTOBUF, "the body is not an ExportLogsServiceRequest"),
        (b"[]", Encoding.JSON, "an OTLP/JSON body is an object"),
        (b"{", Encoding.JSON, "the body is not JSON text"),
        (b"\xff", Encoding.JSON, "the body is not JSON text"),
        (b'{"resourceLogs": 5}', Encoding.JSON, "the body is not OTLP/JSON"),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "-1"}]}]}]}',
            Encoding.JSON,
            "the body is not OTLP/JSON",
        ),
        (b"[" * 100_000 + b"]" * 100_000, Encoding.JSON, "the body is not JSON text"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, Encoding.JSON, "the body nests deeper than 64"),
    ],
)
def test_a_body_that_is_not_a_request_is_malformed(body, encoding, says):
    with pytest.raises(MalformedRequest) as refused:
        decode_request(body, encoding)

    assert refused.value.message.startswith(says)


def test_gzip_bodies_inflate_member_after_member():
    body = gzip.compress(b"first ") + gzip.compress(b"second")

    assert inflate(body, "gzip", 12) == b"first second"
    assert inflate(b"plain", None, 1) == b"plain"  # the route bounds an unencoded body
    assert inflate(b"plain", "identity", 1) == b"plain"


def test_a_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * 50_000_000)  # 48 KiB that inflates to 50 MB

    with pytest.raises(RequestTooLarge) as refused:
        inflate(bomb, "gzip", 1_000_000)

    assert refused.value.message == (
        "an OTLP request may hold at most 1000000 bytes, compressed or not; "
        "send fewer records per request"
    )
    assert len(bomb) < 60_000


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not gzip", "the body is not gzip data"),
        (gzip.compress(b"cut short")[:-9], "the gzip data ends before its end"),
        (gzip.compress(b"then") + b"junk", "the body is not gzip data"),
    ],
)
def test_a_body_that_is_not_gzip_is_malformed(body, says):
    with pytest.raises(MalformedRequest) as refused:
        inflate(body, "gzip", 1000)

    assert refused.value.message.startswith(says)


@pytest.mark.parametrize("coding", ["deflate", "br", "zstd", "gzip, gzip"])
def test_other_content_encodings_are_unsupported(coding):
    with pytest.raises(UnsupportedEncoding):
        inflate(zlib.compress(b"x"), coding, 1000)


def test_content_types_name_the_encoding():
    assert encoding_of("application/x-protobuf") is Encoding.PROTOBUF
    assert encoding_of("Application/JSON; charset=utf-8") is Encoding.JSON
    for other in (None, "", "text/plain", "application/protobuf", "application/jsonx"):
        with pytest.raises(UnsupportedEncoding):
            encoding_of(other)


def test_answers_are_otlps_messages_in_either_encoding():
    partial = export_response(2, "2 records: no job", Encoding.PROTOBUF)
    decoded = ExportLogsServiceResponse.FromString(partial)

    assert (
        decoded.partial_success.rejected_log_records,
        decoded.partial_success.error_message,
    ) == (
        2,
        "2 records: no job",
    )
    assert export_response(0, "", Encoding.PROTOBUF) == b""
    assert export_response(0, "", Encoding.JSON) == b"{}"
    assert export_response(2, "why", Encoding.JSON) == (
        b'{"partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "why"}}'
    )
    refusal = Status.FromString(status(3, "caf\u00e9 " * 100, Encoding.PROTOBUF))
    assert (refusal.code, refusal.message) == (3, "caf\u00e9 " * 100)
    assert status(3, "bad", Encoding.JSON) == b'{"code": 3, "message": "bad"}'


def test_a_request_of_more_messages_than_one_may_hold_is_refused_before_its_records_are_read():
    # 250,001 empty records: 500 KB of protobuf, a few hundred bytes gzipped, and as
    # many objects decoded.
    def body(records: int) -> bytes:
        sent = ExportLogsServiceRequest()
        scope = sent.resource_logs.add().scope_logs.add()
        for _ in range(records):
            scope.log_records.add()
        return sent.SerializeToString()

    with pytest.raises(TooManyMessages, match="at most 250000 messages"):
        decode_request(body(MAX_MESSAGES + 1), Encoding.PROTOBUF)
    # As many records as one may hold are read.
    decoded = decode_request(body(1000), Encoding.PROTOBUF)
    assert len(decoded.resource_logs[0].scope_logs[0].log_records) == 1000


def test_an_otlp_json_request_of_more_objects_than_messages_allowed_is_refused_unread():
    records = ",".join(["{}"] * (MAX_MESSAGES + 1))
    body = b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [' + records.encode() + b"]}]}]}"
    with pytest.raises(TooManyMessages, match="send fewer records per request"):
        decode_request(body, Encoding.JSON)
