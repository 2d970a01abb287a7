"""The hyperparameters a run accepts: names, defaults, allowed values, and the typed record.

`SPECS` is the one table of hyperparameters; `parse_hyperparameters` checks a merged
mapping from `trainer.sources` against it and returns an immutable `Hyperparameters`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from trainer.checks import Check, FloatOrFloats, Integer, Nullable, OneOf, Real
from trainer.errors import ConfigError
from trainer.objective import objective_mode
from trainer.tasks import TASKS

__all__ = [
    "OBJECTIVE_KEY",
    "SPECS",
    "Hyperparameters",
    "Spec",
    "help_text",
    "parse_hyperparameters",
]

# The one platform key the trainer reads: SageMaker AMT names the metric it optimizes.
OBJECTIVE_KEY = "_tuning_objective_metric"

_ALL_LOSSES = tuple(dict.fromkeys(loss for task in TASKS.values() for loss in task.losses))


class Spec(NamedTuple):
    default: Any
    check: Check
    doc: str


SPECS: dict[str, Spec] = {
    "task": Spec("classification", OneOf(tuple(TASKS)), "what to learn"),
    "loss": Spec(
        None,
        Nullable(OneOf(_ALL_LOSSES)),
        "training loss; null picks the task's own: cross_entropy, mse or listwise_softmax",
    ),
    "optimizer": Spec("adam", OneOf(("sgd", "adam", "adamw")), "optimizer"),
    "lr": Spec(0.003, Real(low=0, low_open=True), "initial learning rate"),
    "weight_decay": Spec(0.0, Real(low=0), "L2 penalty (decoupled for adamw)"),
    "momentum": Spec(0.9, Real(low=0, high=1, high_open=True), "momentum (sgd only)"),
    "scheduler": Spec(
        "cosine", OneOf(("step", "cosine", "plateau", "none")), "learning-rate schedule"
    ),
    "step_size": Spec(5, Integer(low=1), "epochs between decays (step)"),
    "gamma": Spec(0.5, Real(low=0, high=1, low_open=True), "decay factor (step)"),
    "t_max": Spec(None, Nullable(Integer(low=1)), "epochs to the minimum (cosine); null: epochs"),
    "eta_min": Spec(0.0, Real(low=0), "minimum learning rate (cosine)"),
    "factor": Spec(
        0.5, Real(low=0, high=1, low_open=True, high_open=True), "decay factor (plateau)"
    ),
    "patience": Spec(2, Integer(low=0), "epochs without improvement before a decay (plateau)"),
    "epochs": Spec(10, Integer(low=1), "passes over the training split"),
    "batch_size": Spec(32, Integer(low=1), "examples per batch (queries per batch for ranking)"),
    "hidden_units": Spec(64, Integer(low=1), "width of the MLP's two hidden layers"),
    "dropout": Spec(0.1, Real(low=0, high=1, high_open=True), "dropout after each hidden layer"),
    "seed": Spec(42, Integer(low=0, high=2**32 - 1), "seed for initialization, dropout, shuffling"),
    "focal_gamma": Spec(2.0, Real(low=0), "focusing exponent (focal)"),
    "focal_alpha": Spec(
        None,
        Nullable(FloatOrFloats(Real(low=0, low_open=True))),
        "class weight, one for all or one per class (focal); null: no weighting",
    ),
    "label_smoothing": Spec(
        0.1, Real(low=0, high=1, high_open=True), "mass spread over all classes (label_smoothing)"
    ),
}


@dataclass(frozen=True)
class Hyperparameters:
    """One run's checked hyperparameters, with derived defaults filled in.

    `loss` is never null (the task's default loss), `t_max` never null (`epochs`).
    `objective_metric` is `_tuning_objective_metric` if the platform passed it.
    """

    task: str
    loss: str
    optimizer: str
    lr: float
    weight_decay: float
    momentum: float
    scheduler: str
    step_size: int
    gamma: float
    t_max: int
    eta_min: float
    factor: float
    patience: int
    epochs: int
    batch_size: int
    hidden_units: int
    dropout: float
    seed: int
    focal_gamma: float
    focal_alpha: float | tuple[float, ...] | None
    label_smoothing: float
    objective_metric: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_hyperparameters(raw: Mapping[str, object]) -> Hyperparameters:
    """Check `raw` against `SPECS` and return the run's hyperparameters.

    Args:
        raw: name -> value, already JSON-decoded, as `trainer.sources` merges them.
            Keys starting with `_` or `sagemaker_` belong to the platform and are
            ignored, except `_tuning_objective_metric`.

    Returns:
        The hyperparameters, defaults and derived defaults filled in.

    Raises:
        ConfigError: an unknown name, a value of the wrong type or out of range, or
            values that do not fit together (a loss of another task, a plateau
            objective the task does not print, focal_alpha of the wrong length).
    """
    values = {name: spec.default for name, spec in SPECS.items()}
    objective_metric: str | None = None
    for name, value in raw.items():
        if name == OBJECTIVE_KEY:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"bad value for {OBJECTIVE_KEY!r}: {value!r} (expected a name)")
            objective_metric = value
        elif name.startswith(("_", "sagemaker_")):
            continue
        elif name not in SPECS:
            raise ConfigError(f"unknown hyperparameter {name!r}; known: {', '.join(sorted(SPECS))}")
        else:
            try:
                values[name] = SPECS[name].check(value)
            except ValueError as exc:
                raise ConfigError(f"bad value for {name!r}: {exc}") from None

    task = TASKS[values["task"]]
    if values["loss"] is None:
        values["loss"] = task.default_loss
    if values["t_max"] is None:
        values["t_max"] = values["epochs"]
    hyperparameters = Hyperparameters(**values, objective_metric=objective_metric)
    _check_combination(hyperparameters)
    return hyperparameters


def _check_combination(hp: Hyperparameters) -> None:
    task = TASKS[hp.task]
    if hp.loss not in task.losses:
        raise ConfigError(
            f"loss {hp.loss!r} does not fit task {hp.task!r} "
            f"(expected one of: {', '.join(task.losses)})"
        )
    weights = hp.focal_alpha
    if hp.loss == "focal" and isinstance(weights, tuple) and len(weights) != task.outputs:
        raise ConfigError(
            f"focal_alpha has {len(weights)} weights; task {hp.task!r} has {task.outputs} classes"
        )
    # Only the plateau scheduler reads the objective; other runs of a tuning job may name
    # an objective this trainer does not print (a renamed metric definition) and still run.
    if hp.scheduler == "plateau" and hp.objective_metric is not None:
        watchable = ("train_loss", "val_loss", *task.metrics)
        if hp.objective_metric not in watchable:
            raise ConfigError(
                f"scheduler 'plateau' cannot watch {OBJECTIVE_KEY} {hp.objective_metric!r}: "
                f"task {hp.task!r} prints {', '.join(watchable)}"
            )
        objective_mode(hp.objective_metric)


def help_text() -> str:
    """Return the `--help` text: every hyperparameter with its default and allowed values."""
    lines = [
        "usage: python -m trainer [--NAME VALUE | --NAME=VALUE ...]",
        "",
        "Hyperparameters are read from $SM_INPUT_CONFIG_DIR/hyperparameters.json, then",
        "SM_HPS, then these flags; later sources win. Keys starting with _ or sagemaker_",
        "are the platform's and ignored, except _tuning_objective_metric: the metric the",
        "plateau scheduler watches (default val_loss). SM_LOG_LEVEL=10 logs every batch.",
        "",
    ]
    for name, spec in SPECS.items():
        default = "null" if spec.default is None else spec.default
        lines.append(f"  --{name:<16} {spec.doc}")
        lines.append(f"  {'':<18} default {default}; {spec.check.allowed}")
    return "\n".join(lines)
