"""AWS's query protocol, as older SDKs speak it to CloudWatch: a form in, XML out.

A request is `application/x-www-form-urlencoded`: `Action=<Operation>&Version=<api
version>&...`, its members named by their paths (`Dimensions.member.1.Name`,
`Statistics.member.2`), every value text. `form_input` reads such a form into the JSON
shape an AWS JSON request of the same operation has, by walking botocore's model of the
input shape, so that one path (`app.aws.endpoint`) checks and serves both: a value that
is not of its shape's type (`Period=soon`) is kept as the text it is, for the model's
check to refuse in AWS's words. `xml_answer` writes an output shape's JSON as the
protocol's XML answer, `xml_error` an error; both are generic over the model, not per
operation.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from app.aws.model import Model

__all__ = ["QueryError", "QueryProtocol", "form_input", "request_id", "xml_answer", "xml_error"]

# The members of a form that name the operation rather than its input.
_ENVELOPE = ("Action", "Version")
# A member's path nests as deep as its shapes do, a handful of levels for CloudWatch.
_MAX_PARTS = 32
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")
# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class QueryError(Exception):
    """A form that is not one the query protocol sends (AWS: MalformedQueryString)."""


@dataclass(frozen=True)
class QueryProtocol:
    """A face's query form: the `Version` a request names, and its answers' namespace."""

    version: str
    xml_namespace: str


@dataclass
class _Node:
    """One segment of the form's member paths: its value, and the segments below it."""

    value: str | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def form_input(model: Model, shape: str | None, form: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The input a form gives, as the JSON an AWS JSON request would carry.

    Args:
        model: the face's model.
        shape: the operation's input shape (None: it takes no input).
        form: the form's (name, value) pairs, in order, `Action` and `Version` among them.

    Returns: the members the input shape has, typed by their shapes where the text reads
        as that type (a timestamp as seconds since the epoch), as text where it does not;
        members the shape lacks are left out, as AWS ignores them.

    Raises: QueryError for a member given twice, a path deeper than any shape, or a list
        index that is not a number from 1.
    """
    root = _Node()
    for name, value in form:
        if name in _ENVELOPE:
            continue
        parts = name.split(".")
        if len(parts) > _MAX_PARTS:
            raise QueryError(f"The parameter {name[:200]!r} nests deeper than any member.")
        node = root
        for part in parts:
            node = node.children.setdefault(part, _Node())
        if node.value is not None:
            raise QueryError(f"The parameter {name[:200]!r} is given more than once.")
        node.value = value
    if shape is None:
        return {}
    given = _read(model, shape, root)
    return given if isinstance(given, dict) else {}


def _read(model: Model, name: str, node: _Node) -> Any:
    shape = model.shapes[name]
    kind = shape["type"]
    if kind in ("structure", "list", "map") and not node.children:
        # `Statistics=` is how botocore sends an empty list; any other text is the wrong
        # type, for the model to say so.
        return [] if kind == "list" and node.value == "" else node.value
    if kind == "structure":
        return {
            member: _read(model, spec["shape"], node.children[member])
            for member, spec in shape.get("members", {}).items()
            if member in node.children
        }
    if kind == "list":
        items = node if shape.get("flattened") else node.children.get("member", _Node())
        return [_read(model, shape["member"]["shape"], item) for item in _indexed(items)]
    if kind == "map":
        entries = node if shape.get("flattened") else node.children.get("entry", _Node())
        found: dict[Any, Any] = {}
        for entry in _indexed(entries):
            key = entry.children.get("key", _Node()).value
            if key is not None and "value" in entry.children:
                found[key] = _read(model, shape["value"]["shape"], entry.children["value"])
        return found
    if node.value is None:
        return {}  # `Period.x=1`: a scalar given members, not of its type
    return _scalar(kind, node.value)


def _indexed(node: _Node) -> list[_Node]:
    """A list's items, `member.1`, `member.2`, ... in the order of their numbers."""
    numbered = []
    for index, item in node.children.items():
        if not index.isascii() or not index.isdigit() or int(index) < 1 or len(index) > 9:
            raise QueryError(f"A list's members are numbered from 1; got {index[:50]!r}.")
        numbered.append((int(index), item))
    return [item for _index, item in sorted(numbered, key=lambda pair: pair[0])]


def _scalar(kind: str, text: str) -> Any:
    """The text as its shape's JSON type, or the text itself where it is not one."""
    if kind in ("integer", "long") and _INTEGER.fullmatch(text):
        return int(text)
    if kind in ("float", "double") and _NUMBER.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "timestamp":
        return _seconds(text)
    return text


def _seconds(text: str) -> float | str:
    """An ISO 8601 time (botocore's form) or epoch seconds as epoch seconds; else the text."""
    if _NUMBER.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # AWS reads a time without a zone as UTC
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):
        return text


def request_id() -> str:
    return str(uuid.uuid4())


def xml_answer(
    model: Model, operation: str, answer: Mapping[str, Any], namespace: str, request: str
) -> bytes:
    """The query protocol's answer: `<OperationResponse>` holding the output shape's
    members in `<OperationResult>` (the model's `resultWrapper`) and the request's id."""
    spec = model.operations[operation]
    root = ElementTree.Element(f"{operation}Response", xmlns=namespace)
    if spec.get("output"):
        result = ElementTree.SubElement(root, spec.get("resultWrapper", f"{operation}Result"))
        _write_members(model, spec["output"], answer, result)
    metadata = ElementTree.SubElement(root, "ResponseMetadata")
    ElementTree.SubElement(metadata, "RequestId").text = request
    return _serialized(root)


def xml_error(code: str, message: str, namespace: str, request: str) -> bytes:
    """The query protocol's error: `<ErrorResponse><Error>` with its type, code and message."""
    root = ElementTree.Element("ErrorResponse", xmlns=namespace)
    error = ElementTree.SubElement(root, "Error")
    ElementTree.SubElement(error, "Type").text = "Sender"
    ElementTree.SubElement(error, "Code").text = _text(code)
    ElementTree.SubElement(error, "Message").text = _text(message)
    ElementTree.SubElement(root, "RequestId").text = request
    return _serialized(root)


def _write_members(
    model: Model, name: str, value: Mapping[str, Any], parent: ElementTree.Element
) -> None:
    shape = model.shapes[name]
    members = shape.get("members", {})
    for member in shape.get("xmlOrder", members):
        if value.get(member) is not None:
            _write(model, members[member]["shape"], value[member], member, parent)


def _write(model: Model, name: str, value: Any, element: str, parent: ElementTree.Element) -> None:
    shape = model.shapes[name]
    kind = shape["type"]
    node = ElementTree.SubElement(parent, element)
    if kind == "structure":
        _write_members(model, name, value, node)
    elif kind == "list":
        for item in value:
            _write(model, shape["member"]["shape"], item, "member", node)
    elif kind == "map":
        for key, item in value.items():
            entry = ElementTree.SubElement(node, "entry")
            _write(model, shape["key"]["shape"], key, "key", entry)
            _write(model, shape["value"]["shape"], item, "value", entry)
    elif kind == "timestamp":
        moment = datetime.fromtimestamp(value, UTC)
        node.text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    elif kind == "boolean":
        node.text = "true" if value else "false"
    elif kind in ("float", "double"):
        node.text = repr(float(value))
    else:
        node.text = _text(str(value))


def _serialized(root: ElementTree.Element) -> bytes:
    written: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return written


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)
