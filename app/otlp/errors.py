"""What an OTLP/HTTP request can be refused for as a whole, one class each.

    OtlpRefusal
     ├── MalformedRequest      not gzip, protobuf or OTLP/JSON as it claims (400)
     ├── RequestTooLarge       above the chunk limit, compressed or not (413)
     └── UnsupportedEncoding   a content type or content encoding OTLP/HTTP does not
                               define (415)

Each maps to one HTTP status in `app.api.routes.otlp`. A refused record (no job
attribute, a run that has ended, ...) is none of these: it is counted in the answer's
partial success, and the request's other records are kept.
"""

from __future__ import annotations

__all__ = ["MalformedRequest", "OtlpRefusal", "RequestTooLarge", "UnsupportedEncoding"]


class OtlpRefusal(Exception):
    """Base of every refusal of a whole request; `message` is what the client reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedRequest(OtlpRefusal):
    """The body is not what its headers say (OTLP: the client must not retry it)."""


class RequestTooLarge(OtlpRefusal):
    """The body, or what it inflates to, is above the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"an OTLP request may hold at most {limit} bytes, compressed or not; "
            "send fewer records per request"
        )
        self.limit = limit


class UnsupportedEncoding(OtlpRefusal):
    """A content type other than protobuf or JSON, or an encoding other than gzip."""
