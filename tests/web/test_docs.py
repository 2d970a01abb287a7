"""/docs works offline: Swagger UI is served from the package, nothing from a CDN."""

from __future__ import annotations

import re

import pytest


def test_the_api_docs_load_only_the_services_own_assets(api):
    page = api.get("/docs")

    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sorted(a.split("?")[0] for a in assets) == [
        "/static/favicon.svg",
        "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui-dist/swagger-ui.css",
    ]
    assert re.search(r"https?://", page.text) is None
    for asset in assets:
        assert api.get(asset).status_code == 200, asset
    assert api.get("/redoc").status_code == 404


@pytest.mark.browser
def test_the_api_docs_render_in_a_browser_without_a_network(service, open_tab):
    tab = open_tab(f"{service.url}/docs")

    tab.page.wait_for_selector(".opblock-tag", timeout=30_000)

    tags = tab.page.eval_on_selector_all(".opblock-tag", "els => els.map(e => e.dataset.tag)")
    assert {"jobs", "runs", "logs"} <= set(tags)
    tab.shoot("docs")
