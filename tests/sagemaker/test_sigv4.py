"""SigV4 verification against requests botocore itself signs, then tampered with.

Headers travel as (name, value) pairs, so that a header can be sent twice, as an attacker
resending a captured request would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from app.aws.sigv4 import SignatureError, joined_headers, verify
from tests.sagemaker.conftest import sagemaker_client, tuning_request

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SECRETS = {"AKIDEXAMPLE": SECRET}
BODY = b'{"HyperParameterTuningJobName": "gan"}'
DESCRIBE = "SageMaker.DescribeHyperParameterTuningJob"
DELETE = "SageMaker.DeleteHyperParameterTuningJob"
JSON_11 = "application/x-amz-json-1.1"

Headers = list[tuple[str, str]]


def signed(
    url: str = "http://127.0.0.1:8000/",
    body: bytes = BODY,
    headers: Sequence[tuple[str, str]] = (("X-Amz-Target", DESCRIBE), ("Content-Type", JSON_11)),
    key: str = "AKIDEXAMPLE",
    secret: str = SECRET,
    region: str = "eu-west-1",
) -> Headers:
    """The headers botocore sends for a request it signs, Host included, in order."""
    request = AWSRequest(method="POST", url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders: a second assignment adds a header
    SigV4Auth(Credentials(key, secret), "sagemaker", region).add_auth(request)
    return [("Host", httpx.URL(url).netloc.decode()), *request.headers.items()]


def check(headers: Headers, body: bytes = BODY, now: datetime | None = None):
    raw = [(name.encode(), value.encode("latin-1")) for name, value in headers]
    return verify("POST", "/", "", joined_headers(raw), body, SECRETS, now)


def replaced(headers: Headers, name: str, value: str) -> Headers:
    return [(n, value if n.lower() == name else v) for n, v in headers]


def without(headers: Headers, name: str) -> Headers:
    return [(n, v) for n, v in headers if n.lower() != name]


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
            lambda h, b: (replaced(h, "x-amz-target", "SageMaker.StopTrainingJob"), b),
            "InvalidSignatureException",
        ),
        (lambda h, b: (without(h, "authorization"), b), "MissingAuthenticationTokenException"),
        # A second target beside the signed one, before it or after it: the joined value
        # is not what was signed.
        (lambda h, b: ([("X-Amz-Target", DELETE), *h], b), "InvalidSignatureException"),
        (lambda h, b: ([*h, ("X-Amz-Target", DELETE)], b), "InvalidSignatureException"),
        (
            lambda h, b: ([*h, ("Authorization", dict(h)["Authorization"])], b),
            "MissingAuthenticationTokenException",
        ),
    ],
    ids=[
        "wrong-secret",
        "unknown-key",
        "body-changed",
        "header-changed",
        "unsigned",
        "target-prepended",
        "target-appended",
        "authorization-twice",
    ],
)
def test_a_request_not_signed_by_a_known_key_is_refused(change, code):
    headers, body = change(signed(), BODY)
    with pytest.raises(SignatureError) as refused:
        check(headers, body)
    assert refused.value.code == code


@pytest.mark.parametrize("left_out", ["X-Amz-Target", "Content-Type"])
def test_a_signature_that_leaves_out_the_target_or_content_type_is_incomplete(left_out):
    # Signed without the header, which is then attached: the signature itself is right.
    given = {"X-Amz-Target": DESCRIBE, "Content-Type": JSON_11}
    headers = signed(headers=[(n, v) for n, v in given.items() if n != left_out])
    headers.append((left_out, given[left_out]))
    with pytest.raises(SignatureError) as refused:
        check(headers)
    assert refused.value.code == "IncompleteSignatureException"
    assert str(refused.value) == (
        "SignedHeaders must include content-type, host, x-amz-target; "
        f"{left_out.lower()} is not signed"
    )


def test_a_scope_for_another_service_is_refused_unless_that_service_is_expected():
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8000/",
        data=BODY,
        headers={"X-Amz-Target": "Logs_20140328.PutLogEvents", "Content-Type": JSON_11},
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", SECRET), "logs", "eu-west-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:8000"
    with pytest.raises(SignatureError, match="Credential scope is malformed"):
        verify("POST", "/", "", headers, BODY, SECRETS)
    assert verify("POST", "/", "", headers, BODY, SECRETS, service="logs").region == "eu-west-1"


def test_a_header_repeated_and_signed_verifies_as_its_joined_value():
    extra = [("X-Amz-Meta-Note", "first"), ("X-Amz-Meta-Note", "  second   value ")]
    headers = signed(headers=[("X-Amz-Target", DESCRIBE), ("Content-Type", JSON_11), *extra])
    assert check(headers).access_key == "AKIDEXAMPLE"
    raw = [(n.encode(), v.encode()) for n, v in headers]
    assert joined_headers(raw)["x-amz-meta-note"] == "first,second value"
    # The same values in the other order are another request.
    swapped = [h for h in headers if h not in extra] + extra[::-1]
    with pytest.raises(SignatureError, match="does not match"):
        check(swapped)


def test_a_signature_more_than_five_minutes_off_has_expired():
    headers = signed()
    stamp = dict(headers)["X-Amz-Date"]
    signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert check(headers, now=signed_at + timedelta(minutes=4)).access_key == "AKIDEXAMPLE"
    with pytest.raises(SignatureError, match="Signature expired"):
        check(headers, now=signed_at + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="Signature expired"):
        check(headers, now=signed_at - timedelta(minutes=6))


# Against a live service with access control on: a captured admin-signed request, resent.

ADMIN_KEY, ADMIN_SECRET = "AKIDADMIN", "admin-secret"


@pytest.fixture
def guarded(start_service):
    service = start_service(aws_credentials=f"admin:{ADMIN_KEY}:{ADMIN_SECRET}")
    admin = sagemaker_client(service.url, ADMIN_KEY, ADMIN_SECRET)
    admin.create_hyper_parameter_tuning_job(**tuning_request("victim"))
    return service, admin


def captured(url: str, target: str = DESCRIBE) -> tuple[bytes, Headers]:
    """What an eavesdropper holds: an admin's signed request, as sent."""
    body = b'{"HyperParameterTuningJobName": "victim"}'
    headers = signed(
        url=url + "/",
        body=body,
        headers=[("X-Amz-Target", target), ("Content-Type", JSON_11)],
        key=ADMIN_KEY,
        secret=ADMIN_SECRET,
    )
    return body, without(headers, "host")  # httpx sends the same Host itself


