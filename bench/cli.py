"""`python -m bench`: the options, then the run, the report and RESULTS.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.config import PHASES, BenchConfig, quick
from bench.job_page import measure as measure_job_page
from bench.job_page import render as render_job_page
from bench.job_page import target as job_page_target
from bench.report import render, targets
from bench.run import run_benchmark
from bench.sections import read_section, replace_section
from bench.timing import MB

__all__ = ["main"]

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


SEPARATE_SECTIONS = ("fleet", "tuning", "job_page")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = _config(args)
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    results = run_benchmark(config, command.strip())
    print(render(results, markdown=False))
    if not results.equal:
        return 1
    page, page_failed = _job_page(config, command.strip()), False
    if page is not None:
        print(page[0])
        page_failed = page[1] is False
    if args.write_results is not None:
        # The fleet, tuning and job-page phases (python -m bench.fleet, bench.tuning,
        # bench.job_page) write sections of their own: kept, the job page's replaced
        # when this run measured it.
        previous = args.write_results.read_text() if args.write_results.exists() else ""
        text = render(results, markdown=True)
        for name in SEPARATE_SECTIONS:
            text = replace_section(text, name, read_section(previous, name))
        if page is not None:
            text = replace_section(text, "job_page", page[0])
        args.write_results.write_text(text)
        print(f"wrote {args.write_results}")
    failed = [t for t in targets(results) if t.passed is False]
    return 2 if (failed or page_failed) and args.fail_on_target else 0


def _job_page(config: BenchConfig, command: str) -> tuple[str, bool | None] | None:
    """The job-page phase's section and target verdict; None when it did not run (not
    asked for, or no Chromium here: said on stderr)."""
    if not config.runs("job-page"):
        return None
    work = config.out_dir / "job-page"
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = measure_job_page(
            work / "job-page.db",
            work,
            config.job_page_runs,
            config.points_per_run,
            config.job_page_repeats,
            config.job_page_cold,
            config.out_dir / "cache" if config.reuse_scale_db else None,
            config.seed,
        )
    except RuntimeError as exc:
        print(f"[bench] job page not measured: {exc}", file=sys.stderr)
        return None
    return render_job_page(result, command), job_page_target(result)[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark logmetrics: naive baseline, parser, HTTP ingest, re-parse, "
        "scale, memory.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of every phase, about a minute"
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated, from {', '.join(PHASES)} (default: all)",
    )
    parser.add_argument("--corpus-mb", type=float, help="sparse corpus size in MB (default 50)")
    parser.add_argument("--dense-mb", type=float, help="dense corpus size in MB (default 10)")
    parser.add_argument(
        "--unseen-mb", type=float, help="size in MB of the unseen (mixed) corpus (default 20)"
    )
    parser.add_argument(
        "--unseen-seed", type=int, help="the unseen corpus's seed (default: --seed plus 1)"
    )
    parser.add_argument(
        "--scale-runs",
        help="job sizes for the scale phase, comma-separated (default 100,1000,10000)",
    )
    parser.add_argument(
        "--scale-points",
        type=int,
        help="points in the largest scale job (default 10,000,000); runs share them evenly",
    )
    parser.add_argument(
        "--concurrent-mb", type=float, help="MB the 50 runs post in all (default 50)"
    )
    parser.add_argument(
        "--memory-mb", type=float, help="MB ingested for the memory check (default 500)"
    )
    parser.add_argument(
        "--reuse-scale-db",
        action="store_true",
        help="keep the filled scale database in the output folder's cache/ and reuse it "
        "while app/storage/schema.py creates the same schema",
    )
    parser.add_argument("--repeat", type=int, help="rounds of naive and parser passes (default 3)")
    parser.add_argument("--seed", type=int, help="corpus seed (default 1)")
    parser.add_argument("--out-dir", type=Path, help="where corpora and databases go")
    parser.add_argument(
        "--write-results",
        type=Path,
        nargs="?",
        const=RESULTS_PATH,
        help=f"write the report as Markdown (default path: {RESULTS_PATH.name} in bench/)",
    )
    parser.add_argument(
        "--fail-on-target", action="store_true", help="exit with 2 when a target fails"
    )
    return parser


def _config(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig()
    if args.quick:
        config = quick(config)
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise SystemExit(f"unknown phases: {', '.join(unknown)}; known: {', '.join(PHASES)}")
    changes: dict[str, object] = {"phases": phases}
    if args.corpus_mb is not None:
        changes["sparse_bytes"] = int(args.corpus_mb * MB)
    if args.dense_mb is not None:
        changes["dense_bytes"] = int(args.dense_mb * MB)
    if args.unseen_mb is not None:
        changes["unseen_bytes"] = int(args.unseen_mb * MB)
    if args.unseen_seed is not None:
        changes["unseen_seed"] = args.unseen_seed
    if args.scale_runs is not None:
        changes["scale_runs"] = tuple(sorted(int(n) for n in args.scale_runs.split(",")))
    if args.scale_points is not None:
        changes["scale_points"] = args.scale_points
    if args.concurrent_mb is not None:
        changes["concurrent_bytes"] = int(args.concurrent_mb * MB)
    if args.memory_mb is not None:
        changes["memory_bytes"] = int(args.memory_mb * MB)
        changes["memory_first"] = int(args.memory_mb * MB) // 10
    if args.repeat is not None:
        changes["repeats"] = args.repeat
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.reuse_scale_db:
        changes["reuse_scale_db"] = True
    if args.out_dir is not None:
        changes["out_dir"] = args.out_dir.resolve()
    return replace(config, **changes)  # type: ignore[arg-type]
