"""Runs the training command, passing its output through and into spools."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from app.shipper.spool import Spool

__all__ = ["Echo", "Outcome", "raw_echo", "run_command"]

Echo = Callable[[int, bytes], None]
"""Shows a piece of the command's output on file descriptor 1 or 2."""

_READ_SIZE = 64 * 1024
_TAIL_BYTES = 8 * 1024


@dataclass(frozen=True)
class Outcome:
    """How the command ended: exit code, whether it was interrupted, last stderr line."""

    returncode: int
    interrupted: bool
    last_stderr_line: str | None


def run_command(
    command: Sequence[str],
    environment: Mapping[str, str],
    spools: Mapping[str, Spool],
    on_output: Callable[[], None],
    echo: Echo | None = None,
    stop_grace: float = 10.0,
) -> Outcome:
    """Run `command` until it exits; its stdout and stderr go to ours unchanged and to
    the `stdout` and `stderr` spools. Ctrl-C (SIGINT) and SIGTERM are passed on to it.

    The pumps never wait for the network: spools take bytes at once, so the command runs
    as fast with the service away as with it there.
    """
    child = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(environment),
    )
    assert child.stdout is not None and child.stderr is not None
    tail = bytearray()
    show = echo or raw_echo
    pumps = [
        threading.Thread(
            target=_pump, args=(child.stdout, 1, spools["stdout"], on_output, show, None)
        ),
        threading.Thread(
            target=_pump, args=(child.stderr, 2, spools["stderr"], on_output, show, tail)
        ),
    ]
    for pump in pumps:
        pump.start()
    interrupted = _wait(child, stop_grace)
    for pump in pumps:
        pump.join()
    return Outcome(child.returncode, interrupted, _last_line(bytes(tail)))


def _wait(child: subprocess.Popen[bytes], stop_grace: float) -> bool:
    """Wait for the child; on Ctrl-C or SIGTERM stop it (gracefully, then not)."""
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    try:
        while child.poll() is None:
            try:
                if stop.wait(0.1):
                    break
            except KeyboardInterrupt:
                # The terminal sent SIGINT to the child too; give it time to finish.
                stop.set()
                break
        if stop.is_set():
            _stop(child, stop_grace)
        return stop.is_set()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop(child: subprocess.Popen[bytes], grace: float) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        child.terminate()
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _pump(
    source: IO[bytes],
    fd: int,
    spool: Spool,
    on_output: Callable[[], None],
    echo: Echo,
    tail: bytearray | None,
) -> None:
    while chunk := os.read(source.fileno(), _READ_SIZE):
        spool.append(chunk)
        echo(fd, chunk)
        on_output()
        if tail is not None:
            tail += chunk
            del tail[:-_TAIL_BYTES]
    source.close()


def raw_echo(fd: int, data: bytes) -> None:
    """Write the bytes as they are: the command's output passes through unchanged."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            return  # our own output is gone; the logs still go to the service
        view = view[written:]


def _last_line(tail: bytes) -> str | None:
    for line in reversed(tail.replace(b"\r", b"\n").split(b"\n")):
        text = line.decode("utf-8", "replace").strip()
        if text:
            return text[:1024]
    return None
