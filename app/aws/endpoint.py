"""`POST /`: one endpoint for several AWS services (faces), so that boto3, the AWS CLI and
the SageMaker SDK work against logmetrics with only the endpoint changed.

The face and operation are the `X-Amz-Target` header (`SageMaker.<Operation>`,
`Logs_20140328.<Operation>`, `GraniteServiceVersion20100801.<Operation>`), sent once; the
input is the body, AWS JSON (1.1, or CloudWatch's 1.0). A request without the header
whose body is a form is AWS's query protocol (`app.aws.query`), as older SDKs send
CloudWatch's: the form's `Version` picks the face that takes that form, its `Action` the
operation, and the form is read into the same JSON input, so both forms pass the same
checks. Requests are SigV4-signed, the scope naming the face's service (`sagemaker`,
`logs`, `monitoring`): with access control off any credentials do; with it on, a
configured key must have signed (`LOGMETRICS_AWS_CREDENTIALS`, the same keys for every
face), the signature must cover `Content-Type` and `Host` (and `X-Amz-Target` where it
names the operation; a form's `Action` is in the signed body), and a `read` key may only
call the face's reading operations. The operation is dispatched from the header value
the signature covers, never from another copy of the header.

Every answer is AWS's: the output shape's JSON, or `{"__type", "message"}` with status 400
(403 for a signature refused, 500 for a fault of the service), with the code also in
`x-amzn-query-error` for a face that takes the query form; to a query request, the
protocol's XML answer or `<ErrorResponse>`. A domain error an operation raises is
answered here, by the face's own table (`Face.translate`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from app.aws.face import AwsServiceError, Face
from app.aws.model import message
from app.aws.query import (
    QueryError,
    QueryProtocol,
    form_input,
    request_id,
    xml_answer,
    xml_error,
)
from app.aws.sigv4 import (
    REQUIRED_SIGNED_HEADERS,
    SignatureError,
    joined_headers,
    scope_of,
    verify,
)
from app.config import Settings
from app.errors import LogmetricsError

__all__ = ["parse_credentials", "router"]

log = logging.getLogger("logmetrics")

router = APIRouter(include_in_schema=False)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_XML_CONTENT_TYPE = "text/xml"
_ENVELOPE = ("Action", "Version")
_QUERY_SIGNED_HEADERS = ("content-type", "host")
# A query API's form has a few dozen members; a thousand is more than any request needs.
_MAX_FORM_FIELDS = 1000
# An XML error before the face is known (a Version none serves): no namespace to name.
_ANY_QUERY = QueryProtocol(version="", xml_namespace="")
# A body json.loads could not read, told apart from any JSON value.
_NOT_JSON = object()
_DEFAULT_REGION = "us-east-1"
_REGION = re.compile(r"[a-z0-9-]{1,32}")
# The faces' input shapes nest a dozen levels at most.
_MAX_DEPTH = 32


def parse_credentials(text: str | None) -> dict[str, tuple[str, str]]:
    """`role:ACCESS_KEY_ID:SECRET,...` as {access key id: (role, secret)}.

    Raises: ValueError for an entry that is not that, or a role other than admin or read.
    """
    found: dict[str, tuple[str, str]] = {}
    for entry in filter(None, (part.strip() for part in (text or "").split(","))):
        role, _, rest = entry.partition(":")
        key, _, secret = rest.partition(":")
        if role not in ("admin", "read") or not key or not secret:
            raise ValueError(
                "LOGMETRICS_AWS_CREDENTIALS takes role:ACCESS_KEY_ID:SECRET entries, "
                "role admin or read"
            )
        found[key] = (role, secret)
    return found


@router.post("/")
async def aws_operation(request: Request) -> Response:
    """SageMaker's, CloudWatch Logs' and CloudWatch's operations, as AWS JSON or query."""
    body = await request.body()
    # The headers as the signature covers them: the operation is read from this same
    # joined value, so an X-Amz-Target added beside a signed one cannot choose it.
    headers = joined_headers(request.headers.raw)
    target = headers.get("x-amz-target", "")
    if len(request.headers.getlist("x-amz-target")) > 1 or "," in target:
        return _Wire().error(
            "UnknownOperationException",
            f"X-Amz-Target must be sent once and name one operation; got {target[:200]!r}",
            status=400,
        )
    if not target and _media_type(headers) == FORM_CONTENT_TYPE:
        return await _query_operation(request, headers, body)
    service, _, operation = target.partition(".")
    faces: Mapping[str, Face] = request.app.state.aws_faces
    face = faces.get(service)
    if face is None or operation not in face.handlers:
        return _Wire().error(
            "UnknownOperationException",
            f"logmetrics does not serve the operation {target!r}",
            status=400,
        )
    wire = _Wire(face)
    try:
        given = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        given = _NOT_JSON
    return await _serve(request, headers, body, wire, operation, given, REQUIRED_SIGNED_HEADERS)


