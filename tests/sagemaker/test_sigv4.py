"""SigV4 verification against requests botocore itself signs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from app.sagemaker.sigv4 import SignatureError, verify

SECRETS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
BODY = b'{"HyperParameterTuningJobName": "gan"}'


def signed(
    secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", key="AKIDEXAMPLE", region="eu-west-1"
):
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8000/",
        data=BODY,
        headers={
            "X-Amz-Target": "SageMaker.DescribeHyperParameterTuningJob",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(key, secret), "sagemaker", region).add_auth(request)
    request.headers["Host"] = "127.0.0.1:8000"
    return {name.lower(): value for name, value in request.headers.items()}


def check(headers, body=BODY, now=None):
    return verify("POST", "/", "", headers, body, SECRETS, now)


def test_a_request_botocore_signed_is_verified_with_its_region():
    credential = check(signed())
    assert (credential.access_key, credential.region) == ("AKIDEXAMPLE", "eu-west-1")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda h, b: (signed(secret="wrong"), b), "InvalidSignatureException"),
        (lambda h, b: (signed(key="AKIDOTHER"), b), "UnrecognizedClientException"),
        (lambda h, b: (h, b + b" "), "InvalidSignatureException"),  # body changed
        (
            lambda h, b: ({**h, "x-amz-target": "SageMaker.StopTrainingJob"}, b),
            "InvalidSignatureException",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "authorization"}, b),
            "MissingAuthenticationTokenException",
        ),
    ],
    ids=["wrong-secret", "unknown-key", "body-changed", "header-changed", "unsigned"],
)
def test_a_request_not_signed_by_a_known_key_is_refused(change, code):
    headers, body = change(signed(), BODY)
    with pytest.raises(SignatureError) as refused:
        check(headers, body)
    assert refused.value.code == code


def test_a_signature_more_than_five_minutes_off_has_expired():
    headers = signed()
    signed_at = datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert check(headers, now=signed_at + timedelta(minutes=4)).access_key == "AKIDEXAMPLE"
    with pytest.raises(SignatureError, match="Signature expired"):
        check(headers, now=signed_at + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="Signature expired"):
        check(headers, now=signed_at - timedelta(minutes=6))
