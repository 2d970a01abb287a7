"""With access control on, the dashboard shows nothing to a visitor without a token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.web.auth import COOKIE
from tests.web.runs import OBJECTIVE, SWEEP, create_sweep

ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"
PAGES = ["/", "/jobs/sweep", f"/jobs/sweep/runs/{SWEEP[0].name}", "/tester", "/jobs/nope"]


@pytest.fixture
def secured(start_service):
    service = start_service(api_tokens=f"admin:{ADMIN},read:{READER}")
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
    ) as admin:
        create_sweep(admin)
    return service


@pytest.fixture
def anonymous(secured) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secured.url, timeout=60) as client:
        yield client


def sign_in(client: httpx.Client, token: str, next_path: str = "/") -> httpx.Response:
    return client.post("/login", data={"token": token, "next": next_path})


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_token_sends_to_the_sign_in_form_and_shows_nothing(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
    assert "sweep" not in response.text and "run-0" not in response.text
    form = anonymous.get(response.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text
    assert "sweep" not in form.text.replace(f'value="{path}"', "")


@pytest.mark.parametrize("cookie", ["not-a-token-0123456789", "lmr_1_made-up"])
def test_a_wrong_cookie_is_no_way_in(anonymous, cookie):
    anonymous.cookies.set(COOKIE, cookie)

    assert anonymous.get("/jobs/sweep").status_code == 303
    assert anonymous.get("/v1/jobs").status_code == 401


def test_a_wrong_token_is_refused_with_a_message(anonymous):
    response = sign_in(anonymous, "wrong-token-0123456789")

    assert response.status_code == 401
    assert "not valid" in response.text
    assert COOKIE not in response.cookies


def test_a_read_token_opens_the_pages_and_the_api_reads_their_scripts_make(anonymous):
    signed = sign_in(anonymous, READER, "/jobs/sweep")

    assert signed.status_code == 303 and signed.headers["location"] == "/jobs/sweep"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    for path in PAGES:
        assert anonymous.get(path).status_code in (200, 404), path
    assert anonymous.get(f"/v1/jobs/sweep/series/{OBJECTIVE}").status_code == 200
    parsed = anonymous.post("/v1/parse", json={"metric_definitions": "keras", "log": ""})
    assert parsed.status_code == 200


def test_the_cookie_never_carries_a_write(anonymous):
    """Only reads take the cookie: a page cannot be made to create jobs or post logs."""
    sign_in(anonymous, ADMIN)

    assert anonymous.get("/v1/jobs").status_code == 200
    assert anonymous.post("/v1/jobs/sweep/runs", json={}).status_code == 401
    running = SWEEP[-1].name
    posted = anonymous.post(f"/v1/jobs/sweep/runs/{running}/logs", content=b"epoch=9;\n")
    assert posted.status_code == 401


def test_sign_in_only_sends_back_to_this_site(anonymous):
    for target in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
    ]:
        response = sign_in(anonymous, READER, target)
        assert response.headers["location"] == "/", target


def test_signing_out_forgets_the_token(anonymous):
    sign_in(anonymous, READER)
    assert anonymous.get("/").status_code == 200

    anonymous.post("/logout")

    assert anonymous.get("/").status_code == 303


@pytest.mark.browser
def test_in_a_browser_the_job_page_opens_after_signing_in(secured, open_tab):
    tab = open_tab(f"{secured.url}/jobs/sweep")
    assert tab.page.url == f"{secured.url}/login?next=/jobs/sweep"
    assert tab.page.locator("#leaderboard").count() == 0
    tab.shoot("login")

    tab.page.fill("input[name='token']", "wrong-token-0123456789")
    tab.page.click("button[type='submit']")
    assert "not valid" in tab.page.inner_text(".callout-error")

    tab.page.fill("input[name='token']", READER)
    tab.page.click("button[type='submit']")
    tab.wait_ready()
    assert tab.page.url == f"{secured.url}/jobs/sweep"
    # The chart's data came from the JSON API, read with the sign-in cookie.
    assert tab.page.get_attribute("#series-chart", "data-series") == str(len(SWEEP))
    # The browser logged the failed sign-in's 401; nothing else may fail.
    assert [e for e in tab.errors if "401" not in e] == []

    tab.page.click("#sign-out")
    tab.page.goto(f"{secured.url}/jobs/sweep")
    assert "/login" in tab.page.url


def test_the_cookie_is_not_secure_over_plain_http(anonymous):
    assert "Secure" not in sign_in(anonymous, READER).headers["set-cookie"]


def test_behind_a_tls_proxy_that_says_so_the_cookie_is_secure(anonymous):
    signed = anonymous.post(
        "/login", data={"token": READER, "next": "/"}, headers={"X-Forwarded-Proto": "https"}
    )

    assert "Secure" in signed.headers["set-cookie"]


def test_behind_a_tls_proxy_that_forwards_nothing_a_setting_makes_it_secure(start_service):
    service = start_service(api_tokens=f"admin:{ADMIN},read:{READER}", secure_cookies=True)
    with httpx.Client(base_url=service.url, timeout=60) as client:
        signed = sign_in(client, READER)

    assert "Secure" in signed.headers["set-cookie"]
