"""Pages of DescribeLogGroups and DescribeLogStreams, and the nextToken of the next one.

A token is the sort key of the last item of its page (base64 of its JSON); the next page
starts after it, so a group or stream added or removed between two calls moves no other
one to another page. A token that is not base64 of such a key is InvalidParameterException.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from app.cloudwatch_logs.errors import invalid_token

__all__ = ["page_after"]

T = TypeVar("T")
Key = tuple[Any, ...]


def page_after(
    items: Sequence[T],
    key: Callable[[T], Key],
    token: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The page of `items` (in order of `key`, descending if asked) after the token's key.

    Returns: the page, and the token of the next one (None on the last page).

    Raises: LogsError (InvalidParameterException) for a token not made here.
    """
    ordered = sorted(items, key=key, reverse=descending)
    after = _key(token) if token else None
    if (
        after is not None
        and ordered
        and [type(part) for part in key(ordered[0])] != [type(part) for part in after]
    ):
        raise invalid_token()  # a key of another order
    rest = [
        item
        for item in ordered
        if after is None or (list(key(item)) < after if descending else list(key(item)) > after)
    ]
    chosen = rest[:limit]
    following = _token(key(chosen[-1])) if len(rest) > limit else None
    return chosen, following


def _token(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode("ascii")


def _key(token: str) -> list[Any]:
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError):
        raise invalid_token() from None
    if (
        not isinstance(found, list)
        or not all(isinstance(part, str | int) and not isinstance(part, bool) for part in found)
        or _token(tuple(found)) != token
    ):
        raise invalid_token()
    return found
