"""The rules a new job and a new run must follow, beyond what the request schema checks."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence

from app.errors import InvalidInput, InvalidObjective, InvalidRunSpec
from app.parsing import LogFormat, MetricDefinition, compile_definitions
from app.protocol.images import training_image_problem
from app.protocol.search import SearchSpec
from app.records import Job, ObjectiveType, Strategy
from app.storage import JobSpec

__all__ = [
    "MAX_ENVIRONMENT",
    "MAX_HYPERPARAMETERS",
    "NAME_PATTERN",
    "OBJECTIVE_HYPERPARAMETER",
    "job_spec",
    "objective_kind",
    "run_hyperparameters",
]

# SageMaker's names for training jobs: this pattern, and at most 63 characters (which
# the pattern alone does not bound: hyphens come free).
NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_KEY = 256
MAX_HYPERPARAMETER_VALUE = 2500
MAX_ENVIRONMENT = 48
MAX_ENVIRONMENT_VALUE = 512
# AMT passes the objective's metric name to every training job under this key.
OBJECTIVE_HYPERPARAMETER = "_tuning_objective_metric"
_ENVIRONMENT_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def job_spec(
    name: str,
    objective_metric: str,
    objective_type: str,
    strategy: str,
    definitions: Sequence[MetricDefinition],
    log_format: LogFormat,
    environment: Mapping[str, str],
    search: SearchSpec | None = None,
) -> JobSpec:
    """Check a new job and put it in the form storage keeps.

    Raises:
        InvalidMetricDefinition: a definition breaks a rule.
        InvalidObjective: the objective metric is not one of the definitions.
        InvalidInput: the environment breaks a rule, or the search's training image is
            not an image reference (nor a SageMaker algorithm).
    """
    compiled = compile_definitions(definitions, log_format)
    check_objective(objective_metric, [definition.name for definition in compiled])
    kind, chosen = objective_kind(objective_type, strategy)
    _check_environment(environment)
    if search is not None and search.training_image:
        _check_training_image(search.training_image)
    if search is not None and search.random_seed is None:
        # AMT is not deterministic without a seed, and a search without one must not
        # propose the same points as every other; the one drawn is kept in the job.
        search = search.model_copy(update={"random_seed": secrets.randbelow(2**31)})
    return JobSpec(
        name=name,
        objective_metric=objective_metric,
        objective_type=kind,
        objective_strategy=chosen,
        log_format=log_format,
        metric_definitions=tuple(definitions),
        environment=dict(environment),
        search=search.model_dump(mode="json") if search is not None else None,
    )


def objective_kind(objective_type: str, strategy: str) -> tuple[ObjectiveType, Strategy]:
    """The objective's type and strategy as the records hold them. The faces' schemas
    admit only these values; a caller passing another gets InvalidObjective."""
    try:
        return ObjectiveType(objective_type), Strategy(strategy)
    except ValueError:
        raise InvalidObjective(
            f"objective type {objective_type!r} or strategy {strategy!r} is not one of "
            f"{[t.value for t in ObjectiveType]} and {[s.value for s in Strategy]}"
        ) from None


def check_objective(objective_metric: str, names: Sequence[str]) -> None:
    """Raises InvalidObjective unless the objective metric is one of `names`."""
    if objective_metric not in names:
        known = ", ".join(repr(n) for n in names) if names else "none"
        raise InvalidObjective(
            f"the objective metric {objective_metric!r} is not among the metric "
            f"definitions (defined: {known})",
            metric_name=objective_metric,
        )


def run_hyperparameters(job: Job, given: Mapping[str, str | int | float | bool]) -> dict[str, str]:
    """A run's hyperparameters as strings, with the tuning objective added as AMT does.

    Numbers and booleans become the JSON text that reads back as them (`0.001`, `true`).

    Raises:
        InvalidRunSpec: too many hyperparameters, or a key or value too long.
    """
    if len(given) > MAX_HYPERPARAMETERS:
        raise InvalidRunSpec(
            f"a run may have at most {MAX_HYPERPARAMETERS} hyperparameters, got {len(given)}"
        )
    hyperparameters = {}
    for key, value in given.items():
        text = value if isinstance(value, str) else json.dumps(value)
        if not 1 <= len(key) <= MAX_HYPERPARAMETER_KEY:
            raise InvalidRunSpec(
                f"hyperparameter names must be 1 to {MAX_HYPERPARAMETER_KEY} characters, "
                f"got {len(key)} ({key[:40]!r})"
            )
        if len(text) > MAX_HYPERPARAMETER_VALUE:
            raise InvalidRunSpec(
                f"hyperparameter {key[:40]!r}: values may be at most "
                f"{MAX_HYPERPARAMETER_VALUE} characters, got {len(text)}"
            )
        hyperparameters[key] = text
    hyperparameters[OBJECTIVE_HYPERPARAMETER] = job.objective_metric
    return hyperparameters


def _check_training_image(image: str) -> None:
    # Checked when a job is made, not in SearchSpec, which also reads stored searches
    # back: a job stored before this check must stay readable.
    problem = training_image_problem(image)
    if problem is not None:
        raise InvalidInput(f"search.training_image {image[:100]!r} {problem}")


def _check_environment(environment: Mapping[str, str]) -> None:
    if len(environment) > MAX_ENVIRONMENT:
        raise InvalidInput(
            f"a job's environment may have at most {MAX_ENVIRONMENT} variables, "
            f"got {len(environment)}"
        )
    for key, value in environment.items():
        if _ENVIRONMENT_KEY.fullmatch(key) is None or len(key) > 512:
            raise InvalidInput(
                f"environment variable name {key[:40]!r} must match [a-zA-Z_][a-zA-Z0-9_]* "
                "(at most 512 characters)"
            )
        if len(value) > MAX_ENVIRONMENT_VALUE:
            raise InvalidInput(
                f"environment variable {key!r}: values may be at most "
                f"{MAX_ENVIRONMENT_VALUE} characters, got {len(value)}"
            )
