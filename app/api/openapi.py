"""The OpenAPI document: FastAPI's, plus what our own access control means for it.

Tokens are checked by our dependencies, not by FastAPI's security classes, so the
document would not say that a route takes a bearer token, nor that it can answer 401
(no token, or one that matches nothing) and 403 (a token without the right). This adds
both to every operation but `/healthz`, which never asks.

FastAPI also documents a request it refuses as 422 with its own `HTTPValidationError`,
but our handler answers `ErrorPublic` (`invalid_request`, with `details`): the document
says so, and drops FastAPI's two models, which nothing then names.
"""

from __future__ import annotations

import json
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
_FASTAPIS = ("HTTPValidationError", "ValidationError")
_INVALID = {
    "description": "The request is not valid (`invalid_request`): `message` joins every "
    "problem, and `details` lists each one's `location` and `message`."
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
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                invalid = responses.get("422", {}).get("content", {}).get("application/json")
                if invalid == {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}:
                    responses["422"] = {**_INVALID, "content": error}
                if path in _OPEN:
                    continue
                # `{}`: with access control off no token is needed.
                operation["security"] = [{"bearer": []}, {}]
                for status, text in _ANSWERS.items():
                    responses.setdefault(status, {"description": text, "content": error})
        if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
            for name in _FASTAPIS:
                components.get("schemas", {}).pop(name, None)
        api.openapi_schema = schema
        return schema

    api.openapi = document  # type: ignore[method-assign]
