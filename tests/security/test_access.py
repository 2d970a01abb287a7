"""Access control: off by default; admin, read and run-scoped tokens when on."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from app.auth import load_tokens

ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"
JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def secured(start_service):
    return start_service(api_tokens=f"admin:{ADMIN},read:{READER}")


@pytest.fixture
def run_token(secured):
    api = secured.client
    assert api.post("/v1/jobs", json=JOB, headers=bearer(ADMIN)).status_code == 201
    created = api.post("/v1/jobs/gan/runs", json={}, headers=bearer(ADMIN))
    assert created.status_code == 201
    token = created.json()["ingest_token"]
    assert token.startswith(f"lmr_{1}_")
    return token


def test_access_control_is_off_by_default(api):
    assert api.post("/v1/jobs", json=JOB).status_code == 201
    created = api.post("/v1/jobs/gan/runs", json={}).json()
    assert created["ingest_token"] is None
    assert api.get("/v1/jobs/gan").status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, bearer("wrong-token-0123456789"), {"Authorization": ADMIN}]
)
def test_no_token_or_a_wrong_one_is_a_401_before_anything_else(secured, headers):
    for method, path in [
        ("GET", "/v1/jobs"),
        ("GET", "/v1/jobs/no-such-job"),  # 401, not 404: nothing leaks
        ("POST", "/v1/jobs"),
        ("POST", "/v1/jobs/no-such-job/runs/x/logs"),
    ]:
        response = secured.client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="logmetrics"'


def test_health_needs_no_token(secured):
    assert secured.client.get("/healthz").status_code == 200


def test_an_admin_token_may_do_everything(secured, run_token):
    api = secured.client
    posted = api.post(
        "/v1/jobs/gan/runs/run-0001/logs", content=b"Loss = 1;\n", headers=bearer(ADMIN)
    )
    assert posted.status_code == 200
    ended = api.post(
        "/v1/jobs/gan/runs/run-0001/complete", json={"status": "Completed"}, headers=bearer(ADMIN)
    )
    assert ended.status_code == 200
    assert api.get("/v1/jobs/gan/best", headers=bearer(ADMIN)).json()["objective"]["value"] == 1.0


def test_a_read_token_may_only_read(secured, run_token):
    api = secured.client
    for path in [
        "/v1/jobs",
        "/v1/jobs/gan",
        "/v1/jobs/gan/runs",
        "/v1/jobs/gan/runs/run-0001",
        "/v1/presets",
        "/v1/jobs/gan/runs/run-0001/metrics/loss",
    ]:
        assert api.get(path, headers=bearer(READER)).status_code == 200, path
    dry = api.post(
        "/v1/parse",
        json={"metric_definitions": JOB["metric_definitions"], "log": "Loss = 2;"},
        headers=bearer(READER),
    )
    assert dry.status_code == 200
    for path, body in [
        ("/v1/jobs", {**JOB, "name": "other"}),
        ("/v1/jobs/gan/runs", {}),
        ("/v1/jobs/gan/runs/run-0001/complete", {"status": "Completed"}),
    ]:
        refused = api.post(path, json=body, headers=bearer(READER))
        assert refused.status_code == 403, path
        assert refused.json()["error"] == "forbidden"
    logs = api.post("/v1/jobs/gan/runs/run-0001/logs", content=b"x\n", headers=bearer(READER))
    assert logs.status_code == 403


def test_a_run_token_may_only_post_its_runs_logs_and_complete_it(secured, run_token):
    api = secured.client
    other = api.post("/v1/jobs/gan/runs", json={}, headers=bearer(ADMIN)).json()["name"]
    posted = api.post(
        "/v1/jobs/gan/runs/run-0001/logs", content=b"Loss = 0.5;\n", headers=bearer(run_token)
    )
    assert (posted.status_code, posted.json()["points"]) == (200, 1)
    elsewhere = api.post(
        f"/v1/jobs/gan/runs/{other}/logs", content=b"x\n", headers=bearer(run_token)
    )
    assert elsewhere.status_code == 403
    assert api.get("/v1/jobs/gan", headers=bearer(run_token)).status_code == 403
    assert api.post("/v1/jobs/gan/runs", json={}, headers=bearer(run_token)).status_code == 403
    ended = api.post(
        "/v1/jobs/gan/runs/run-0001/complete",
        json={"status": "Completed"},
        headers=bearer(run_token),
    )
    assert ended.status_code == 200
    forged = run_token[:-4] + ("aaaa" if not run_token.endswith("aaaa") else "bbbb")
    assert (
        api.post(
            "/v1/jobs/gan/runs/run-0001/complete",
            json={"status": "Completed"},
            headers=bearer(forged),
        ).status_code
        == 401
    )


def test_tokens_are_stored_hashed(secured, run_token, tmp_path):
    database = (tmp_path / "logmetrics.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("logmetrics.db-*")
    )
    assert run_token.encode() not in database
    assert hashlib.sha256(run_token.encode()).hexdigest().encode() in database
    assert ADMIN.encode() not in database


def test_tokens_come_from_a_file_too(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# operators\nadmin:{ADMIN}\n\nread:{READER}\n")
    book = load_tokens(None, path)
    assert book.identify(READER, lambda _run: None).role.value == "read"
    with pytest.raises(ValueError, match="token entry 1: write it as admin:TOKEN or read:TOKEN"):
        load_tokens(f"writer:{ADMIN}", None)
    with pytest.raises(ValueError, match="at least 16 characters"):
        load_tokens("admin:short", None)


def test_the_service_refuses_to_start_with_a_bad_token_entry(start_service):
    with pytest.raises(ValueError, match="token entry 1"):
        start_service(api_tokens="admin")


def test_a_token_in_the_url_is_not_accepted(secured):
    response = httpx.get(f"{secured.url}/v1/jobs", params={"token": ADMIN})
    assert response.status_code == 401


def test_every_api_route_but_health_needs_a_token(secured):
    """No route can be left unguarded: each path of the OpenAPI document, with made-up
    path parameters, answers 401 without a token."""
    document = secured.client.get("/openapi.json", headers=bearer(READER))
    open_paths = {"/healthz"}
    checked = 0
    for path, operations in document.json()["paths"].items():
        if path in open_paths:
            continue
        concrete = path.replace("{job}", "gan").replace("{run}", "run-0001")
        concrete = concrete.replace("{metric}", "loss").replace("{preset}", "keras")
        for method in operations:
            response = secured.client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path)
            checked += 1
    assert checked >= 14
