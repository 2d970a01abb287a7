"""The dashboard: server-rendered pages at `/`, served by the service itself."""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(api: FastAPI) -> None:
    """Add the dashboard's pages and static assets to the service."""
