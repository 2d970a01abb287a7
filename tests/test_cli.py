"""The `logmetrics` command: every option has help; `serve` says what it serves."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from app.cli import build_parser


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
    for option in ("--job", "--name", "--hp", "--url", "--token", "--give-up-after"):
        assert option in usage


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
    assert first == (
        f"logmetrics: serving http://127.0.0.1:{port} with 1 process on {url}; access control off\n"
    )
