"""Cross-site and DNS-rebinding protection, for a service that listens on loopback
without tokens by default.

- A browser page on another origin can send a write (`fetch(..., {mode: "no-cors"})`)
  that the browser delivers: writes whose `Origin` header is present and is not the
  service's own (or in `LOGMETRICS_ALLOWED_ORIGINS`) are refused. curl, the shipper
  and the sweep send no `Origin`, so they are never affected.
- A DNS-rebinding page reaches the service under its own host name: requests whose
  `Host` is not an allowed name (`LOGMETRICS_ALLOWED_HOSTS`; loopback names by
  default, any name when the service is bound to a non-loopback address) are refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestGuard"]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestGuard:
    """ASGI middleware: a request from a host or origin not allowed is a 403."""

    def __init__(
        self, app: ASGIApp, allowed_hosts: Iterable[str], allowed_origins: Iterable[str]
    ) -> None:
        self.app = app
        hosts = {host.strip().lower() for host in allowed_hosts if host.strip()}
        self.any_host = "*" in hosts
        self.hosts = frozenset(hosts)
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in allowed_origins if o)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope["headers"]}
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if not self.any_host and _host_name(host) not in self.hosts:
            await _refuse(
                send,
                "host_not_allowed",
                f"this service does not answer to the host {host!r}; "
                "allow it with LOGMETRICS_ALLOWED_HOSTS",
            )
            return
        origin = headers.get(b"origin")
        if origin is not None and scope["method"] not in _READS:
            text = origin.decode("latin-1").rstrip("/").lower()
            if urlsplit(text).netloc != host and text not in self.origins:
                await _refuse(
                    send,
                    "origin_not_allowed",
                    f"writes from the origin {text!r} are refused; "
                    "allow it with LOGMETRICS_ALLOWED_ORIGINS",
                )
                return
        await self.app(scope, receive, send)


def _host_name(host: str) -> str:
    """`host` without its port: `127.0.0.1:8000` -> `127.0.0.1`, `[::1]:80` -> `[::1]`."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if ":" in host else host


async def _refuse(send: Send, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
