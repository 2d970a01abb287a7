"""The two encodings of OTLP/HTTP, and how a request's headers name them."""

from __future__ import annotations

import enum

from app.otlp.errors import UnsupportedEncoding

__all__ = ["Encoding", "encoding_of"]


class Encoding(enum.Enum):
    """A request's encoding; the answer is given in the same one."""

    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


def encoding_of(content_type: str | None) -> Encoding:
    """The encoding a Content-Type header names (parameters such as charset ignored).

    Raises: UnsupportedEncoding for any other type, or none (OTLP/HTTP names two).
    """
    media = (content_type or "").partition(";")[0].strip().lower()
    for encoding in Encoding:
        if media == encoding.value:
            return encoding
    raise UnsupportedEncoding(
        f"Content-Type {media[:100]!r} is not OTLP/HTTP's: send application/x-protobuf "
        "or application/json"
    )
