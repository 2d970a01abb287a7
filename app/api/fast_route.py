"""A route whose common request skips FastAPI's per-request machinery.

A log chunk is the one request a fleet sends thousands of times a second, and for a
4 KB chunk FastAPI's work around the handler (solving the dependency tree, a thread-pool
hop for each plain `def` dependency, validating the answer against its model) cost as
much as parsing and storing the chunk. `FastPathRoute` is still an `APIRoute`: the
OpenAPI document describes it from its endpoint as before, and every request its fast
path does not take (unusual parameters, anything to be refused with a 422) runs
through the endpoint exactly as FastAPI would run it, so the two cannot answer a
request differently where the fast path declines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["FastPath", "FastPathRoute"]

# Answers a request, or returns None, having read nothing of it, to leave it to FastAPI.
FastPath = Callable[[Request], Awaitable[Response | None]]


class FastPathRoute(APIRoute):
    """An `APIRoute` that offers each request to `fast_path` first (set it on a
    subclass). Domain errors the fast path raises reach the app's exception handlers,
    as an endpoint's do."""

    fast_path: ClassVar[FastPath]

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        fast = type(self).fast_path

        async def handle(request: Request) -> Response:
            answer = await fast(request)
            return answer if answer is not None else await full(request)

        return handle
