"""What a training command inherits: everything but the shipper's credentials."""

from __future__ import annotations

import pytest

from app.clients.shipper.environment import inherited_environment, secret_pattern_problem

WORKER = {
    "PATH": "/usr/bin",
    "CUDA_VISIBLE_DEVICES": "0,1",
    "LOGMETRICS_TOKEN": "admin-token",
    "LOGMETRICS_URL": "http://logmetrics:8000",
    "LOGMETRICS_API_TOKENS": "admin:a,read:b",
    "LOGMETRICS_DATABASE_URL": "postgresql+psycopg://u:password@db/logmetrics",
    "AWS_ACCESS_KEY_ID": "AKIA",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_REGION": "eu-west-1",
    "HF_TOKEN": "hf",
    "hf_token": "lowercase is another variable",
}


def test_every_logmetrics_variable_is_withheld_and_nothing_else():
    assert inherited_environment(WORKER) == {
        "PATH": "/usr/bin",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-1",
        "HF_TOKEN": "hf",
        "hf_token": "lowercase is another variable",
    }


def test_named_secrets_and_patterns_are_withheld_case_sensitively():
    assert inherited_environment(WORKER, ["HF_TOKEN", "AWS_*_KEY*", "NOT_SET"]) == {
        "PATH": "/usr/bin",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "AWS_REGION": "eu-west-1",
        "hf_token": "lowercase is another variable",
    }


@pytest.mark.parametrize("pattern", ["HF_TOKEN", "AWS_*", "A?B", "*"])
def test_a_name_or_a_wildcard_pattern_names_secrets(pattern):
    assert secret_pattern_problem(pattern) is None


@pytest.mark.parametrize("pattern", ["", "AWS_[A-Z]*", "HF TOKEN", "A=B", "X-Y"])
def test_anything_else_is_no_secrets_name(pattern):
    assert secret_pattern_problem(pattern) == (
        "give a variable's name, or a pattern with * and ? such as AWS_*"
    )
