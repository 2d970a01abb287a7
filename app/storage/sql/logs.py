"""Raw log bytes: kept as received, zstd-compressed, one row per stored chunk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import zstandard
from sqlalchemy import Connection, select

from app.storage.schema import chunks

__all__ = ["log_pieces"]

_LOG_PAGE = 16  # raw chunks read per transaction when streaming a log back


def log_pieces(
    read: Callable[[], AbstractContextManager[Connection]], stream_id: int, start: int, stop: int
) -> Iterator[bytes]:
    """The stream's bytes from `start` to `stop`, in pieces.

    Short transactions from `read`, one per page, so a slow reader holds no connection.
    """
    decompressor = zstandard.ZstdDecompressor()
    after = -1
    while start < stop:
        with read() as conn:
            page = conn.execute(
                select(chunks.c.offset, chunks.c.length, chunks.c.data)
                .where(
                    chunks.c.stream_id == stream_id,
                    chunks.c.offset > after,
                    chunks.c.offset < stop,
                    chunks.c.offset + chunks.c.length > start,
                )
                .order_by(chunks.c.offset)
                .limit(_LOG_PAGE)
            ).all()
        for piece in page:
            data = decompressor.decompress(piece.data)
            yield data[max(0, start - piece.offset) : stop - piece.offset]
        if len(page) < _LOG_PAGE:
            return
        after = page[-1].offset
