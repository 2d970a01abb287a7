"""The OpenAPI document: FastAPI's, plus what our own access control means for it.

Tokens are checked by our dependencies, not by FastAPI's security classes, so the
document would not say that a route takes a bearer token, nor that it can answer 401
(no token, or one that matches nothing) and 403 (a token without the right). This adds
both to every operation but `/healthz`, which never asks.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["install_openapi"]

_OPEN = frozenset({"/healthz"})
_ANSWERS = {
    "401": "Access control is on and the request has no token, or one that matches nothing.",
    "403": "The token may not do this (a read token writing, a run's token on another run), "
    "or the request's Host or Origin is not allowed.",
}


def install_openapi(api: FastAPI) -> None:
    def document() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = get_openapi(
            title=api.title, version=api.version, summary=api.summary, routes=api.routes
        )
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An admin or read token (LOGMETRICS_API_TOKENS), or a run's own "
            "ingest token; needed only when access control is on.",
        }
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
        for path, operations in schema.get("paths", {}).items():
            if path in _OPEN:
                continue
            for operation in operations.values():
                # `{}`: with access control off no token is needed.
                operation["security"] = [{"bearer": []}, {}]
                responses = operation.setdefault("responses", {})
                for status, text in _ANSWERS.items():
                    responses.setdefault(status, {"description": text, "content": error})
        api.openapi_schema = schema
        return schema

    api.openapi = document  # type: ignore[method-assign]
