"""The dashboard: server-rendered pages at `/`, served by the service itself.

Pages are Jinja2 templates (`templates/`); charts are drawn in the browser by uPlot,
vendored in `static/vendor/` (see `vendor.mjs`), so no asset comes from anywhere else.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from app.web import auth, pages
from app.web.templating import STATIC_DIR, create_templates

__all__ = ["install"]


def install(api: FastAPI) -> None:
    """Add the dashboard's pages and static assets to the service."""
    api.state.templates = create_templates(signed_in=lambda request: auth.COOKIE in request.cookies)
    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api.include_router(auth.router)
    api.include_router(pages.router)
    api.add_middleware(auth.CookieBearer)

    @api.exception_handler(auth.LoginRequired)
    async def login_required(_request: Request, exc: auth.LoginRequired) -> Response:
        return auth.login_redirect(exc)
