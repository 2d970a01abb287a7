"""Opaque page cursors: the sort key of a page's last row, encoded for a URL."""

from __future__ import annotations

import base64
import binascii
import json
import math

from app.errors import InvalidInput

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(key: list[float | int | str | None]) -> str:
    # repr-exact floats: json writes the shortest text that reads back as the same float.
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[float | int | str | None]:
    """Read a cursor made by `encode_cursor` for a key of these types.

    Raises: InvalidInput for anything else.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput(f"invalid cursor {cursor!r}: pass a next_cursor as given") from exc
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(_fits(value, kind) for value, kind in zip(key, types, strict=True))
    ):
        raise InvalidInput(f"invalid cursor {cursor!r}: pass a next_cursor as given")
    return key


def _fits(value: object, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return False  # no database column holds it
    if kind is float:
        return isinstance(value, int | float) and math.isfinite(value)
    return isinstance(value, kind)
