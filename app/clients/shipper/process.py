"""Runs the training command, passing its output through and into spools."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from app.clients.shipper.spool import Spool
from app.clients.shipper.stop import StopSignal

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
    stopped: str | None = None  # why the command was stopped on request, if it was


def run_command(
    command: Sequence[str],
    environment: Mapping[str, str],
    spools: Mapping[str, Spool],
    on_output: Callable[[], None],
    echo: Echo | None = None,
    stop_grace: float = 10.0,
    stop: StopSignal | None = None,
    new_session: bool = False,
    cwd: str | None = None,
) -> Outcome:
    """Run `command` until it exits; its stdout and stderr go to ours unchanged and to
    the `stdout` and `stderr` spools. Ctrl-C (SIGINT) and SIGTERM are passed on to it.
    When `stop` is set, the command gets SIGTERM, then SIGKILL after `stop_grace` seconds.
    With `new_session`, the command has a session of its own: a Ctrl-C at the terminal
    reaches only us, and we decide how the command ends (a worker stops it as Stopped).
    Every signal then goes to its whole process group, and once the command itself has
    exited, whatever is left of its group is SIGKILLed before its output is read to the
    end, as a container's end kills all its processes: a background process that still
    holds its stdout (`sleep 1000 & exit 0`) neither outlives the run nor holds it open.
    A process that left the group (`setsid`, `setpgid`) escapes this.

    The pumps never wait for the network: spools take bytes at once, so the command runs
    as fast with the service away as with it there.
    """
    child = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(environment),
        start_new_session=new_session,
        cwd=cwd,
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
    interrupted, stopped = _wait(child, stop_grace, stop, new_session)
    if new_session:
        # The command has exited but is not reaped yet, so its pid, its group's id, is
        # still its own: nothing else can be signalled by mistake.
        _signal(child, signal.SIGKILL, group=True)
    child.wait()
    for pump in pumps:
        pump.join()
    return Outcome(child.returncode, interrupted, _last_line(bytes(tail)), stopped)


def _wait(
    child: subprocess.Popen[bytes], stop_grace: float, stop: StopSignal | None, group: bool
) -> tuple[bool, str | None]:
    """Wait for the child to exit (without reaping it); on Ctrl-C or SIGTERM stop it
    (gracefully, then not), and on `stop` end it (SIGTERM, then SIGKILL); with `group`,
    its whole process group. Returns (interrupted, reason for a stop)."""
    interrupt = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda _s, _f: interrupt.set())
    try:
        while not _exited(child):
            try:
                if interrupt.wait(0.1):
                    break
            except KeyboardInterrupt:
                # The terminal sent SIGINT to the child too; give it time to finish.
                interrupt.set()
                break
            if stop is not None and stop.is_set():
                if _exited(child):
                    break  # it ended on its own first: its exit code says how
                _end(child, stop_grace, signal.SIGTERM, group)
                return False, stop.reason
        if interrupt.is_set():
            _end(child, stop_grace, signal.SIGINT, group)
        return interrupt.is_set(), None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _end(child: subprocess.Popen[bytes], grace: float, first: signal.Signals, group: bool) -> None:
    """Send `first`; then SIGTERM (if `first` was not) and SIGKILL, `grace` apart, until
    the child has exited (it is left for the caller to reap)."""
    _signal(child, first, group)
    if _exited(child, grace):
        return
    if first is not signal.SIGTERM:
        _signal(child, signal.SIGTERM, group)
        if _exited(child, grace):
            return
    _signal(child, signal.SIGKILL, group)
    _exited(child, None)


def _signal(child: subprocess.Popen[bytes], sig: signal.Signals, group: bool) -> None:
    """Send `sig` to the child, or with `group` to its process group (whose id is the
    child's pid, since it leads a session of its own)."""
    try:
        if group:
            os.killpg(child.pid, sig)
        else:
            os.kill(child.pid, sig)
    except ProcessLookupError:  # gone already: nothing is left to end
        pass


def _exited(child: subprocess.Popen[bytes], timeout: float | None = 0.0) -> bool:
    """Whether the child has exited, waiting up to `timeout` seconds (None: until it has).
    It is not reaped (WNOWAIT): until `child.wait()`, its pid is not given to another
    process, so signalling it or its group cannot reach a stranger."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if child.returncode is not None:
            return True
        try:
            found = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped already (by Popen's own bookkeeping)
            return True
        if found is not None:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


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
