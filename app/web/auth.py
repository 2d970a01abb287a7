"""Signing in to the dashboard when access control is on.

A browser cannot send `Authorization: Bearer` when it follows a link, so the dashboard
takes the token once, on `/login`, and keeps it in an HttpOnly, SameSite=Strict cookie
that the pages check with the same token book as the API. The pages' scripts read the
JSON API with that cookie through `CookieBearer`. Without configured tokens everyone may
read, as in the API, and these routes only redirect home.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import StorageDep, TokensDep
from app.auth import Action
from app.errors import Forbidden, Unauthenticated
from app.web.templating import TemplatesDep

__all__ = ["COOKIE", "CookieBearer", "LoginRequired", "ViewerDep", "router"]

COOKIE = "logmetrics_token"
_MAX_FORM_BYTES = 4096
# What the pages' scripts call: reads, and the dry run (which stores nothing).
_READS = frozenset({"GET", "HEAD"})
_DRY_RUN = "/v1/parse"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """The page needs a token the browser has not given (or one that may not read)."""

    def __init__(self, next_path: str, message: str) -> None:
        super().__init__(message)
        self.next_path = next_path
        self.message = message


def require_viewer(request: Request, storage: StorageDep, tokens: TokensDep) -> None:
    """Raises: LoginRequired when tokens are on and the cookie's token may not read."""
    if not tokens.enabled:
        return
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE)
    try:
        tokens.identify(token, storage.run_token_hash).authorize(Action.READ)
    except (Unauthenticated, Forbidden) as exc:
        raise LoginRequired(_local_path(request.url.path), exc.message) from exc


ViewerDep = Annotated[None, Depends(require_viewer)]


@router.get("/login")
def read_login(
    request: Request, tokens: TokensDep, templates: TemplatesDep, next: str = "/"
) -> Response:
    """The sign-in form."""
    if not tokens.enabled:
        return RedirectResponse(_local_path(next), status_code=303)
    return templates.TemplateResponse(
        request, "login.html", {"next": _local_path(next), "message": None}
    )


@router.post("/login")
async def create_login(
    request: Request, storage: StorageDep, tokens: TokensDep, templates: TemplatesDep
) -> Response:
    """Check the token and keep it in a cookie."""
    body = (await request.body())[:_MAX_FORM_BYTES].decode(errors="replace")
    form = parse_qs(body)
    token = form.get("token", [""])[0].strip()
    next_path = _local_path(form.get("next", ["/"])[0])
    try:
        tokens.identify(token, storage.run_token_hash).authorize(Action.READ)
    except (Unauthenticated, Forbidden) as exc:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": next_path, "message": exc.message},
            status_code=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        # https as the service sees it (X-Forwarded-Proto from a trusted proxy counts), or
        # always when told it is served over https (a TLS proxy that forwards nothing).
        secure=request.url.scheme == "https" or request.app.state.settings.secure_cookies,
    )
    return response


@router.post("/logout")
def create_logout() -> Response:
    """Forget the token."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def login_redirect(exc: LoginRequired) -> Response:
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


def _local_path(path: str) -> str:
    # Only a path on this site: `//host` or `https://host` would make /login an open
    # redirect, and browsers drop tabs and newlines from URLs (`/\t/host` is `//host`).
    unsafe = "\\" in path or any(ord(char) < 0x21 for char in path)
    if not path.startswith("/") or path.startswith("//") or unsafe:
        return "/"
    return path


class CookieBearer:
    """ASGI middleware: a read of the JSON API without `Authorization` but with the
    dashboard's cookie carries the cookie's token as `Bearer`, so the pages' `fetch`
    calls pass the API's own token check.

    Writes never take the cookie: only GET, HEAD and the dry run `POST /v1/parse` do, so
    even a browser that ignores SameSite cannot be made to create a job or post logs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api_read(scope):
            headers: list[tuple[bytes, bytes]] = list(scope["headers"])
            names = {name for name, _value in headers}
            if b"authorization" not in names and b"cookie" in names:
                cookies = b"; ".join(v for n, v in headers if n == b"cookie").decode("latin-1")
                token = cookie_parser(cookies).get(COOKIE)
                if token:
                    headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
                    scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def _is_api_read(scope: Scope) -> bool:
    path = str(scope["path"])
    if not path.startswith("/v1/"):
        return False
    return scope["method"] in _READS or (scope["method"] == "POST" and path == _DRY_RUN)
