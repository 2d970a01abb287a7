"""The dashboard: server-rendered pages at `/`, served by the service itself.

Pages are Jinja2 templates (`templates/`); charts are drawn in the browser by uPlot,
vendored in `static/vendor/` (see `vendor.mjs`), so no asset comes from anywhere else.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from app.web import auth, pages
from app.web.templating import STATIC_DIR, asset, create_templates

__all__ = ["install"]


def install(api: FastAPI) -> None:
    """Add the dashboard's pages and static assets to the service."""
    api.state.templates = create_templates(signed_in=lambda request: auth.COOKIE in request.cookies)
    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api.include_router(auth.router)
    api.include_router(pages.router)
    api.add_middleware(auth.CookieBearer)

    @api.get("/docs", include_in_schema=False)
    async def read_docs() -> Response:
        # Swagger UI from static/vendor, not a CDN: the docs work offline and behind a
        # firewall, and the page loads nothing from anywhere but this service.
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} API",
            swagger_js_url=asset("vendor/swagger-ui-dist/swagger-ui-bundle.js"),
            swagger_css_url=asset("vendor/swagger-ui-dist/swagger-ui.css"),
            swagger_favicon_url=asset("favicon.svg"),
        )

    @api.exception_handler(auth.LoginRequired)
    async def login_required(_request: Request, exc: auth.LoginRequired) -> Response:
        return auth.login_redirect(exc)
