"""Bounded pools of threads for CPU work the event loop must not wait on.

Parsing (a dry run, a log chunk) runs user regexes. On the server's shared thread pool,
forty hostile dry runs took every thread and `/healthz` waited 20 s. Each kind of work
gets its own bounded pool here: what does not fit waits in that pool's queue, and
everything else (reads, `/healthz`, the other kind of work) keeps its own threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["WorkPool"]

P = ParamSpec("P")
T = TypeVar("T")


class WorkPool:
    """At most `threads` calls at once; the others wait their turn."""

    def __init__(self, name: str, threads: int) -> None:
        self.name = name
        self.threads = threads
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=f"logmetrics-{name}")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `function` on the pool and wait for it without blocking the event loop."""
        future = self._executor.submit(functools.partial(function, *args, **kwargs))
        return await asyncio.wrap_future(future)

    @property
    def queued(self) -> int:
        """Calls waiting for a thread (an estimate: the executor's own queue)."""
        return self._executor._work_queue.qsize()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
