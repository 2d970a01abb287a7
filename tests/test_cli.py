"""The `logmetrics` command: every option has help; `serve` says what it serves."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from app.cli import build_parser
from app.parsing import core_status


def _subcommands():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return commands.choices


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_of_every_command_has_help(name):
    command = _subcommands()[name]
    nested = [
        a for a in command._actions if getattr(a, "choices", None) and a.dest.endswith("command")
    ]
    parsers = [command, *(p for a in nested for p in a.choices.values())]
    for parser in parsers:
        for action in parser._actions:
            if action.option_strings:
                assert action.help, f"{parser.prog} {action.option_strings[0]} has no help"


def test_run_usage_names_every_option():
    usage = _subcommands()["run"].format_usage()
    for option in (
        "--job",
        "--name",
        "--hp",
        "--url",
        "--token",
        "--token-file",
        "--secret-env",
        "--give-up-after",
    ):
        assert option in usage


def test_the_token_option_warns_that_it_shows_in_ps():
    (token,) = [a for a in _subcommands()["worker"]._actions if "--token" in a.option_strings]
    assert "It shows in `ps` to every user of the machine" in token.help


def logmetrics(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60, **kwargs
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "--token-file '{path}': cannot read it: No such file or directory"),
        ("", "--token-file '{path}': its first line is empty"),
        ("   \nadmin-token-0123456789\n", "--token-file '{path}': its first line is empty"),
        (b"\xff\xfe", "--token-file '{path}': cannot read it: 'utf-8' codec can't decode"),
    ],
)
def test_a_token_file_that_gives_no_token_is_a_clear_error(tmp_path, content, error):
    path = tmp_path / "token"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    for command in ("worker", "jobs"):
        done = logmetrics(command, "--url", "http://127.0.0.1:9", "--token-file", str(path))
        assert done.returncode == 2
        assert f"logmetrics: error: {error.format(path=path)}" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_token_comes_from_the_option_or_the_file_not_both(tmp_path):
    done = logmetrics("worker", "--token", "x" * 20, "--token-file", str(tmp_path / "t"))
    assert done.returncode == 2
    assert "argument --token-file: not allowed with argument --token" in done.stderr


def test_a_secret_is_named_by_a_variable_name_or_pattern():
    done = logmetrics("worker", "--secret-env", "AWS_[A-Z]*")
    assert done.returncode == 2
    assert (
        "argument --secret-env: 'AWS_[A-Z]*': give a variable's name, or a pattern with * and ? "
        "such as AWS_*"
    ) in done.stderr


def test_a_data_root_must_be_a_folder(tmp_path):
    done = logmetrics("worker", "--url", "http://127.0.0.1:9", "--data-root", str(tmp_path / "no"))
    assert done.returncode == 2
    assert done.stderr == f"logmetrics: --data-root '{tmp_path / 'no'}' is not a folder\n"


def test_serve_says_where_it_listens_what_database_it_opened_and_whether_tokens_are_on(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path}/served.db"
    service = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--database-url", url],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = service.stderr.readline()
    finally:
        service.terminate()
        service.communicate(timeout=30)
    # The parsing path as this process sees it: the service runs the same build.
    assert first == (
        f"logmetrics: serving http://127.0.0.1:{port} with 1 process on {url}; access control "
        f"off; parsing: {core_status()}\n"
    )
