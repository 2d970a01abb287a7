"""`logmetrics serve` and `logmetrics db`: the service and its database's schema."""

from __future__ import annotations

import argparse

from app.cli.options import Commands

__all__ = ["register"]


def register(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument(
        "--database-url",
        help="a SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB "
        "(default: LOGMETRICS_DATABASE_URL, else sqlite:///data/logmetrics.db)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="what the service logs (default info)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="service processes sharing the port and the database (default 1)",
    )
    serve.set_defaults(handler=_serve)

    database = commands.add_parser("db", help="the database's schema")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the schema to this version's (the service does it at start)"),
        ("current", "print the schema revision of the database and of this version"),
    ):
        sub = database_commands.add_parser(name, help=text)
        sub.add_argument("--database-url", help="default: LOGMETRICS_DATABASE_URL or ./data/")
    database.set_defaults(handler=_db)


def _serve(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    from app.serve import serve

    return serve(args.host, args.port, args.log_level, args.workers, args.database_url)


def _db(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    from sqlalchemy import create_engine

    from app.config import Settings
    from app.storage.migrations import HEAD, current_revision, upgrade
    from app.storage.sql.engine import Database

    url = args.database_url or Settings().database_url
    if args.db_command == "current":
        engine = create_engine(url)
        print(f"database: {current_revision(engine) or 'empty'}; this version: {HEAD}")
        engine.dispose()
        return 0
    database = Database(url)  # makes a SQLite file and its folder as the service does
    try:
        before, after = upgrade(database.engine)
    finally:
        database.close()
    print(f"schema: {before or 'empty'} -> {after}")
    return 0
