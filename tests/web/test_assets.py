"""Every asset a page uses comes from the service itself, and the vendored files are
exactly what `app/web/vendor.mjs` recorded from the npm package (see its comment)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from app.web.templating import STATIC_DIR
from tests.web.runs import SWEEP, create_sweep

VENDOR = STATIC_DIR / "vendor"
# src="...", href="...", and url(...) in stylesheets
REFERENCE = re.compile(r"""(?:src|href)="([^"]*)"|url\(["']?([^"')]+)""")
IMPORT = re.compile(r"""^import\s.*?from\s+"([^"]+)";?$|^import\s+"([^"]+)";?$""", re.MULTILINE)


def sha256(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def references(text: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(text)]


def test_the_vendored_files_are_the_ones_recorded():
    manifest = json.loads((VENDOR / "vendor.json").read_text())
    for package, entry in manifest.items():
        assert entry["license"] in ("MIT", "Apache-2.0")  # uPlot, Swagger UI
        for name, digest in entry["files"].items():
            assert sha256((VENDOR / package / name).read_bytes()) == digest, name


def test_scripts_import_only_their_neighbours():
    for script in (STATIC_DIR / "js").glob("*.js"):
        for a, b in IMPORT.findall(script.read_text()):
            target = a or b
            assert target.startswith("./"), (script.name, target)
            assert (script.parent / target).exists(), (script.name, target)


def test_every_page_loads_its_assets_from_the_service(api):
    create_sweep(api)
    pages = ["/", "/jobs/sweep", f"/jobs/sweep/runs/{SWEEP[0].name}", "/tester", "/jobs/nope"]
    assets: set[str] = set()
    for path in pages:
        page = api.get(path)
        assert page.status_code in (200, 404), path
        for target in references(page.text):
            # Links to other pages and the API docs are fine; nothing may leave the site.
            assert not re.match(r"^(?:[a-z]+:)?//", target), (path, target)
            if target.startswith("/static/"):
                assets.add(target)
    assert any("uPlot.iife.min.js" in a for a in assets)
    for asset in sorted(assets):
        response = api.get(asset)
        assert response.status_code == 200, asset
        if asset.split("?")[0].endswith(".css"):
            for target in references(response.text):
                assert not re.match(r"^(?:[a-z]+:)?//", target), (asset, target)


def test_subresource_integrity_matches_what_is_served(api):
    create_sweep(api, runs=())
    page = api.get("/jobs/sweep").text
    tagged = re.findall(r'(?:src|href)="(/static/[^"]+)"\s+integrity="([^"]+)"', page)
    assert len(tagged) == 2  # uPlot's script and stylesheet
    for url, integrity in tagged:
        assert sha256(api.get(url).content) == integrity, url
