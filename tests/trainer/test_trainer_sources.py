"""Where hyperparameters come from: hyperparameters.json < SM_HPS < flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.errors import ConfigError
from trainer.sources import decode_value, read_hyperparameters


def write_file(config_dir: Path, values: dict[str, object]) -> None:
    (config_dir / "hyperparameters.json").write_text(json.dumps(values), encoding="utf-8")


def test_no_source_gives_nothing(environ: dict[str, str]) -> None:
    assert read_hyperparameters([], environ) == {}


def test_file_values_are_decoded_as_json(config_dir: Path, environ: dict[str, str]) -> None:
    # SageMaker writes every value as a string.
    write_file(
        config_dir,
        {
            "lr": "0.01",
            "epochs": "3",
            "focal_alpha": "[0.25, 1]",
            "optimizer": "adam",
            "quoted": '"sgd"',
            "flag": "true",
            "nothing": "null",
        },
    )
    assert read_hyperparameters([], environ) == {
        "lr": 0.01,
        "epochs": 3,
        "focal_alpha": [0.25, 1],
        "optimizer": "adam",
        "quoted": "sgd",
        "flag": True,
        "nothing": None,
    }


def test_later_sources_override_earlier_ones_name_by_name(
    config_dir: Path, environ: dict[str, str]
) -> None:
    write_file(config_dir, {"lr": "0.1", "epochs": "5", "seed": "1"})
    environ["SM_HPS"] = json.dumps({"lr": 0.2, "epochs": 6})
    raw = read_hyperparameters(["--lr", "0.3"], environ)
    assert raw == {"lr": 0.3, "epochs": 6, "seed": 1}


def test_sm_hps_overrides_file(config_dir: Path, environ: dict[str, str]) -> None:
    write_file(config_dir, {"optimizer": "sgd"})
    environ["SM_HPS"] = '{"optimizer": "adamw", "epochs": "4"}'
    assert read_hyperparameters([], environ) == {"optimizer": "adamw", "epochs": 4}


def test_both_flag_forms(environ: dict[str, str]) -> None:
    raw = read_hyperparameters(
        ["--lr", "0.01", "--epochs=2", "--eta_min", "-1", "--task=regression"], environ
    )
    assert raw == {"lr": 0.01, "epochs": 2, "eta_min": -1, "task": "regression"}


def test_a_repeated_flag_keeps_the_last_value(environ: dict[str, str]) -> None:
    assert read_hyperparameters(["--lr", "0.1", "--lr=0.2"], environ) == {"lr": 0.2}


def test_platform_keys_pass_through_to_the_checks(environ: dict[str, str]) -> None:
    environ["SM_HPS"] = '{"_tuning_objective_metric": "val_accuracy", "sagemaker_region": "x"}'
    assert read_hyperparameters([], environ) == {
        "_tuning_objective_metric": "val_accuracy",
        "sagemaker_region": "x",
    }


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        ("0.01", 0.01),
        ("10", 10),
        ("true", True),
        ("[0.25, 1]", [0.25, 1]),
        ("adam", "adam"),
        ("val_loss", "val_loss"),
        ("1e-3", 0.001),
        (5, 5),
    ],
)
def test_decode_value(value: object, decoded: object) -> None:
    assert decode_value(value) == decoded


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr"], "flag --lr needs a value"),
        (["lr", "0.1"], "unexpected argument 'lr'; give hyperparameters as --name value"),
        (["--=1"], "unexpected argument '--=1'; give hyperparameters as --name value"),
        (["-x"], "unexpected argument '-x'; give hyperparameters as --name value"),
    ],
)
def test_malformed_flags(argv: list[str], message: str, environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as raised:
        read_hyperparameters(argv, environ)
    assert str(raised.value) == message


def test_sm_hps_must_be_a_json_object(environ: dict[str, str]) -> None:
    environ["SM_HPS"] = "[1, 2]"
    with pytest.raises(ConfigError) as raised:
        read_hyperparameters([], environ)
    assert str(raised.value) == "SM_HPS must hold a JSON object, not list"


def test_sm_hps_must_be_json(environ: dict[str, str]) -> None:
    environ["SM_HPS"] = "{lr: 1}"
    with pytest.raises(ConfigError, match=r"^SM_HPS is not valid JSON: "):
        read_hyperparameters([], environ)


def test_file_must_be_a_json_object(config_dir: Path, environ: dict[str, str]) -> None:
    (config_dir / "hyperparameters.json").write_text('"lr"', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        read_hyperparameters([], environ)
    assert (
        str(raised.value)
        == f"{config_dir / 'hyperparameters.json'} must hold a JSON object, not str"
    )