def post(url: str, body: bytes, headers: Headers) -> httpx.Response:
    return httpx.post(url + "/", content=body, headers=headers)


def test_the_captured_request_itself_is_served(guarded):
    service, _admin = guarded
    answer = post(service.url, *captured(service.url))
    assert answer.status_code == 200, answer.text
    assert answer.json()["HyperParameterTuningJobName"] == "victim"


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(
    "target", ["SageMaker.StopHyperParameterTuningJob", DELETE], ids=["stop", "delete"]
)
def test_a_target_added_to_a_captured_request_reaches_no_operation(guarded, where, target):
    service, admin = guarded
    if target == DELETE:  # deletable once ended: the attack would take all of it
        admin.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")
    before = admin.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")
    body, headers = captured(service.url)
    extra = ("X-Amz-Target", target)
    answer = post(service.url, body, [extra, *headers] if where == "before" else [*headers, extra])
    assert answer.status_code == 400
    assert answer.json()["__type"] == "UnknownOperationException"
    after = admin.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")
    assert after["HyperParameterTuningJobStatus"] == before["HyperParameterTuningJobStatus"]


def test_a_target_attached_to_a_signature_that_left_it_out_is_refused(guarded):
    service, admin = guarded
    admin.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")
    body = b'{"HyperParameterTuningJobName": "victim"}'
    headers = signed(
        url=service.url + "/",
        body=body,
        headers=[("Content-Type", JSON_11)],
        key=ADMIN_KEY,
        secret=ADMIN_SECRET,
    )
    answer = post(service.url, body, [*without(headers, "host"), ("X-Amz-Target", DELETE)])
    assert (answer.status_code, answer.json()["__type"]) == (403, "IncompleteSignatureException")
    assert "x-amz-target is not signed" in answer.json()["message"]
    assert admin.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")


@pytest.mark.parametrize("guard", [True, False], ids=["access-control-on", "off"])
def test_two_identical_targets_are_refused_whether_or_not_access_control_is_on(
    start_service, guard
):
    settings = {"aws_credentials": f"admin:{ADMIN_KEY}:{ADMIN_SECRET}"} if guard else {}
    service = start_service(**settings)
    body, headers = captured(service.url, target="SageMaker.ListHyperParameterTuningJobs")
    target = ("X-Amz-Target", "SageMaker.ListHyperParameterTuningJobs")
    answer = post(service.url, body, [*headers, target])
    assert answer.status_code == 400
    assert answer.json() == {
        "__type": "UnknownOperationException",
        "message": "X-Amz-Target must be sent once and name one operation; got "
        "'SageMaker.ListHyperParameterTuningJobs,SageMaker.ListHyperParameterTuningJobs'",
    }
    # One header holding two targets is the same request.
    joined = ("X-Amz-Target", f"{target[1]},{target[1]}")
    answer = post(service.url, body, [*without(headers, "x-amz-target"), joined])
    assert (answer.status_code, answer.json()["__type"]) == (400, "UnknownOperationException")
