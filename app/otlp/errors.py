"""What an OTLP/HTTP request can be refused for as a whole, one class each.

    OtlpRefusal
     ├── MalformedRequest      not gzip, protobuf or OTLP/JSON as it claims (400)
     ├── RequestTooLarge       above the chunk limit, compressed or not, or holding
     │                         more messages than one request may (413)
     ├── UnsupportedEncoding   a content type or content encoding OTLP/HTTP does not
     │                         define (415)
     └── Unavailable           a run's stream kept moving under other writes: send the
                               request again, which OTLP exporters do (503)

Each maps to one HTTP status in `app.api.routes.otlp`. A refused record (no job
attribute, a run that has ended, ...) is none of these: it is counted in the answer's
partial success, and the request's other records are kept.
"""

from __future__ import annotations

__all__ = [
    "MalformedRequest",
    "OtlpRefusal",
    "RequestTooLarge",
    "TooManyMessages",
    "Unavailable",
    "UnsupportedEncoding",
]


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


class TooManyMessages(RequestTooLarge):
    """The request holds more OTLP messages (records, attributes, values) than one
    request may: each costs memory to decode, whatever few bytes it takes."""

    def __init__(self, limit: int) -> None:
        OtlpRefusal.__init__(
            self,
            f"an OTLP request may hold at most {limit} messages (records, attributes and "
            "their values); send fewer records per request",
        )
        self.limit = limit


class Unavailable(OtlpRefusal):
    """A stream kept moving under other writes; the request's chunks stored so far are
    known again when it is sent again (their digests), so a retry counts once."""


class UnsupportedEncoding(OtlpRefusal):
    """A content type other than protobuf or JSON, or an encoding other than gzip."""
