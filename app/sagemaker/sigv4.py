"""AWS Signature Version 4, verified: who signed a request, and whether it is theirs.

The signer (botocore) and the service compute the same HMAC over a canonical form of the
request; only the holder of the secret can produce it. The scope names the date, region
and service; the time must be within `MAX_SKEW` of ours, as AWS requires.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

__all__ = ["MAX_SKEW", "Credential", "SignatureError", "scope_of", "verify"]

MAX_SKEW = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
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


def scope_of(authorization: str | None) -> Credential | None:
    """The access key and region a request claims, without checking the signature."""
    found = _AUTHORIZATION.match(authorization or "")
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
) -> Credential:
    """The credential that signed the request.

    Args:
        headers: the request's headers, names in lower case.
        secrets: secret access keys by access key id.

    Raises: SignatureError.
    """
    found = _AUTHORIZATION.match(headers.get("authorization", ""))
    if found is None:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    parts = found["credential"].split("/")
    if len(parts) != 5 or parts[3] != "sagemaker" or parts[4] != "aws4_request":
        raise SignatureError("IncompleteSignatureException", "Credential scope is malformed")
    key_id, day, region = parts[0], parts[1], parts[2]
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
    signed_headers = found["headers"].split(";")
    if "host" not in signed_headers or any(name not in headers for name in signed_headers):
        raise SignatureError("IncompleteSignatureException", "Signed headers are missing")
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
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed_headers),
            found["headers"],
            payload,
        ]
    )
    scope = f"{day}/{region}/sagemaker/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (day, region, "sagemaker", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, found["signature"]):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    return Credential(key_id, region)
