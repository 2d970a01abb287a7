"""Completion criteria: the target, the best not improving, convergence."""

from app.protocol.search import SearchSpec
from app.tuning.completion import EndedRun, completion


def search(**criteria):
    return SearchSpec.model_validate(
        {
            "strategy": "Random",
            "command": ["true"],
            "resource_limits": {"max_number_of_training_jobs": 50},
            "completion_criteria": criteria,
        }
    )


def ended(*values):
    return [EndedRun(f"run-{i:04d}", v) for i, v in enumerate(values, 1)]


def test_the_target_value_completes_the_search():
    found = completion(
        search(TargetObjectiveMetricValue=0.9), ended(0.5, None, 0.92), True, "accuracy"
    )
    assert found is not None
    assert found == (
        "TargetObjectiveMetricValue",
        "run-0003 reached accuracy = 0.92 >= the target 0.9",
    )
    assert completion(search(TargetObjectiveMetricValue=0.9), ended(0.5, 0.89), True, "a") is None
    minimizing = completion(
        search(target_objective_metric_value=0.1), ended(0.3, 0.1), False, "loss"
    )
    assert minimizing is not None and "<= the target 0.1" in minimizing.detail


def test_runs_not_improving_on_the_best_complete_the_search():
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    found = completion(search(**criteria), ended(0.5, 0.9, 0.8, None, 0.85, 0.9), True, "acc")
    assert found == (
        "BestObjectiveNotImproving",
        "the last 3 runs did not improve on the best acc = 0.9",
    )
    # A failed run (None) does not count; a new best starts the count again.
    assert completion(search(**criteria), ended(0.5, 0.9, 0.8, None, 0.85), True, "acc") is None
    assert completion(search(**criteria), ended(0.9, 0.8, 0.8, 0.95, 0.9), True, "acc") is None


def test_convergence_is_detected_when_the_last_third_barely_improves():
    criteria = {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}
    flat = ended(0.1, 0.5, 0.7, 0.8, 0.85, 0.9, 0.9, 0.9001, 0.89, 0.9, 0.88, 0.9)
    found = completion(search(**criteria), flat, True, "acc")
    assert found is not None and found.name == "ConvergenceDetected"
    climbing = ended(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    assert completion(search(**criteria), climbing, True, "acc") is None
    assert completion(search(**criteria), flat[:9], True, "acc") is None  # too few runs
    disabled = {"ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}}
    assert completion(search(**disabled), flat, True, "acc") is None


def test_no_criteria_never_completes_early():
    assert completion(search(), ended(1.0, 1.0, 1.0, 1.0), True, "acc") is None
