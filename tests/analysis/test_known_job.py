"""The known-answer job written straight into a storage, read back by the analysis
functions as the routes read it."""

from __future__ import annotations

import pytest

from app.analysis.history import history
from app.analysis.importance import importance
from app.analysis.parallel import parallel_coordinates
from app.objective import qualifying_statuses
from app.protocol.search import SearchSpec
from app.storage import SqlStorage
from app.tuning.tuner import search_of
from tests.analysis.jobs import accuracy, known_answer_search, make_known_answer_job


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_lr_decides_and_is_ranked_first(storage: SqlStorage, evaluator: str) -> None:
    known = make_known_answer_job(storage)
    job = storage.get_job("known")

    found = importance(job, search_of(job), storage.job_runs(job), evaluator)  # type: ignore[arg-type]

    assert found.importances[0][0] == "lr" and found.importances[0][1] > 0.5
    assert (found.runs, found.warning) == (30, None)
    # lr runs 0.0001 to 0.1 evenly on a log scale: the 15th and 16th of 30 lie either side
    # of 10^-2.5 at the same distance, so they tie; the earlier one is best.
    assert known.hyperparameters["run-0001"]["lr"] == "0.0001"
    assert known.hyperparameters["run-0030"]["lr"] == "0.1"
    assert known.hyperparameters["run-0015"]["lr"] == "0.00280722"
    assert known.values["run-0015"] == known.values["run-0016"] == accuracy(0.00280722)
    assert known.best_run == "run-0015"
    assert known.failed == ("run-0031", "run-0032")


def test_the_reads_agree_with_the_builder(storage: SqlStorage) -> None:
    known = make_known_answer_job(storage, completed=10, failed=1)
    job = storage.get_job("known")
    best = storage.best_run(job, qualifying_statuses(include_in_progress=False))

    found = history(job, storage.job_runs(job), best.name if best else None)
    axes = parallel_coordinates(job, search_of(job), storage.job_runs(job), None)

    assert found.best_run == known.best_run
    assert [r.objective_value for r in found.runs] == [*known.values.values(), None]
    assert [d.key for d in axes.dimensions] == [
        "hyperparameter:optimizer",
        "hyperparameter:lr",
        "hyperparameter:momentum",
        "metric:acc",
    ]
    assert [d.scale for d in axes.dimensions] == ["categorical", "log", "linear", "linear"]


def test_the_search_takes_more_runs_than_may_run_at_once() -> None:
    body = known_answer_search("wide", 150)

    spec = SearchSpec.model_validate(body["search"])

    limits = spec.resource_limits
    assert (limits.max_number_of_training_jobs, limits.max_parallel_training_jobs) == (150, 100)
