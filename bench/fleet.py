"""Fleet phase: a thousand runs posting small chunks at once, driven by `wrk`.

`python -m bench.fleet [--database-url URL] [--workers N] [--runs 1000]` starts the
service, creates one job (two definitions) and its runs, then, in one run of the
script: `/healthz` under `wrk` (the yardstick of a trivial request), and 4 KB chunks
appended round-robin to every run, each holding one metric line (two points), a `\\r`
progress bar and noise lines. `wrk` is a C load generator, so the client is not what
is measured (it takes a few percent of one core here). Afterwards every run is read
back: its stream must hold whole chunks only, and each of its two metrics exactly one
point per chunk, so every acknowledged chunk was stored exactly once and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.clients.service_process import ServiceProcess
from bench.sections import replace_section

__all__ = ["FleetResult", "chunk_body", "main", "run_fleet"]

_REPO = Path(__file__).resolve().parent.parent
JOB = "fleet"
DEFINITIONS = [
    {"Name": "loss", "Regex": r"loss=([0-9.]+);"},
    {"Name": "acc", "Regex": r"acc=([0-9.]+);"},
]
CHUNK_BYTES = 4096


def chunk_body(size: int = CHUNK_BYTES) -> bytes:
    """One metric line, a progress bar redrawn with `\\r`, noise lines; `size` bytes."""
    head = b"epoch 3 step 120 loss=0.4321; acc=0.9150;\n"
    bar = b"".join(b"\r%3d%%|%-20s| %d/100" % (i, b"#" * (i // 5), i) for i in range(0, 101, 10))
    lines = [head, bar + b"\n"]
    filler = b"INFO data loader worker 3 prefetched batch 120 of shard 7 (pinned memory)\n"
    while sum(map(len, lines)) + len(filler) <= size:
        lines.append(filler)
    body = b"".join(lines)[:-1]  # the last line's end comes after the padding
    return body + b"." * (size - len(body) - 1) + b"\n"


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class FleetResult:
    database: str
    workers: int
    runs: int
    connections: int
    healthz: WrkResult
    chunks: WrkResult
    stored_chunks: int
    cpu_seconds: float  # the service's processes' CPU time while wrk sent the chunks
    exact: bool
    problems: tuple[str, ...]
    load_before: str

    @property
    def ratio(self) -> float:
        return self.chunks.requests_per_second / self.healthz.requests_per_second

    @property
    def cpu_ms_per_chunk(self) -> float:
        """The service's CPU time per answered chunk: steadier than the rate on a
        machine shared with other work."""
        return 1000 * self.cpu_seconds / max(1, self.chunks.requests)


def _lua(runs: int, body: bytes) -> str:
    # A quoted string with escapes: Lua's long brackets would turn each `\r` into `\n`.
    quoted = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}" for b in body)
    return f"""
local body = "{quoted}"
local runs = {runs}
local counter = 0
local id = 0
function setup(thread)
  thread:set("id", id)
  id = id + 1
end
function init(args)
  counter = id * 7919
end
function request()
  counter = counter + 1
  local run = string.format("run-%04d", counter % runs + 1)
  return wrk.format("POST", "/v1/jobs/{JOB}/runs/" .. run .. "/logs?stream=stdout",
    {{["Content-Type"] = "application/octet-stream"}}, body)
