"""OpenTelemetry's OTLP/HTTP logs (`POST /v1/logs`): log records to runs' chunks."""
