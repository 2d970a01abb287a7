"""The bytes of one stream that the service has not acknowledged yet."""

from __future__ import annotations

import os
import tempfile
import threading

__all__ = ["Spool"]


class Spool:
    """A FIFO of bytes with stream offsets: in memory up to a limit, then in a file.

    Writers append at the end; the sender reads from the front and drops what the
    service acknowledged. Memory stays bounded however long the service is away.
    Thread-safe.
    """

    def __init__(self, memory_limit: int = 8 * 1024 * 1024, spill_dir: str | None = None):
        self._memory_limit = memory_limit
        self._spill_dir = spill_dir
        self._lock = threading.Lock()
        self._memory = bytearray()
        self._file: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._file_read = 0  # where the unacknowledged bytes start in the file
        self._file_size = 0
        self.base = 0  # the stream offset of the first byte held
        self.total = 0  # every byte appended so far: the stream's length

    def append(self, data: bytes) -> None:
        with self._lock:
            # Once anything is in the file, new bytes must follow it there, in order.
            if (
                self._file_size > self._file_read
                or len(self._memory) + len(data) > self._memory_limit
            ):
                if self._file is None:
                    # Open for the spool's lifetime; `close` closes (and so deletes) it.
                    self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115
                        prefix="logmetrics-spool-", dir=self._spill_dir
                    )
                self._file.seek(self._file_size)
                self._file.write(data)
                self._file_size += len(data)
            else:
                self._memory += data
            self.total += len(data)

    def peek(self, limit: int) -> tuple[int, bytes]:
        """Up to `limit` bytes from the front, and the stream offset they start at."""
        with self._lock:
            data = bytes(self._memory[:limit])
            if len(data) < limit and self._file is not None and self._file_size > self._file_read:
                self._file.flush()
                with open(self._file.name, "rb") as reader:
                    reader.seek(self._file_read)
                    data += reader.read(limit - len(data))
            return self.base, data

    def acknowledge(self, offset: int) -> None:
        """Drop the bytes before stream offset `offset`, which the service now has."""
        with self._lock:
            drop = min(offset, self.total) - self.base
            if drop <= 0:
                return
            from_memory = min(drop, len(self._memory))
            del self._memory[:from_memory]
            self._file_read += drop - from_memory
            self.base += drop
            if self._file is not None and self._file_read >= self._file_size:
                self._file.truncate(0)
                self._file_read = self._file_size = 0

    def pending(self) -> int:
        with self._lock:
            return self.total - self.base

    def spilled(self) -> int:
        """Bytes waiting in the file rather than in memory."""
        with self._lock:
            return self._file_size - self._file_read

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def save(self, path: str) -> int:
        """Write every unacknowledged byte to `path`; return how many."""
        _, data = self.peek(self.pending())
        with open(path, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return len(data)
