"""The SQL backend: SQLite by default, PostgreSQL for fleets (any SQLAlchemy 2 database
with JSON columns works through the generic dialect)."""

from app.storage.sql.storage import SqlStorage

__all__ = ["SqlStorage"]
