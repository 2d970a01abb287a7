"""`python -m trainer` end to end: sources, exit codes, stderr, SM_LOG_LEVEL.

Runs that train use the regression task for one or two epochs: its data is the
smallest, so a run takes a fraction of a second once torch is imported.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from trainer.__main__ import main

FAST = ["--task", "regression", "--epochs", "2", "--batch_size", "64"]
Start = Callable[[Sequence[str], Mapping[str, str]], "subprocess.Popen[str]"]
KNOWN = (
    "batch_size, dropout, epochs, eta_min, factor, focal_alpha, focal_gamma, gamma, "
    "hidden_units, label_smoothing, loss, lr, momentum, optimizer, patience, scheduler, "
    "seed, step_size, t_max, task, weight_decay"
)


def logged_hyperparameters(stdout: str) -> dict[str, object]:
    match = re.search(r"INFO starting on \w+ with hyperparameters (\{.*\})$", stdout, re.M)
    assert match, stdout
    loaded: dict[str, object] = json.loads(match.group(1))
    return loaded


def test_unknown_hyperparameter_in_a_process(
    process_env: Callable[..., dict[str, str]],
    start_trainer: Start,
    config_dir: Path,
) -> None:
    process = start_trainer(["--lrr", "0.1"], process_env(config_dir))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stdout == ""
    assert stderr == f"error: unknown hyperparameter 'lrr'; known: {KNOWN}\n"


def test_bad_sm_hps_value_in_a_process(
    process_env: Callable[..., dict[str, str]],
    start_trainer: Start,
    config_dir: Path,
) -> None:
    env = process_env(config_dir, SM_HPS='{"optimizer": "adagrad"}')
    process = start_trainer([], env)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stdout == ""
    assert stderr == (
        "error: bad value for 'optimizer': 'adagrad' (expected one of: sgd, adam, adamw)\n"
    )


@pytest.mark.parametrize(
    ("argv", "env", "stderr"),
    [
        (["--lr", "-1"], {}, "error: bad value for 'lr': -1 (expected a number > 0)\n"),
        (
            ["--loss", "mse"],
            {},
            "error: loss 'mse' does not fit task 'classification' "
            "(expected one of: cross_entropy, focal, label_smoothing)\n",
        ),
        (["--epochs"], {}, "error: flag --epochs needs a value\n"),
        (
            [],
            {"SM_LOG_LEVEL": "chatty"},
            "error: bad SM_LOG_LEVEL 'chatty' (expected 10, 20, 30, 40, 50 or a level name)\n",
        ),
        (
            [],
            {"SM_HPS": "not json"},
            "error: SM_HPS is not valid JSON: Expecting value: line 1 column 1 (char 0)\n",
        ),
    ],
)
def test_configuration_errors_exit_2_with_one_line(
    argv: list[str],
    env: dict[str, str],
    stderr: str,
    environ: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(argv, {**environ, **env}) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == stderr


def test_help_lists_every_hyperparameter(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--help"], environ) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m trainer [--NAME VALUE | --NAME=VALUE ...]\n")
    for name in KNOWN.split(", "):
        assert f"  --{name} " in out


def test_sources_reach_the_run_in_order(
    config_dir: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "hyperparameters.json").write_text(
        json.dumps(
            {
                "task": "regression",
                "epochs": "1",
                "lr": "0.1",
                "hidden_units": "8",
                "batch_size": "16",
                "sagemaker_program": "train.py",
                "_tuning_objective_metric": "val_mae",
            }
        ),
        encoding="utf-8",
    )
    environ["SM_HPS"] = json.dumps({"lr": "0.01", "hidden_units": 16, "loss": "huber"})
    assert main(["--lr", "0.001", "--scheduler=plateau"], environ) == 0
    logged = logged_hyperparameters(capsys.readouterr().out)
    assert {
        name: logged[name]
        for name in ("task", "epochs", "lr", "hidden_units", "batch_size", "loss", "scheduler")
    } == {
        "task": "regression",
        "epochs": 1,
        "lr": 0.001,
        "hidden_units": 16,
        "batch_size": 16,
        "loss": "huber",
        "scheduler": "plateau",
    }
    assert logged["objective_metric"] == "val_mae"
    assert "sagemaker_program" not in logged


def epoch_and_batch_lines(stdout: str) -> tuple[list[str], list[str]]:
    """Split output into epoch and batch messages, without timestamp and level."""
    messages = [line.split(" ", 2)[2] for line in stdout.splitlines()]
    epochs = [m.removeprefix("INFO ") for m in messages if m.startswith("INFO epoch=")]
    batches = [m.removeprefix("DEBUG ") for m in messages if m.startswith("DEBUG epoch=")]
    return epochs, batches


def test_log_level_10_logs_every_batch(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    environ["SM_LOG_LEVEL"] = "10"
    assert main(FAST, environ) == 0
    epochs, batches = epoch_and_batch_lines(capsys.readouterr().out)
    assert len(epochs) == 2
    # 353 training examples in batches of 64: 6 batches per epoch.
    assert [re.sub(r"batch_loss=[0-9]+\.[0-9]{6};", "batch_loss=L;", b) for b in batches] == [
        f"epoch={epoch}; batch={batch}; batch_loss=L;" for epoch in (1, 2) for batch in range(1, 7)
    ]


def test_log_level_20_logs_epochs_without_batches(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    environ["SM_LOG_LEVEL"] = "20"
    assert main(FAST, environ) == 0
    captured = capsys.readouterr()
    epochs, batches = epoch_and_batch_lines(captured.out)
    assert (len(epochs), batches) == (2, [])
    assert captured.err == ""


def test_log_level_40_hides_epoch_lines(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    environ["SM_LOG_LEVEL"] = "40"
    assert main(FAST, environ) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_divergence_exits_1_with_an_error_line(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--task", "regression", "--optimizer", "sgd", "--lr", "1000", "--scheduler", "none"]
    assert main([*argv, "--epochs", "3"], environ) == 1
    captured = capsys.readouterr()
    # No epoch line: the first epoch's train_loss is already nan, and nan is never printed.
    assert " INFO epoch=" not in captured.out
    assert [line.split(" ", 2)[2] for line in captured.err.splitlines()] == [
        "ERROR training diverged at epoch 1: train_loss is nan; "
        "try a lower lr or a different optimizer"
    ]