async def _query_operation(request: Request, headers: Mapping[str, str], body: bytes) -> Response:
    """A query protocol request (a form naming `Action` and `Version`), answered in XML."""
    faces: Mapping[str, Face] = request.app.state.aws_faces
    try:
        form = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError too
        return _Wire(query=_ANY_QUERY).error(
            "MalformedQueryString", "The request body is not a URL-encoded form.", 400
        )
    envelope = {name: [value for key, value in form if key == name] for name in _ENVELOPE}
    version = envelope["Version"][0] if len(envelope["Version"]) == 1 else None
    action = envelope["Action"][0] if len(envelope["Action"]) == 1 else None
    face = next(
        (face for face in faces.values() if face.query and face.query.version == version),
        None,
    )
    if face is None or face.query is None:
        return _Wire(query=_ANY_QUERY).error(
            "NoSuchVersion",
            f"logmetrics serves no query API of Version {str(version)[:50]!r} (given once)",
            status=400,
        )
    wire = _Wire(face, face.query)
    if action is None or action not in face.handlers:
        return wire.error(
            "InvalidAction",
            f"logmetrics does not serve the action {str(action)[:200]!r} (given once)",
            status=400,
        )
    try:
        given: Any = form_input(face.model, face.model.input_shape(action), form)
    except QueryError as exc:
        return wire.error("MalformedQueryString", str(exc), status=400)
    # The form is the signed body, so Content-Type (the protocol) and Host must be signed.
    return await _serve(request, headers, body, wire, action, given, _QUERY_SIGNED_HEADERS)


async def _serve(
    request: Request,
    headers: Mapping[str, str],
    body: bytes,
    wire: _Wire,
    operation: str,
    given: Any,
    required: tuple[str, ...],
) -> Response:
    """One operation of a face: the signer checked, the input checked against the model,
    the handler run, and its answer or error written as the request's protocol does."""
    face = wire.face
    assert face is not None, "a face is chosen before an operation is served"
    try:
        region, role = _authenticate(request, headers, body, face.signing_name, required)
    except SignatureError as exc:
        return wire.error(exc.code, str(exc), status=403)
    if role == "read" and not operation.startswith(face.read_only):
        return wire.error(
            "AccessDeniedException",
            f"The access key may only {_read_verbs(face.read_only)}; {operation} needs an "
            "admin key.",
            status=400,
        )
    if given is _NOT_JSON:
        return wire.error("SerializationException", "The request body is not JSON.", status=400)
    if not isinstance(given, dict):
        return wire.error("SerializationException", "The request body is not a JSON object.", 400)
    if _deeper_than(given, _MAX_DEPTH):
        # json.loads reads nearly a thousand levels; the checks below recurse.
        return wire.error(
            "SerializationException",
            f"The request body nests JSON more than {_MAX_DEPTH} levels deep.",
            status=400,
        )
    # AWS's JSON protocol reads a member given as null as one left out (botocore never
    # sends one); the operations read `body.get(member, default)` on that promise.
    given = _without_nulls(given)
    unstorable = _unstorable(given, "", face.log_data.get(operation, frozenset()))
    if unstorable is not None:
        return wire.error(face.invalid, unstorable, status=400)
    shape = face.model.input_shape(operation)
    problems = face.model.problems(shape, given) if shape else []
    if problems:
        return wire.error(face.invalid, message(problems), status=400)
    try:
        answer: dict[str, Any] = await run_in_threadpool(face.handlers[operation], given, region)
    except AwsServiceError as exc:
        return wire.error(exc.code, exc.message, status=exc.status)
    except LogmetricsError as exc:
        # The one place domain errors become the face's (never /v1's shape).
        error = face.translate(exc)
        return wire.error(error.code, error.message, status=error.status)
    except Exception:
        # AWS's own answer to a fault of the service, which botocore retries.
        log.exception("internal error on %s.%s", face.target, operation)
        return wire.error(
            "InternalFailure", "internal error; the service log has the details", status=500
        )
    return wire.answer(operation, answer)


