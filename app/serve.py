"""`logmetrics serve`: one service process, or several sharing one database."""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from app.config import Settings
from app.parsing import core_status

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["serve", "serving_app"]

log = logging.getLogger("logmetrics")


def serve(
    host: str, port: int, log_level: str, workers: int = 1, database_url: str | None = None
) -> int:
    """Serve until SIGTERM or Ctrl-C; requests in flight finish first.

    With `workers` > 1, uvicorn starts that many processes on one socket. Each builds
    its own app from the environment, so the database URL given here is passed on
    through `LOGMETRICS_DATABASE_URL`. Every write is a transaction that checks what it
    read (stream offsets, the run's status) under the database's locks, so processes
    need share nothing but the database: on PostgreSQL they write at once, on SQLite
    they take turns at its one write lock (WAL mode, `busy_timeout`).
    """
    import uvicorn

    if database_url:
        os.environ["LOGMETRICS_DATABASE_URL"] = database_url
    if host not in ("127.0.0.1", "localhost", "::1"):
        # Reached by other machines under names this one cannot know; rebinding is a
        # threat to loopback services, and a network-facing one wants tokens anyway.
        os.environ.setdefault("LOGMETRICS_ALLOWED_HOSTS", "*")
    settings = Settings()
    if workers > 1 and make_url(settings.database_url).get_backend_name() == "sqlite":
        log.warning(
            "%d workers share one SQLite file: safe, but they take turns to write; "
            "use PostgreSQL for a fleet",
            workers,
        )
    tokens = bool(settings.api_tokens or settings.token_file)
    print(
        f"logmetrics: serving http://{host}:{port} with {workers} process"
        f"{'es' if workers > 1 else ''} on {_shown(settings.database_url)}; access control "
        f"{'on' if tokens else 'off'}; parsing: {core_status()}",
        file=sys.stderr,
        flush=True,
    )
    options = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "timeout_graceful_shutdown": 30,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if workers > 1:
        uvicorn.run("app.serve:serving_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(serving_app(settings), **options)  # type: ignore[arg-type]
    return 0


def serving_app(settings: Settings | None = None) -> FastAPI:
    """The app a service process runs, its start-up objects set aside from the
    garbage collector.

    What the imports and the app built (modules, routes, models: some hundreds of
    thousands of objects) lives as long as the process, and a full collection visits
    every tracked object: while a 20 MB log was ingested in 1 MiB chunks, the parser's
    allocations set off four such passes of 60 to 80 ms each (timed by a gc callback).
    `gc.freeze` moves what exists now to a permanent generation that collections skip;
    what is made while serving is collected as before.
    """
    from app.main import create_app

    app = create_app(settings)
    gc.freeze()
    return app


def _shown(url: str) -> str:
    """The database URL, its password hidden."""
    return make_url(url).render_as_string(hide_password=True)
