"""A requirements.txt may not make pip read a file outside the submitted code: it is
refused before pip runs, and the reason never holds what that file says."""

from __future__ import annotations

import os

import pytest

from app.clients.requirements import (
    InstallFailed,
    requirements_file_problem,
    requirements_python,
)

SECRET = "TOPSECRET-0123456789\n"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("-r {secret}", "requirements.txt, line 1: -r '{secret}' names a file outside"),
        ("-c ../x", "requirements.txt, line 1: -c '../x' names a file outside"),
        ("--requirement={secret}", "requirements.txt, line 1: --requirement '{secret}' names"),
        ("--cons '{secret}'", "requirements.txt, line 1: --constraint '{secret}' names"),
        ("-r~/x", "requirements.txt, line 1: -r '~/x' names a file outside"),
        ("-r ${{HOME}}/x", "requirements.txt, line 1: -r '${{HOME}}/x' names a file outside"),
        ("-r file:///etc/x", "requirements.txt, line 1: -r 'file:///etc/x' names a file outside"),
        # A file inside the code that names one outside is refused as well.
        ("-r more.txt", "more.txt, line 2: -c '{secret}' names a file outside"),
    ],
)
def test_a_requirement_file_option_reading_outside_the_code_is_refused_before_pip(
    tmp_path, line, reason
):
    secret = tmp_path / "x"
    secret.write_text(SECRET)
    code = tmp_path / "code"
    code.mkdir()
    (code / "more.txt").write_text(f"tinypkg\n-c {secret}\n")
    requirements = code / "requirements.txt"
    requirements.write_text(f"{line.format(secret=secret)}\n")
    cache = tmp_path / "cache"

    with pytest.raises(InstallFailed) as refused:
        requirements_python(requirements, cache, dict(os.environ))

    expected = reason.format(secret=secret)
    assert str(refused.value).startswith(expected)
    assert str(refused.value).endswith("; give a relative path inside it")
    assert "TOPSECRET" not in str(refused.value)
    assert not cache.exists()  # no environment was made: pip never ran


def test_a_requirements_file_naming_files_inside_the_code_passes(tmp_path):
    code = tmp_path / "code"
    (code / "sub").mkdir(parents=True)
    # pip reads a file's relative paths from that file's folder.
    (code / "sub" / "more.txt").write_text("-c constraints.txt\n")
    (code / "sub" / "constraints.txt").write_text("tinypkg==1.0\n")
    requirements = code / "requirements.txt"
    requirements.write_text("--no-index  # offline\n-r sub/more.txt\n--requirement=absent.txt\n")

    assert requirements_file_problem(requirements) is None


def test_a_requirements_file_reached_through_a_symlink_outside_is_refused(tmp_path):
    (tmp_path / "outside.txt").write_text(SECRET)
    code = tmp_path / "code"
    code.mkdir()
    (code / "more.txt").symlink_to(tmp_path / "outside.txt")
    requirements = code / "requirements.txt"
    requirements.write_text("-r more.txt\n")

    assert requirements_file_problem(requirements) == (
        "requirements.txt, line 1: -r 'more.txt' leads outside the submitted code "
        "(through a symlink)"
    )
