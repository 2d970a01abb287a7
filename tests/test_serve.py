"""What `logmetrics serve` runs, beyond the app the other tests serve."""

from __future__ import annotations

import gc
from pathlib import Path

from app.config import Settings
from app.serve import serving_app


def test_the_serving_app_leaves_its_start_up_objects_out_of_garbage_collection(
    tmp_path: Path,
) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        app = serving_app(Settings(database_url=f"sqlite:///{tmp_path / 'logmetrics.db'}"))
        assert gc.get_freeze_count() > 10_000  # the imports' and the app's objects
        assert "/v1/jobs" in app.openapi()["paths"]
    finally:
        gc.unfreeze()
