"""A cap on request bodies, enforced while they arrive rather than after."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "read_limited"]


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request's body; None, read no further, once it is found to hold more than
    `limit` bytes, as its Content-Length declares or as it arrives (a route whose bodies
    `BodyLimit` exempts has a limit of its own)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            return None
    return bytes(body)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a body above `limit` bytes is a 413 before it is all read.

    Requests for which `exempt(scope)` is true (log chunks, which have a limit of their
    own) pass through untouched.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt: Callable[[Scope], bool]) -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        cut_off = False

        async def counting_receive() -> Message:
            nonlocal received, cut_off
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                cut_off = True
                raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app's answer to a body cut off (FastAPI's own 400, say) gives way to
            # the 413 below; an app reads its body before it answers.
            if not cut_off:
                await send(message)

        with contextlib.suppress(_TooLarge):  # the app may also have swallowed it
            await self.app(scope, counting_receive, guarded_send)
        if cut_off:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "request_too_large",
                "message": f"a request body may hold at most {self.limit} bytes",
                "limit": self.limit,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
