"""OpenTelemetry's OTLP/HTTP logs (`POST /v1/logs`): log records to runs' chunks.

- `encoding`, `decoding`: a request's headers and body to OpenTelemetry's own
  `ExportLogsServiceRequest` (protobuf or OTLP/JSON, gzip inflated within a bound);
- `records`: pure, the request's records to each run's stream's lines, in chunks;
- `delivery`: those chunks taken in through `Intake.take`, a retried request once;
- `answers`: the ExportLogsServiceResponse or google.rpc.Status sent back;
- `errors`: what refuses a whole request.

The HTTP route is `app.api.routes.otlp`; nothing here imports FastAPI.
"""
