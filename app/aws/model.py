"""An AWS service's model (the part logmetrics serves), and checking input against it.

Each face vendors botocore's own model of the operations it serves and the shapes they
reach (`tests/sagemaker/make_model.py` writes them). botocore checks little before it
sends a request (required members, types, minimums), so the service checks every
constraint of the input shapes itself: types, required members, enums, patterns, lengths
and ranges, answering as AWS does ("1 validation error detected: Value ... at ... failed
to satisfy constraint: ...").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import regex

__all__ = ["Model", "message", "read_model"]

_MAX_REPORTED = 10


class Model:
    """A service's model (botocore's JSON, as `tests/sagemaker/make_model.py` writes it).

    Args:
        raw: the model's JSON.
        wider_patterns: patterns that replace the model's, by shape name, where
            logmetrics takes more than the service.
        narrower_rules: further checks by shape name, where it takes less: each returns
            the broken rule's sentence (following "Member"), or None.
    """

    def __init__(
        self,
        raw: Mapping[str, Any],
        wider_patterns: Mapping[str, str] | None = None,
        narrower_rules: Mapping[str, Callable[[str], str | None]] | None = None,
    ) -> None:
        wider = wider_patterns or {}
        self.operations: Mapping[str, Mapping[str, Any]] = raw["operations"]
        self.shapes: Mapping[str, Mapping[str, Any]] = {
            name: {**shape, "pattern": wider[name]} if name in wider else shape
            for name, shape in raw["shapes"].items()
        }
        self._narrower_rules = narrower_rules or {}

    def input_shape(self, operation: str) -> str | None:
        found: str | None = self.operations[operation]["input"]
        return found

    def problems(self, shape: str, value: Any) -> list[str]:
        """Every way `value` breaks `shape`, in SageMaker's words."""
        found: list[str] = []
        self._check(shape, value, "", found)
        return found

    def _check(self, name: str, value: Any, where: str, found: list[str]) -> None:
        shape = self.shapes[name]
        kind = shape["type"]
        if not _of_type(kind, value):
            found.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                f"Member must be of type {kind}"
            )
            return
        if kind == "structure":
            for member in shape.get("required", ()):
                if value.get(member) is None:
                    found.append(
                        f"Value null at '{_path(where, member)}' failed to satisfy constraint: "
                        "Member must not be null"
                    )
            for member, spec in shape.get("members", {}).items():
                if value.get(member) is not None:
                    self._check(spec["shape"], value[member], _path(where, member), found)
            return
        size = len(value) if kind in ("string", "list", "map") else None
        if size is not None:
            if "min" in shape and size < shape["min"]:
                found.append(
                    _constraint(
                        value,
                        where,
                        f"Member must have length greater than or equal to {shape['min']}",
                    )
                )
            if "max" in shape and size > shape["max"]:
                found.append(
                    _constraint(
                        value,
                        where,
                        f"Member must have length less than or equal to {shape['max']}",
                    )
                )
        elif kind in ("integer", "long", "float", "double"):
            if "min" in shape and value < shape["min"]:
                found.append(
                    _constraint(
                        value,
                        where,
                        f"Member must have value greater than or equal to {shape['min']}",
                    )
                )
            if "max" in shape and value > shape["max"]:
                found.append(
                    _constraint(
                        value, where, f"Member must have value less than or equal to {shape['max']}"
                    )
                )
        if kind == "string":
            if "enum" in shape and value not in shape["enum"]:
                found.append(
                    _constraint(
                        value,
                        where,
                        f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]",
                    )
                )
            if "pattern" in shape and _pattern(shape["pattern"]).fullmatch(value) is None:
                found.append(
                    _constraint(
                        value,
                        where,
                        f"Member must satisfy regular expression pattern: {shape['pattern']}",
                    )
                )
            rule = self._narrower_rules.get(name)
            problem = rule(value) if rule is not None else None
            if problem is not None:
                found.append(_constraint(value, where, f"Member {problem}"))
        elif kind == "list":
            for index, item in enumerate(value, 1):
                self._check(shape["member"]["shape"], item, f"{where}.{index}.member", found)
        elif kind == "map":
            for key, item in value.items():
                self._check(shape["key"]["shape"], key, f"{where}.key", found)
                self._check(shape["value"]["shape"], item, f"{where}.{key}", found)


def message(problems: list[str]) -> str:
    """AWS's message for validation errors (at most ten are named)."""
    count = len(problems)
    shown = "; ".join(problems[:_MAX_REPORTED])
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: {shown}"


def read_model(path: Path) -> Mapping[str, Any]:
    """A model file's JSON."""
    found: Mapping[str, Any] = json.loads(path.read_text())
    return found


@functools.lru_cache(maxsize=512)
def _pattern(pattern: str) -> regex.Pattern[str]:
    # AWS's patterns are Java's: `.` stops at a line end, and the `regex` module reads
    # \p{...} classes as Java does.
    return regex.compile(pattern)


def _of_type(kind: str, value: Any) -> bool:
    if kind in ("structure", "map"):
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double", "timestamp"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True  # blob and the rest: not in these operations' input


def _path(where: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{where}.{name}" if where else name


def _constraint(value: Any, where: str, rule: str) -> str:
    return f"Value {_show(value)} at '{where}' failed to satisfy constraint: {rule}"


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"'{text[:100]}'"
