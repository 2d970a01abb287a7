"""metric_defs/reference-trainer.json against lines the trainer prints.

Matched as the service matches them: the `regex` module's `search` on each line,
group 1 as the value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex

from trainer.log import batch_line, epoch_line
from trainer.tasks import TASKS, epoch_metric_names

DEFINITIONS_PATH = Path(__file__).resolve().parents[2] / "metric_defs" / "reference-trainer.json"

# Each metric a different value, so a regex that captures its neighbour is caught.
CLASSIFICATION_LINE = epoch_line(
    7,
    0.111111,
    0.222222,
    {
        "val_accuracy": 0.333333,
        "val_f1": 0.444444,
        "val_precision": 0.555555,
        "val_recall": 0.666666,
        "val_roc_auc": 0.777777,
    },
    0.000123,
)
REGRESSION_LINE = epoch_line(8, 0.1, 0.2, {"val_mae": 0.3, "val_mse": 0.4}, 0.5)
RANKING_LINE = epoch_line(9, 1.5, 2.5, {"val_mrr": 0.25, "val_ndcg": 0.75, "val_map": 0.125}, 1.0)
BATCH_LINE = batch_line(4, 12, 0.987654)
START_LINE = (
    'starting on cpu with hyperparameters {"task": "ranking", "lr": 0.003, "batch_size": 32}'
)


@pytest.fixture(scope="module")
def definitions() -> dict[str, regex.Pattern[str]]:
    loaded = json.loads(DEFINITIONS_PATH.read_text(encoding="utf-8"))
    assert [sorted(item) for item in loaded] == [["Name", "Regex"]] * len(loaded)
    return {item["Name"]: regex.compile(item["Regex"]) for item in loaded}


def captures(definitions: dict[str, regex.Pattern[str]], line: str) -> dict[str, str]:
    found = {}
    for name, pattern in definitions.items():
        match = pattern.search(line)
        if match:
            found[name] = match.group(1)
    return found


def test_every_printed_metric_has_a_definition(
    definitions: dict[str, regex.Pattern[str]],
) -> None:
    printed = {name for task in TASKS.values() for name in epoch_metric_names(task)}
    assert set(definitions) == printed | {"batch", "batch_loss"}


def test_classification_line(definitions: dict[str, regex.Pattern[str]]) -> None:
    assert captures(definitions, CLASSIFICATION_LINE) == {
        "epoch": "7",
        "train_loss": "0.111111",
        "val_loss": "0.222222",
        "val_accuracy": "0.333333",
        "val_f1": "0.444444",
        "val_precision": "0.555555",
        "val_recall": "0.666666",
        "val_roc_auc": "0.777777",
        "lr": "0.000123",
    }


def test_regression_line(definitions: dict[str, regex.Pattern[str]]) -> None:
    assert captures(definitions, REGRESSION_LINE) == {
        "epoch": "8",
        "train_loss": "0.100000",
        "val_loss": "0.200000",
        "val_mae": "0.300000",
        "val_mse": "0.400000",
        "lr": "0.5",
    }


def test_ranking_line(definitions: dict[str, regex.Pattern[str]]) -> None:
    assert captures(definitions, RANKING_LINE) == {
        "epoch": "9",
        "train_loss": "1.500000",
        "val_loss": "2.500000",
        "val_mrr": "0.250000",
        "val_ndcg": "0.750000",
        "val_map": "0.125000",
        "lr": "1",
    }


def test_a_batch_line_gives_no_epoch_point(definitions: dict[str, regex.Pattern[str]]) -> None:
    assert captures(definitions, BATCH_LINE) == {"batch": "12", "batch_loss": "0.987654"}


def test_the_start_line_gives_no_points(definitions: dict[str, regex.Pattern[str]]) -> None:
    assert captures(definitions, START_LINE) == {}


def test_a_loss_regex_does_not_match_inside_another_name(
    definitions: dict[str, regex.Pattern[str]],
) -> None:
    assert captures(definitions, "train_loss=0.5; my_val_loss=0.7; xlr=0.1;") == {
        "train_loss": "0.5"
    }
