"""Sections of bench/RESULTS.md that a phase of its own writes (`python -m bench.NAME`),
between markers, and that the main benchmark keeps when it rewrites the file."""

from __future__ import annotations

__all__ = ["read_section", "replace_section"]


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: written by python -m bench.{name} -->", f"<!-- /{name} -->"


def replace_section(text: str, name: str, section: str | None) -> str:
    """`text` with its `name` section replaced by `section`, or appended; None keeps the
    section `text` has."""
    if section is None:
        return text
    begin, end_marker = _markers(name)
    start, end = text.find(begin), text.find(end_marker)
    block = f"{begin}\n{section.rstrip()}\n{end_marker}\n"
    if start >= 0 and end > start:
        return text[:start] + block + text[end + len(end_marker) :].lstrip("\n")
    return text.rstrip("\n") + "\n\n" + block


def read_section(text: str, name: str) -> str | None:
    """The `name` section of `text`, if it has one."""
    begin, end_marker = _markers(name)
    start, end = text.find(begin), text.find(end_marker)
    return text[start + len(begin) : end].strip("\n") if start >= 0 and end > start else None
