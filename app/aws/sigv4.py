"""AWS Signature Version 4, verified: who signed a request, and whether it is theirs.

The signer (botocore) and the service compute the same HMAC over a canonical form of the
request; only the holder of the secret can produce it. The scope names the date, region
and service; the time must be within `MAX_SKEW` of ours, as AWS requires.

A header sent more than once is one value to SigV4: its values, each trimmed and with
inner runs of whitespace collapsed, joined by commas in the order they came
(`joined_headers`). The caller must act on exactly those joined values, the ones the
signature covers; reading the first of several headers, or the last, lets a captured
request carry an unsigned value past the check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

__all__ = [
    "MAX_SKEW",
    "REQUIRED_SIGNED_HEADERS",
    "Credential",
    "SignatureError",
    "joined_headers",
    "scope_of",
    "verify",
]

MAX_SKEW = timedelta(minutes=5)
# What an AWS JSON request must sign: `x-amz-target` chooses the operation and
# `content-type` the protocol, so a signature that leaves either out could be moved onto
# another operation; `host` binds it to this service.
REQUIRED_SIGNED_HEADERS = ("content-type", "host", "x-amz-target")
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*"
)


class SignatureError(Exception):
    """The request is not signed by a known key; `code` is AWS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Credential:
    """Who signed, and in which region: from the Authorization header's scope."""

    access_key: str
    region: str


def joined_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers as SigV4 reads them: names in lower case, the values of a
    repeated header trimmed, inner whitespace collapsed, and joined with commas in order.

    Args:
        raw: the headers as they came, in order (ASGI's `(name, value)` byte pairs);
            bytes are read as Latin-1, as HTTP defines them.

    Returns: each header name once, with its one value.
    """
    values: dict[str, list[str]] = {}
    for name, value in raw:
        values.setdefault(name.decode("latin-1").lower(), []).append(
            # str.split() as botocore trims: the signer's rule, not a stricter one.
            " ".join(value.decode("latin-1").split())
        )
    return {name: ",".join(found) for name, found in values.items()}


def scope_of(authorization: str | None) -> Credential | None:
    """The access key and region a request claims, without checking the signature."""
    found = _AUTHORIZATION.fullmatch(authorization or "")
    if found is None:
        return None
    parts = found["credential"].split("/")
    if len(parts) != 5:
        return None
    return Credential(parts[0], parts[2])


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime | None = None,
    *,
    service: str = "sagemaker",
    required: Collection[str] = REQUIRED_SIGNED_HEADERS,
) -> Credential:
    """The credential that signed the request.

    Args:
        headers: the request's headers as `joined_headers` gives them; the caller acts on
            these same values.
        secrets: secret access keys by access key id.
        now: the service's time (default: the clock's).
        service: the service the credential's scope must name (`sagemaker`, `logs`; each face
            passes its own).
        required: headers the signature must cover.

    Returns: the signer's access key and the region of its scope.

    Raises: SignatureError, with AWS's code: MissingAuthenticationTokenException (no
        SigV4 Authorization header), IncompleteSignatureException (a malformed scope or
        date, a required header left unsigned), UnrecognizedClientException (an unknown
        key), InvalidSignatureException (a wrong signature, body hash or time).
    """
    found = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if found is None:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    parts = found["credential"].split("/")
    if len(parts) != 5 or parts[3] != service or parts[4] != "aws4_request":
        raise SignatureError(
            "IncompleteSignatureException",
            f"Credential scope is malformed: it must be ACCESS_KEY/DATE/REGION/{service}/"
            "aws4_request",
        )
    key_id, day, region = parts[0], parts[1], parts[2]
    signed_headers = found["headers"].split(";")
    unsigned = sorted(set(required) - set(signed_headers))
    if unsigned:
        raise SignatureError(
            "IncompleteSignatureException",
            f"SignedHeaders must include {', '.join(sorted(required))}; "
            f"{', '.join(unsigned)} is not signed",
        )
    if any(name not in headers for name in signed_headers):
        raise SignatureError(
            "IncompleteSignatureException", "A header named in SignedHeaders is missing"
        )
    secret = secrets.get(key_id)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
        ) from None
    if stamp[:8] != day:
        raise SignatureError(
            "InvalidSignatureException", "Credential date does not match X-Amz-Date"
        )
    current = now or datetime.now(UTC)
    if abs(current - signed_at) > MAX_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is more than 5 minutes from the service's time "
            f"{current:%Y%m%dT%H%M%SZ}",
        )
    payload = hashlib.sha256(body).hexdigest()
    if headers.get("x-amz-content-sha256", payload) != payload:
        raise SignatureError(
            "InvalidSignatureException", "X-Amz-Content-Sha256 does not match the body"
        )
    canonical = "\n".join(
        [
            method,
            quote(path or "/", safe="/~"),
            "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                for k, v in sorted(parse_qsl(query, keep_blank_values=True))
            ),
            "".join(f"{name}:{headers[name]}\n" for name in signed_headers),
            found["headers"],
            payload,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, found["signature"]):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    return Credential(key_id, region)
