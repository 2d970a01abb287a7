"""`logmetrics serve`: one service process, or several sharing one database."""

from __future__ import annotations

import logging
import os
import sys

from sqlalchemy.engine import make_url

from app.config import Settings

__all__ = ["serve"]

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
        f"{'on' if tokens else 'off'}",
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
        uvicorn.run("app.main:create_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    else:
        from app.main import create_app

        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
    return 0


def _shown(url: str) -> str:
    """The database URL, its password hidden."""
    return make_url(url).render_as_string(hide_password=True)
