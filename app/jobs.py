"""The rules a new job and a new run must follow, beyond what the request schema checks."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence

from app.errors import InvalidInput, InvalidObjective, InvalidRunSpec, JobNotFound
from app.parsing import LogFormat, MetricDefinition, compile_definitions
from app.protocol.images import training_image_problem
from app.protocol.search import MAX_TRAINING_JOBS, SearchSpec, WarmStartType
from app.records import ENDED_JOB_STATUSES, Job, ObjectiveType, Strategy
from app.storage import JobSpec, Storage

__all__ = [
    "MAX_ENVIRONMENT",
    "MAX_HYPERPARAMETERS",
    "NAME_PATTERN",
    "OBJECTIVE_HYPERPARAMETER",
    "check_warm_start",
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
# AMT: tuned hyperparameters made static plus static values changed, per parent.
MAX_WARM_START_CHANGES = 10


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


def run_hyperparameters(
    job: Job, given: Mapping[str, str | int | float | bool], *, tuned: bool = True
) -> dict[str, str]:
    """A run's hyperparameters as strings, with the tuning objective added as AMT does to
    a tuning job's training jobs (`tuned`); a lone training job gets only its own, since a
    script that parses its arguments strictly would refuse `--_tuning_objective_metric`.

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
    if tuned:
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


def check_warm_start(storage: Storage, spec: JobSpec) -> None:
    """Check a warm-started job's parents as AMT does, before the job is created: both
    faces call this, after `job_spec`.

    Each parent must be a tuning job (a job with a search, not a lone training job) that
    has ended (Completed, Stopped or Failed), with the child's objective metric and type;
    the set of static plus tuned hyperparameter names must be the parent's, a name tuned
    in both keeps its kind of range, and at most 10 changes are made (a tuned
    hyperparameter made static counts its categorical values, or 1; a static value
    changed counts 2). IdenticalDataAndAlgorithm also keeps the training image, the
    command and, for jobs made through SageMaker's API, the input data. The parents' runs
    and the child's MaxNumberOfTrainingJobs together stay within 10,000 (AMT: 500).

    Raises: InvalidInput, naming the parent and the rule it breaks.
    """
    if spec.search is None:
        return
    child = SearchSpec.model_validate(spec.search)
    if child.warm_start is None:
        return
    runs = 0
    for name in child.warm_start.parents:
        try:
            parent = storage.get_job(name)
        except JobNotFound:
            raise InvalidInput(
                f"warm start: the parent tuning job {name!r} does not exist"
            ) from None
        search = SearchSpec.model_validate(parent.search) if parent.search is not None else None
        if search is None or search.trains_one_job():
            raise InvalidInput(f"warm start: {name!r} is not a tuning job")
        status = storage.job_state(parent).status
        if status not in ENDED_JOB_STATUSES:
            raise InvalidInput(
                f"warm start: the parent tuning job {name!r} is {status.value}; a parent "
                "must have ended (Completed, Stopped or Failed)"
            )
        if (parent.objective_metric, parent.objective_type) != (
            spec.objective_metric,
            spec.objective_type,
        ):
            raise InvalidInput(
                f"warm start: the parent tuning job {name!r} has the objective "
                f"{parent.objective_type.value} {parent.objective_metric!r}; a child must have "
                f"its parents' ({spec.objective_type.value} {spec.objective_metric!r} given)"
            )
        problem = _warm_start_problem(child, search, child.warm_start.type)
        if problem is not None:
            raise InvalidInput(f"warm start from {name!r}: {problem}")
        runs += sum(storage.job_overview(parent).run_counts.values())
    if runs + child.max_training_jobs() > MAX_TRAINING_JOBS:
        raise InvalidInput(
            f"warm start: the parents' {runs} runs and the child's "
            f"{child.max_training_jobs()} may be at most {MAX_TRAINING_JOBS} together"
        )


def _warm_start_problem(child: SearchSpec, parent: SearchSpec, kind: WarmStartType) -> str | None:
    """What breaks AMT's rules between a child's search and one parent's, if anything."""
    tuned, was_tuned = _kinds(child), _kinds(parent)
    names, had = (
        set(tuned) | set(child.static_hyperparameters),
        set(was_tuned) | set(parent.static_hyperparameters),
    )
    if names != had:
        added, dropped = sorted(names - had), sorted(had - names)
        return (
            "the static plus tuned hyperparameter names must be the parent's (a static one "
            "may become tuned and a tuned one static); "
            f"new: {', '.join(added) or 'none'}; missing: {', '.join(dropped) or 'none'}"
        )
    for name in sorted(set(tuned) & set(was_tuned)):
        if tuned[name] != was_tuned[name]:
            return f"{name} was a {was_tuned[name]} range and is now a {tuned[name]} one"
    categorical = {r.name: len(r.values) for r in parent.parameter_ranges.categorical}
    made_static = sum(categorical.get(n, 1) for n in was_tuned if n in child.static_hyperparameters)
    parent_static, child_static = parent.static_text(), child.static_text()
    changed = sum(2 for n, v in child_static.items() if parent_static.get(n, v) != v)
    if made_static + changed > MAX_WARM_START_CHANGES:
        return (
            f"{made_static + changed} changes (tuned made static: {made_static}, static "
            f"values changed: {changed}); at most {MAX_WARM_START_CHANGES} are allowed"
        )
    if kind is WarmStartType.IDENTICAL_DATA_AND_ALGORITHM:
        for what, mine, theirs in (
            ("training image", child.training_image, parent.training_image),
            ("command", child.command, parent.command),
            ("input data", _input_data(child), _input_data(parent)),
        ):
            if mine != theirs:
                return (
                    f"IdenticalDataAndAlgorithm needs the parent's {what} "
                    f"(use TransferLearning for another)"
                )
    return None


def _kinds(search: SearchSpec) -> dict[str, str]:
    """Each tuned hyperparameter's kind of range."""
    ranges = search.parameter_ranges
    kinds = {r.name: "categorical" for r in ranges.categorical}
    kinds.update({r.name: "integer" for r in ranges.integer})
    kinds.update({r.name: "continuous" for r in ranges.continuous})
    return kinds


def _input_data(search: SearchSpec) -> object:
    """The input channels of a job made through SageMaker's API (None for another)."""
    definition = (search.sagemaker or {}).get("TrainingJobDefinition") or {}
    return definition.get("InputDataConfig")
