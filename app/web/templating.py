"""Jinja2 templates and the filters the pages format values with."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from app.records import ObjectiveType

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "TemplatesDep", "create_templates"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
MISSING = "\u2013"  # an en dash: no value


def create_templates(signed_in: Callable[[Request], bool]) -> Jinja2Templates:
    """The pages' templates; `signed_in` tells whether a request carries a sign-in cookie."""

    def context(request: Request) -> dict[str, Any]:
        return {"now": datetime.now(UTC), "signed_in": signed_in(request)}

    templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[context])
    env = templates.env
    env.filters.update(number=number, when=when, ago=ago, duration=duration)
    # The records' enums, so that templates compare with them rather than their text.
    env.globals.update(asset=asset, vendor_integrity=vendor_integrity, ObjectiveType=ObjectiveType)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}
    return templates


def number(value: float | None) -> str:
    """A metric value as people read it: six significant digits, no trailing noise."""
    if value is None:
        return MISSING
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{value:g}"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.4e}"
    return f"{value:.6g}"


def when(moment: datetime | None) -> str:
    if moment is None:
        return MISSING
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return MISSING
    return duration((now - moment).total_seconds()) + " ago"


def duration(seconds: float | None) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`, `3 d 4 h`."""
    if seconds is None:
        return MISSING
    whole = max(0, int(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@cache
def asset(path: str) -> str:
    """The URL of a static file, versioned by its content so browsers never keep a stale one."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


@cache
def vendor_integrity(package: str, file: str) -> str:
    """The Subresource Integrity of a vendored file, as recorded by `npm run vendor`."""
    manifest = json.loads((STATIC_DIR / "vendor" / "vendor.json").read_text())
    digest: str = manifest[package]["files"][file]
    return digest


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
