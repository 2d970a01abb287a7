"""Tokens: a position in one or more live streams, so that paging never skips or repeats
an event however the streams grow between two calls.

A position says, for each place events come from, the offset where the next unread line
starts (0 when left out). A token is a direction (`f` forward, `b` backward, `n` a
FilterLogEvents page) and the position as compact JSON, in base64: the same position is
always the same token, so GetLogEvents gives the same token back when nothing is new, as
the SageMaker SDK's loop expects. A token is read back strictly: it must be one this
service could have issued, every offset the start of a line (or the end of those stored)
of a place the request reads; anything else is InvalidParameterException.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from app.cloudwatch_logs.errors import invalid_token

__all__ = ["Position", "Token", "decode", "encode"]

Position = Mapping[str, int]
# The longest token read: a FilterLogEvents position over a hundred streams fits.
_MAX_TOKEN = 65_536


class Token(NamedTuple):
    direction: str
    position: Position


def encode(direction: str, position: Position) -> str:
    kept = {place: offset for place, offset in sorted(position.items()) if offset > 0}
    text = json.dumps(kept, separators=(",", ":"), sort_keys=True)
    return f"{direction}/" + base64.urlsafe_b64encode(text.encode()).decode("ascii")


def decode(token: str, directions: str, starts: Mapping[str, Iterable[int]]) -> Token:
    """The token's direction and position.

    Args:
        directions: the directions the operation takes (`fb`, `n`).
        starts: for each place the request reads, the offsets a position may hold there:
            its lines' starts and the end of its stored lines.

    Raises: LogsError (InvalidParameterException) for any other token.
    """
    direction, _, encoded = token.partition("/")
    if direction not in directions or len(direction) != 1 or len(token) > _MAX_TOKEN:
        raise invalid_token()
    try:
        text = base64.urlsafe_b64decode(encoded.encode("ascii"))
        position = json.loads(text)
    except (UnicodeError, binascii.Error, ValueError):
        raise invalid_token() from None
    if not isinstance(position, dict) or not all(
        isinstance(offset, int) and not isinstance(offset, bool) for offset in position.values()
    ):
        raise invalid_token()
    if encode(direction, position) != token:
        raise invalid_token()  # not as this service writes one
    for place, offset in position.items():
        if place not in starts or offset not in set(starts[place]):
            raise invalid_token()
    return Token(direction, position)
