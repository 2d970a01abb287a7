"""Short real runs of every task as `python -m trainer` processes.

The three processes run at once: they spend most of their time importing torch. For
determinism each task runs a second time in this test process, with the same
hyperparameters, and must print the same lines as its process did; a second process
per task would cost seconds of torch import each.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence

import pytest

from trainer.__main__ import main
from trainer.tasks import TASKS, epoch_metric_names

EPOCHS = 3
ARGS = {
    "classification": ["--task", "classification", "--scheduler", "step", "--step_size", "1"],
    "regression": ["--task=regression", "--loss=huber", "--optimizer=adamw"],
    "ranking": [
        "--task",
        "ranking",
        "--scheduler",
        "plateau",
        "--_tuning_objective_metric",
        "val_ndcg",
    ],
}
# Loose floors that an untrained model does not reach.
LEARNED: dict[str, tuple[str, Callable[[float], bool]]] = {
    "classification": ("val_accuracy", lambda v: v > 0.9),
    "regression": ("val_mse", lambda v: v < 0.8),
    "ranking": ("val_ndcg", lambda v: v > 0.9),
}
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

Start = Callable[[Sequence[str], Mapping[str, str]], "subprocess.Popen[str]"]
Runs = dict[str, tuple[int, str, str]]


@pytest.fixture(scope="module")
def runs(
    start_trainer: Start,
    process_env: Callable[..., dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Runs:
    """task -> (exit code, stdout, stderr) of its run."""
    env = process_env(tmp_path_factory.mktemp("config"))
    processes = {
        task: start_trainer([*args, "--epochs", str(EPOCHS)], env) for task, args in ARGS.items()
    }
    results: Runs = {}
    for task, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        results[task] = (process.returncode, stdout, stderr)
    return results


def parse_metric_line(message: str) -> list[tuple[str, str]]:
    assert message.endswith(";"), message
    return [
        (name, value)
        for name, _, value in (pair.partition("=") for pair in message[:-1].split("; "))
    ]


@pytest.mark.parametrize("task", list(ARGS))
def test_a_run_prints_every_metric_each_epoch(
    task: str, runs: Runs, strip_timestamps: Callable[[str], list[str]]
) -> None:
    returncode, stdout, stderr = runs[task]
    assert (returncode, stderr) == (0, "")
    lines = strip_timestamps(stdout)
    assert re.match(
        rf'INFO starting on (cpu|cuda) with hyperparameters {{"task": "{task}"', lines[0]
    )
    assert re.fullmatch(rf"INFO finished {EPOCHS} epochs in [0-9]+\.[0-9]{{2}} s", lines[-1])
    epoch_lines = lines[1:-1]
    assert len(epoch_lines) == EPOCHS
    for epoch, line in enumerate(epoch_lines, start=1):
        level, message = line.split(" ", 1)
        pairs = parse_metric_line(message)
        assert level == "INFO"
        assert [name for name, _ in pairs] == list(epoch_metric_names(TASKS[task]))
        assert pairs[0] == ("epoch", str(epoch))
        for name, value in pairs:
            assert PLAIN_DECIMAL.fullmatch(value), (name, value)
            assert math.isfinite(float(value))
    name, learned = LEARNED[task]
    final = dict(parse_metric_line(epoch_lines[-1].split(" ", 1)[1]))
    assert learned(float(final[name])), final


@pytest.mark.parametrize("task", list(ARGS))
def test_the_same_seed_prints_the_same_lines(
    task: str,
    runs: Runs,
    environ: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    strip_timestamps: Callable[[str], list[str]],
) -> None:
    assert main([*ARGS[task], "--epochs", str(EPOCHS)], environ) == 0
    again = strip_timestamps(capsys.readouterr().out)
    first = strip_timestamps(runs[task][1])
    # All but the last line, which says how long the run took.
    assert again[:-1] == first[:-1]
    assert len(first) == EPOCHS + 2


def test_another_seed_prints_other_numbers(
    environ: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    strip_timestamps: Callable[[str], list[str]],
) -> None:
    # In-process: one more process would add seconds of torch import for one bit of news.
    lines = {}
    for seed in ("1", "2"):
        assert main(["--task", "regression", "--epochs", "1", "--seed", seed], environ) == 0
        lines[seed] = [
            line for line in strip_timestamps(capsys.readouterr().out) if "epoch=" in line
        ]
    assert lines["1"] != lines["2"]
