"""Pages of a List* operation's answer, and the NextToken that leads to the next one.

A token is the offset of the next page's first item, as base64 of its decimal digits.
It is read back strictly: a token this service could not have issued (not base64, not
the digits of an offset, negative, past the list's end) is refused, as SageMaker refuses
it, never read as some other offset.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from app.sagemaker.errors import SageMakerError

__all__ = ["InvalidToken", "page"]

DEFAULT_PAGE_SIZE = 10
# The offsets the service issues: positive, without a leading zero. Ten digits bound the
# work of reading one; an offset past the list is refused after.
_OFFSET = re.compile(r"[1-9][0-9]{0,9}")

T = TypeVar("T")


class InvalidToken(SageMakerError):
    """A NextToken the service did not issue: SageMaker's ValidationException."""

    def __init__(self, token: str) -> None:
        super().__init__("ValidationException", "Invalid pagination token")
        self.token = token


def page(items: Sequence[T], body: Mapping[str, Any]) -> tuple[Sequence[T], str | None]:
    """The page of `items` the request asks for (its NextToken and MaxResults).

    Args:
        items: the whole list, in the order it is paged.
        body: the request: NextToken (absent: the first page) and MaxResults (default 10;
            the model bounds it).

    Returns: the page, and the token of the next one (None on the last page).

    Raises:
        InvalidToken: the NextToken is not one the service issues, or lies past the end
            of the list.
    """
    start = _offset(body.get("NextToken"), len(items))
    end = start + int(body.get("MaxResults", DEFAULT_PAGE_SIZE))
    following = _token(end) if end < len(items) else None
    return items[start:end], following


def _offset(token: str | None, length: int) -> int:
    if not token:
        return 0
    try:
        digits = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise InvalidToken(token) from None
    text = digits.decode("latin-1")
    # The token must be the very one issued: the same digits encoded the same way.
    if _OFFSET.fullmatch(text) is None or _token(int(text)) != token:
        raise InvalidToken(token)
    offset = int(text)
    if offset > length:
        # Past the end: a forged offset, or one of a list that has since shrunk below it.
        raise InvalidToken(token)
    return offset


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode("ascii")).decode("ascii")
