"""The ripgrep reference: `rg -o -r '$N'`, one pass per definition over a corpus.

Each pass prints the value group of every match, so ripgrep does the work a metric
extractor built from a grep would. `--engine auto` uses ripgrep's own engine where it
can and PCRE2 where a regex needs it (look-arounds, `(?<name>...)`). Output goes to a
pipe that is read whole: ripgrep stops at the first match when it writes to /dev/null.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from app.parsing import MetricDefinition
from bench.inprocess import Corpus
from bench.timing import Rate

__all__ = ["RipgrepResult", "ripgrep_available", "time_ripgrep"]


@dataclass(frozen=True)
class RipgrepResult:
    rate: Rate | None  # None: not measured, `note` says why
    version: str
    matches: int
    note: str


def ripgrep_available() -> str | None:
    """ripgrep's version line, or None when `rg` is not on PATH."""
    if shutil.which("rg") is None:
        return None
    found = subprocess.run(["rg", "--version"], capture_output=True, text=True, check=True)
    return found.stdout.splitlines()[0]


def time_ripgrep(
    definitions: Sequence[MetricDefinition], corpus: Corpus, lines: int
) -> RipgrepResult:
    version = ripgrep_available()
    if version is None:
        return RipgrepResult(
            None, "", 0, "rg not found: install it with `apt-get install -y ripgrep`"
        )
    seconds, cpu, matches, failed = 0.0, 0.0, 0, []
    for definition in definitions:
        command = [
            "rg",
            "--no-config",
            "--text",
            "--no-filename",
            "--no-line-number",
            "--no-unicode",
            "--engine",
            "auto",
            "--only-matching",
            "--replace",
            f"${{{_value_group(definition.regex)}}}",
            "--regexp",
            definition.regex,
            corpus.path,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        seconds += time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        if done.returncode not in (0, 1):  # 1: no match
            failed.append(f"{definition.name}: {done.stderr.decode(errors='replace').strip()}")
        matches += done.stdout.count(b"\n")
    rate = Rate(
        f"ripgrep, {len(definitions)} passes (rg -o -r)",
        corpus.name,
        seconds,
        len(corpus.data),
        lines,
        cpu_seconds=cpu,
    )
    note = "; ".join(failed) if failed else ""
    return RipgrepResult(rate, version, matches, note)


def _value_group(pattern: str) -> str:
    """The value group as the contract picks it: `value`, else 1 (2 if 1 is `step`)."""
    groups = regex.compile(pattern).groupindex
    if "value" in groups:
        return "value"
    return "2" if groups.get("step") == 1 else "1"
