"""SigV4 as the SageMaker face has always imported it; the one implementation, shared by
every AWS face, is `app.aws.sigv4`."""

from app.aws.sigv4 import (
    MAX_SKEW,
    REQUIRED_SIGNED_HEADERS,
    Credential,
    SignatureError,
    joined_headers,
    scope_of,
    verify,
)

__all__ = [
    "MAX_SKEW",
    "REQUIRED_SIGNED_HEADERS",
    "Credential",
    "SignatureError",
    "joined_headers",
    "scope_of",
    "verify",
]