@dataclass(frozen=True)
class _Wire:
    """How a request came, and so how it is answered: AWS JSON of the face's version
    (1.1 before a face is known), or the query protocol's XML when `query` is set."""

    face: Face | None = None
    query: QueryProtocol | None = None

    def answer(self, operation: str, answer: dict[str, Any]) -> Response:
        assert self.face is not None, "only an operation of a face answers"
        if self.query is not None:
            xml = xml_answer(
                self.face.model, operation, answer, self.query.xml_namespace, request_id()
            )
            return Response(xml, media_type=_XML_CONTENT_TYPE)
        return JSONResponse(answer, media_type=self._json_type())

    def error(self, code: str, text: str, status: int) -> Response:
        if self.query is not None:
            xml = xml_error(code, text, self.query.xml_namespace, request_id())
            return Response(xml, status_code=status, media_type=_XML_CONTENT_TYPE)
        headers = {}
        if self.face is not None and self.face.query is not None:
            # awsQueryCompatible: the code a query client would have read, which botocore
            # takes from this header in place of `__type`.
            headers["x-amzn-query-error"] = f"{code};Sender"
        return JSONResponse(
            {"__type": code, "message": text},
            status_code=status,
            media_type=self._json_type(),
            headers=headers,
        )

    def _json_type(self) -> str:
        version = self.face.json_version if self.face is not None else "1.1"
        return f"application/x-amz-json-{version}"


def _authenticate(
    request: Request,
    headers: Mapping[str, str],
    body: bytes,
    signing_name: str,
    required: tuple[str, ...],
) -> tuple[str, str]:
    """The region of the request's scope, and the signer's role (admin when access
    control is off).

    Args:
        headers: the request's headers as `joined_headers` reads them.
        signing_name: the service the scope must name.
        required: the headers the signature must cover.

    Raises: SignatureError.
    """
    settings: Settings = request.app.state.settings
    credentials = parse_credentials(settings.aws_credentials)
    if not credentials and not request.app.state.tokens.enabled:
        claimed = scope_of(headers.get("authorization"))
        return _region(claimed.region if claimed else _DEFAULT_REGION), "admin"
    signer = verify(
        request.method,
        request.url.path,
        request.url.query,
        headers,
        body,
        {key: secret for key, (_role, secret) in credentials.items()},
        service=signing_name,
        required=required,
    )
    return _region(signer.region), credentials[signer.access_key][0]


def _read_verbs(prefixes: tuple[str, ...]) -> str:
    """`describe and list`: what a read key may do, from the operations' prefixes."""
    verbs = [prefix.lower() for prefix in prefixes]
    return ", ".join(verbs[:-1]) + " and " + verbs[-1] if len(verbs) > 1 else verbs[0]


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _region(claimed: str) -> str:
    """The region for ARNs: the scope's, if it is one an ARN can hold."""
    return claimed if _REGION.fullmatch(claimed) else _DEFAULT_REGION


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays in `value` nest more than `limit` levels (no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if children and depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _without_nulls(value: Any) -> Any:
    """`value` with every object member that is null left out, at any depth."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _unstorable(value: Any, where: str, log_data: frozenset[str]) -> str | None:
    """Why a string in the request cannot be kept (NUL, a lone surrogate), if one cannot;
    the values of members named in `log_data` are a log's, and kept whatever they hold."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            return (
                f"Value at '{where or 'request'}' failed to satisfy constraint: Member must "
                "not contain NUL or a lone surrogate"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(key, where, log_data)
            if not found and key not in log_data:
                found = _unstorable(item, f"{where}.{key}".strip("."), log_data)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            found = _unstorable(item, f"{where}.{index}.member", log_data)
            if found:
                return found
    return None