end
"""


def _wrk(url: str, seconds: int, connections: int, script: Path | None) -> WrkResult:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return _parse_wrk(out)


def _parse_wrk(out: str) -> WrkResult:
    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        assert found is not None, out
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    total = re.search(r"([0-9]+) requests in", out)
    assert rate is not None and total is not None, out
    non_2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
        p50_ms=ms("50%"),
        p99_ms=ms("99%"),
    )


def run_fleet(
    database_url: str,
    workers: int = 1,
    runs: int = 1000,
    seconds: int = 20,
    connections: int = 32,
    work: Path | None = None,
    settings: Mapping[str, str] | None = None,
) -> FleetResult:
    """Args:
    settings: `LOGMETRICS_*` variables for the service; others are its defaults.
    """
    from bench.machine import load_average

    load_before = load_average()
    work = work or Path(tempfile.mkdtemp(prefix="fleet-"))
    service = ServiceProcess(database_url, work / "service.log", cwd=_REPO, workers=workers)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
    environment.update(settings or {})
    body = chunk_body()
    script = work / "fleet.lua"
    script.write_text(_lua(runs, body))
    service.start(environment)
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            created = client.post(
                "/v1/jobs",
                json={
                    "name": JOB,
                    "objective": {"MetricName": "loss", "Type": "Minimize"},
                    "metric_definitions": DEFINITIONS,
                },
            )
            created.raise_for_status()
            for number in range(1, runs + 1):
                client.post(
                    f"/v1/jobs/{JOB}/runs", json={"name": f"run-{number:04d}"}
                ).raise_for_status()
            healthz = _wrk(f"{service.url}/healthz", max(5, seconds // 2), connections, None)
            cpu_before = _tree_cpu_seconds(service.pid)
            chunks = _wrk(service.url, seconds, connections, script)
            cpu_seconds = _tree_cpu_seconds(service.pid) - cpu_before
            stored, problems = _check(client, runs, len(body))
            for _ in range(3):
                if not problems:
                    break
                # Chunks wrk left in flight may still be committing as their runs are
                # read (PostgreSQL's reads of a run are not one snapshot): a real
                # difference stays, such a one is gone a second later.
                time.sleep(1)
                stored, problems = _check(client, runs, len(body))
    finally:
        service.stop()
    acknowledged = chunks.requests - chunks.non_2xx
    # wrk counts the requests it saw answered; those cut off at the end may be stored.
    if not acknowledged <= stored <= acknowledged + connections:
        problems.append(f"{stored} chunks stored, {acknowledged} acknowledged by wrk")
    if chunks.non_2xx or chunks.errors:
        problems.append(f"{chunks.non_2xx} non-2xx answers, {chunks.errors} socket errors")
    return FleetResult(
        database=database_url.split(":", 1)[0],
        workers=workers,
        runs=runs,
        connections=connections,
        healthz=healthz,
        chunks=chunks,
        stored_chunks=stored,
        cpu_seconds=cpu_seconds,
        exact=not problems,
        problems=tuple(problems),
        load_before=load_before,
    )


def _tree_cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process `pid` and its descendants (a service
    of several workers is a parent and its worker processes), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {pid}
    grew = True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        grew = bool(found)
        tree |= found
    return sum(times.get(member, 0.0) for member in tree)


def _check(client: httpx.Client, runs: int, size: int) -> tuple[int, list[str]]:
    """Chunks stored in all, and every run whose points are not one per metric per chunk."""
    stored, problems = 0, []
    cursor = None
    seen = 0
    while True:
        page = client.get(
            f"/v1/jobs/{JOB}/runs",
            params={"sort_by": "name", "limit": 500, **({"cursor": cursor} if cursor else {})},
        ).json()
        for run in page["runs"]:
            seen += 1
            detail = client.get(f"/v1/jobs/{JOB}/runs/{run['name']}").json()
            length = sum(s["next_offset"] for s in detail["streams"])
            counts = {d["metric_name"]: d["points"] for d in detail["diagnostics"]}
            chunks, rest = divmod(length, size)
            if rest or any(counts.get(name, 0) != chunks for name in ("loss", "acc")):
                problems.append(f"{run['name']}: {length} bytes but points {counts}")
            stored += chunks
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if seen != runs:
        problems.append(f"{seen} runs listed, {runs} created")
    return stored, problems


def render(results: Sequence[FleetResult]) -> str:
    lines = [
        "| database | workers | runs | chunks/s | /healthz/s | ratio | p50 ms | p99 ms "
        "| service CPU ms/chunk | chunks stored | exactly once |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.workers} | {r.runs} | {r.chunks.requests_per_second:.0f} "
            f"| {r.healthz.requests_per_second:.0f} | {r.ratio:.2f} | {r.chunks.p50_ms:.1f} "
            f"| {r.chunks.p99_ms:.1f} | {r.cpu_ms_per_chunk:.2f} | {r.stored_chunks} "
            f"| {'yes' if r.exact else 'NO'} |"
        )
    for r in results:
        for problem in r.problems[:10]:
            lines.append(f"- {r.database} x{r.workers}: {problem}")
    return "\n".join(lines)


def _section(results: Sequence[FleetResult], command: str) -> str:
    from bench.machine import describe_machine, load_average

    machine = describe_machine(None)
    return "\n".join(
        [
            "## Fleet: 1,000 runs posting 4 KB chunks",
            "",
            f"- Command: `{command}`",
            f"- Date: {machine.when}; commit {machine.commit}; {machine.cores} cores",
            f"- Load average before: {results[0].load_before if results else ''}",
            "- Each run: `wrk -t2 -c32` for the chunks and, in the same service run, for "
            "`/healthz`; ratio = chunks/s over /healthz/s. Target: ratio >= 0.5, p99 < 100 ms.",
            "- Service CPU ms/chunk: the CPU time of the service's processes while wrk sent "
            "the chunks, over the chunks answered (steadier than the rates on a shared machine).",
            "",
            render(results),
            "",
            f"Load average after: {load_average()}.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument(
        "--database-url",
        action="append",
        help="repeatable: `sqlite` (the default: a new file for each run) or a PostgreSQL "
        "URL (its database is wiped before each run)",
    )
    parser.add_argument("--workers", default="1", help="comma-separated, e.g. 1,2")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--write-results", action="store_true", help="write the table into bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("needs wrk: apt-get install wrk")
    results = []
    for url in args.database_url or [None]:
        for workers in [int(w) for w in args.workers.split(",")]:
            work = Path(tempfile.mkdtemp(prefix="fleet-"))
            # A fresh database for each run: a new SQLite file, or the PostgreSQL one wiped.
            database = f"sqlite:///{work / 'fleet.db'}" if not url or url == "sqlite" else url
            if url and url.startswith("postgresql"):
                _wipe_postgres(url)
            result = run_fleet(database, workers, args.runs, args.seconds, args.connections, work)
            results.append(result)
            print(
                json.dumps(
                    {
                        "database": result.database,
                        "workers": workers,
                        "chunks_per_s": result.chunks.requests_per_second,
                        "healthz_per_s": result.healthz.requests_per_second,
                        "p99_ms": result.chunks.p99_ms,
                        "cpu_ms_per_chunk": round(result.cpu_ms_per_chunk, 3),
                        "exact": result.exact,
                    }
                ),
                flush=True,
            )
    print(render(results))
    if args.write_results:
        command = "python -m bench.fleet " + shlex.join(sys.argv[1:] if argv is None else argv)
        path = _REPO / "bench" / "RESULTS.md"
        path.write_text(replace_section(path.read_text(), "fleet", _section(results, command)))
        print(f"wrote {path}")
    return 0 if all(r.exact for r in results) else 1


def _wipe_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
