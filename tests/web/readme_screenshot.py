"""Take docs/dashboard-job.png, the README's picture of a job page, from real runs, and
the pictures of its analysis views: docs/job-history.png, docs/job-parallel-coordinates.png
and docs/job-importance.png.

    .venv/bin/python -m tests.web.readme_screenshot [--runs 12]

Runs the reference sweep (`trainer/sweep.yaml`, what `make demo` runs: the reference
PyTorch trainer, for real) against a service on a temporary database, then has Chromium
draw the job's page and keeps its top: the search, the summary, the charts and the
leaderboard; and each analysis view's card on its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright

from app.clients.demo import DEFAULT_SPEC, run_demo
from app.config import Settings
from tests.service import running_service
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "dashboard-job.png"
# The job page's analysis views (data-testid) and the picture of each.
VIEWS = {
    "history-chart": ROOT / "docs" / "job-history.png",
    "parallel-coordinates": ROOT / "docs" / "job-parallel-coordinates.png",
    "importance": ROOT / "docs" / "job-importance.png",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="runs in the sweep")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--views", type=Path, default=None, help="a folder for the views' pictures (docs/)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spec = _spec(Path(folder), args.runs)
        database_url = f"sqlite:///{folder}/logmetrics.db"
        # The sweep's commands (`python -m trainer`) must find this interpreter first.
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        if run_demo(spec, database_url) != 0:
            return 1
        with running_service(Settings(database_url=database_url)) as service:
            job = service.client.get("/v1/jobs").json()["jobs"][0]["name"]
            views = {
                testid: (args.views / path.name if args.views else path)
                for testid, path in VIEWS.items()
            }
            shoot(f"{service.url}/jobs/{job}", args.output, views)
    print(f"wrote {args.output}, {', '.join(str(path) for path in views.values())}")
    return 0


def _spec(folder: Path, runs: int | None) -> Path:
    if runs is None:
        return DEFAULT_SPEC
    spec = yaml.safe_load(DEFAULT_SPEC.read_text())
    spec["search"]["resource_limits"]["max_number_of_training_jobs"] = runs
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def shoot(url: str, output: Path, views: dict[str, Path]) -> None:
    """Screenshot the job page at `url` into `output`, and each analysis view (`views`:
    data-testid -> path) into its own picture."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        page.goto(url)
        page.wait_for_selector("body[data-ready]", state="attached", timeout=60_000)
        board = page.locator("#leaderboard-card").bounding_box()
        assert board is not None, "the job page has no leaderboard"
        height = board["y"] + board["height"] + 16
        output.parent.mkdir(exist_ok=True)
        page.screenshot(
            path=str(output), clip={"x": 0, "y": 0, "width": 1440, "height": height}, full_page=True
        )
        page.wait_for_selector("body[data-analysis-ready]", state="attached", timeout=60_000)
        for testid, path in views.items():
            view = page.locator(f"[data-testid='{testid}']")
            state = view.get_attribute("data-state")
            assert state == "drawn", f"the job page's {testid} is {state}, not drawn"
            path.parent.mkdir(exist_ok=True)
            view.screenshot(path=str(path))
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
