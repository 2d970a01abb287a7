"""What a plausible container image reference is, shared by job creation and the worker.

A training image is a tenant's text that a worker may hand to `docker run`. Anything that
is not an image reference in the grammar Docker itself parses
(github.com/distribution/reference) is refused, so no text can be read as an option
(`--privileged`), split into words, or smuggle a control character into a log:

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := host [":" port-number]
    host             := domain-name | "[" IPv6address "]"
    domain-name      := domain-component ["." domain-component]*
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" /[0-9a-fA-F]{32,}/

with the name at most 255 characters, as Docker has it. Path components are lowercase and
every part begins with a letter or digit, so a reference never begins with `-`.

A job made through SageMaker's API may name an algorithm (`AlgorithmName`) instead of an
image; its training image is then that name or ARN, which can no more begin with `-` or
hold a space (`training_image_problem` takes both).
"""

from __future__ import annotations

import re

__all__ = ["ALGORITHM_NAME", "MAX_NAME_LENGTH", "image_reference_problem", "training_image_problem"]

MAX_NAME_LENGTH = 255

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
# ASCII: \w must not take letters of other scripts, which Docker's Go regexp does not.
_REFERENCE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)

# SageMaker's AlgorithmName (its model's ArnOrName shape): a name, or an algorithm's ARN.
ALGORITHM_NAME = re.compile(
    r"(?:arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*/)?"
    r"[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}",
    re.ASCII,
)


def image_reference_problem(text: str) -> str | None:
    """Why `text` is not a plausible container image reference, or None if it is one.

    Args:
        text: an image as a tenant gave it (`TrainingImage`, a search's `training_image`).

    Returns:
        None for a reference Docker would parse (`python:3.11`,
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/byo:2`, `repo@sha256:...`); else a
        sentence saying what is wrong, fit to follow the field's name in an error message.
    """
    if not text:
        return "is empty: give an image reference such as repository/name:tag"
    if any(c.isspace() or not c.isprintable() for c in text):
        return "holds whitespace or a control character: an image reference holds neither"
    if text.startswith("-"):
        return "begins with '-': an image reference begins with a letter or digit"
    found = _REFERENCE.fullmatch(text)
    if found is None:
        return (
            "is not an image reference ([registry[:port]/]path[:tag][@digest], each part of "
            "the path lowercase letters and digits joined by '.', '_', '__' or dashes)"
        )
    if len(found["name"]) > MAX_NAME_LENGTH:
        return f"has a name longer than {MAX_NAME_LENGTH} characters"
    return None


def training_image_problem(text: str) -> str | None:
    """Why a job may not name `text` as its runs' training image, or None if it may: an
    image reference, or a SageMaker algorithm's name or ARN.

    Args:
        text: a search's `training_image`.

    Returns: as `image_reference_problem`, None for an algorithm's name or ARN too.
    """
    if ALGORITHM_NAME.fullmatch(text):
        return None
    return image_reference_problem(text)
