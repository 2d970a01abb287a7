"""Image references: what Docker's own grammar takes, and what it refuses."""

from __future__ import annotations

import pytest

from app.protocol.images import image_reference_problem


@pytest.mark.parametrize(
    "image",
    [
        "python",
        "python:3.11-slim",
        "library/python:3.11",
        "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        "localhost:5000/team/trainer:v2",
        "[::1]:5000/trainer",
        "Registry.Example.com/trainer",  # a domain may have capitals; a path may not
        "ghcr.io/owner/repo__name/sub.part-x:V1_2.3",
        "repo@sha256:" + "0123456789abcdef" * 4,
        "repo:tag@sha256:" + "0123456789abcdef" * 4,
    ],
)
def test_a_reference_docker_parses_is_taken(image):
    assert image_reference_problem(image) is None


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("", "is empty"),
        ("--privileged", "begins with '-'"),
        ("-v/:/host", "begins with '-'"),
        ("python train", "holds whitespace or a control character"),
        ("python\ttrain", "holds whitespace or a control character"),
        ("python\x1b[31m", "holds whitespace or a control character"),
        ("python\n", "holds whitespace or a control character"),
        ("Python", "is not an image reference"),
        ("team/Trainer", "is not an image reference"),
        ("a..b", "is not an image reference"),
        ("a___b", "is not an image reference"),
        ("trainer:-x", "is not an image reference"),
        ("trainer:", "is not an image reference"),
        ("trainer@sha256:abc", "is not an image reference"),
        ("/trainer", "is not an image reference"),
        ("trainer/", "is not an image reference"),
        ("host:port/trainer", "is not an image reference"),
        ("træner", "is not an image reference"),
        ("trainer:tæg", "is not an image reference"),
        ("a/" + "b" * 254, "has a name longer than 255 characters"),
    ],
)
def test_anything_else_is_refused_with_what_is_wrong(image, problem):
    found = image_reference_problem(image)
    assert found is not None and found.startswith(problem)
