"""`python -m bench.profiles`: where the parser and the service spend their time.

Samples with py-spy (`pip install py-spy`), which reads the stacks from outside, so the
profiled code runs at full speed (cProfile slows the parser's small calls several
times over and skews the picture). Profiles:

- the parser in process on the sparse and the dense corpus (scanner auto, 1 MiB chunks);
- the service while one client posts the sparse corpus in 1 MiB and in 64 KiB chunks,
  and the dense one in 1 MiB chunks (py-spy attached to the service's process).

For each: the lines where samples land (self time) and the functions on the stack
(total time), as shares of the samples. Time inside C code (a regex search, SQLite)
counts for the Python line that called it.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from app.parsing import LogFormat, Parser, ParserLimits, compile_definitions
from bench.config import BenchConfig, KiB, MiB
from bench.corpus import CorpusKind, generate
from bench.definitions import BENCH_DEFINITIONS, OBJECTIVE
from bench.http_ingest import create_job, post_run
from bench.inprocess import Corpus, parse_in_chunks
from bench.service import Service
from bench.timing import MB

__all__ = ["main", "summarize"]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.parse_file is not None:  # the child process py-spy samples
        _parse_file(Path(args.parse_file), args.passes)
        return 0
    if shutil.which("py-spy") is None:
        print("py-spy is not installed: `pip install py-spy`", file=sys.stderr)
        return 1
    work = (args.out_dir or BenchConfig().out_dir) / "profile"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    corpora = {}
    for kind, size in ((CorpusKind.SPARSE, args.corpus_mb), (CorpusKind.DENSE, args.dense_mb)):
        data = generate(kind, int(size * MB), args.seed)
        path = work / f"{kind.value}.log"
        path.write_bytes(data)
        corpora[kind.value] = Corpus(kind.value, data, str(path))
    for corpus in corpora.values():
        raw = work / f"parser-{corpus.name}.raw"
        _record_child(raw, args.rate, [corpus.path, "--passes", str(args.passes)])
        title = f"parser in process, {corpus.name} corpus ({len(corpus.data) / MB:,.1f} MB)"
        _print(title, raw, args.top)
    service = Service(work / "ingest.db", work / "service.log")
    with service, service.client() as client:
        create_job(client, "profile", BENCH_DEFINITIONS, OBJECTIVE)
        for name, chunk in (("sparse", MiB), ("sparse", 64 * KiB), ("dense", MiB)):
            run = f"{name}-{chunk // KiB}k"
            created = client.post("/v1/jobs/profile/runs", json={"name": run})
            created.raise_for_status()
            raw = work / f"service-{run}.raw"
            sampler = _attach(service.pid, raw, args.rate)
            start = time.perf_counter()
            post_run(client, "profile", run, corpora[name].data, chunk)
            seconds = time.perf_counter() - start
            _stop(sampler)
            size = len(corpora[name].data) / MB
            title = (
                f"service, HTTP ingest of the {name} corpus in {chunk // KiB} KiB chunks "
                f"({size:,.1f} MB in {seconds:,.1f} s while sampled)"
            )
            _print(title, raw, args.top)
    return 0


def summarize(raw: Path, top: int) -> list[str]:
    """The hottest lines (self) and functions (total) of a py-spy raw file, as text."""
    self_samples: Counter[str] = Counter()
    total_samples: Counter[str] = Counter()
    samples = 0
    for entry in raw.read_text().splitlines():
        stack, _, count_text = entry.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        self_samples[frames[-1]] += count
        for function in {frame.split(" (")[0] + _file_of(frame) for frame in frames}:
            total_samples[function] += count
    if not samples:
        return ["  no samples"]
    lines = [f"  {samples} samples; self (the line a sample landed on):"]
    lines += [f"    {n / samples:6.1%}  {frame}" for frame, n in self_samples.most_common(top)]
    lines.append("  total (functions on the stack):")
    lines += [f"    {n / samples:6.1%}  {name}" for name, n in total_samples.most_common(top)]
    return lines


def _file_of(frame: str) -> str:
    # "name (path/file.py:12)" -> " (path/file.py)"
    _, _, where = frame.partition(" (")
    return f" ({where.rpartition(':')[0]})" if where else ""


def _record_child(raw: Path, rate: int, child_args: list[str]) -> None:
    command = [
        "py-spy", "record", "--format", "raw", "--rate", str(rate), "--output", str(raw),
        "--", sys.executable, "-m", "bench.profiles", "--parse-file", *child_args,
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)


def _attach(pid: int, raw: Path, rate: int) -> subprocess.Popen[bytes]:
    command = [
        "py-spy", "record", "--pid", str(pid), "--nonblocking", "--format", "raw",
        "--rate", str(rate), "--output", str(raw),
    ]  # fmt: skip
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy needs a moment to attach
    return sampler


def _stop(sampler: subprocess.Popen[bytes]) -> None:
    sampler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    sampler.wait(timeout=60)


def _print(title: str, raw: Path, top: int) -> None:
    text = "\n".join([title, *summarize(raw, top), ""])
    raw.with_suffix(".txt").write_text(text)
    print(text, flush=True)


def _parse_file(path: Path, passes: int) -> None:
    data = path.read_bytes()
    parser = Parser(compile_definitions(BENCH_DEFINITIONS), LogFormat.TEXT, ParserLimits())
    for _ in range(passes):
        parse_in_chunks(parser, data, MiB)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__)
    parser.add_argument("--corpus-mb", type=float, default=20.0, help="sparse corpus, MB")
    parser.add_argument("--dense-mb", type=float, default=4.0, help="dense corpus, MB")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=int, default=200, help="samples a second")
    parser.add_argument("--top", type=int, default=15, help="rows per list")
    parser.add_argument("--passes", type=int, default=3, help="parser passes in process")
    parser.add_argument("--out-dir", type=Path, help="default: bench/out")
    parser.add_argument("--parse-file", help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
