"""Does the Bayesian search (Optuna's TPE, as the service runs it) beat random search?

A noisy synthetic objective with the shapes a tuner meets (a learning rate best on a log
scale, a momentum, a categorical optimizer, an integer depth), minimized. For each seed,
each strategy runs 30 trials one after another through `app.tuning.suggest` exactly as
the service calls it (the history of earlier runs, the index, the seed); the score of a
search is the true (noise-free) loss of the run it would report as best. The medians
over seeds are compared, with the spread.

    python -m bench.tuning [--seeds 20] [--trials 30] [--write-results]
"""

from __future__ import annotations

import argparse
import math
import random
import shlex
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.protocol.search import SearchSpec
from app.tuning.suggest import Trial, TrialOutcome, suggest
from bench.sections import replace_section

__all__ = ["main", "run_search", "true_loss"]

_REPO = Path(__file__).resolve().parent.parent
NOISE = 0.1
RANGES = {
    "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "sgd", "rmsprop"]}],
    "IntegerParameterRanges": [{"Name": "layers", "MinValue": 1, "MaxValue": 8}],
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": 1e-5, "MaxValue": 1.0, "ScalingType": "Logarithmic"},
        {"Name": "momentum", "MinValue": 0.0, "MaxValue": 0.99},
    ],
}
_OPTIMIZER = {"adam": 0.0, "sgd": 0.4, "rmsprop": 0.25}


def true_loss(h: Mapping[str, str]) -> float:
    """Best (0) at lr = 10^-2.5, momentum 0.8, adam, 4 layers."""
    return (
        (math.log10(float(h["lr"])) + 2.5) ** 2 / 4
        + 2 * (float(h["momentum"]) - 0.8) ** 2
        + _OPTIMIZER[h["optimizer"]]
        + 0.05 * (int(h["layers"]) - 4) ** 2
    )


def run_search(strategy: str, seed: int, trials: int) -> tuple[float, float]:
    """(true loss of the reported best run, seconds per suggestion)."""
    search = SearchSpec.model_validate(
        {
            "strategy": strategy,
            "command": ["true"],
            "random_seed": seed,
            "resource_limits": {"max_number_of_training_jobs": trials},
            "parameter_ranges": RANGES,
        }
    )
    noise = random.Random(f"noise/{seed}")
    history: list[Trial] = []
    spent = 0.0
    for index in range(trials):
        started = time.perf_counter()
        chosen = suggest(search, index, history, maximize=False)
        spent += time.perf_counter() - started
        observed = true_loss(chosen) + noise.gauss(0, NOISE)
        history.append(Trial(chosen, TrialOutcome(finished=True, value=observed)))
    best = min(history, key=lambda t: t.outcome.value or math.inf)
    return true_loss(best.hyperparameters), spent / trials


def _summary(values: Sequence[float]) -> str:
    ordered = sorted(values)
    quarter = max(0, len(ordered) // 4)
    return (
        f"{statistics.median(ordered):.3f} "
        f"(quartiles {ordered[quarter]:.3f} to {ordered[-1 - quarter]:.3f})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tuning", description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    scores: dict[str, list[float]] = {"Random": [], "Bayesian": []}
    seconds: dict[str, list[float]] = {"Random": [], "Bayesian": []}
    for seed in range(args.seeds):
        for strategy in scores:
            score, per_suggestion = run_search(strategy, seed, args.trials)
            scores[strategy].append(score)
            seconds[strategy].append(per_suggestion)
    wins = sum(b < r for b, r in zip(scores["Bayesian"], scores["Random"], strict=True))
    lines = [
        f"## Tuning: Bayesian (TPE) against Random, {args.trials} trials, {args.seeds} seeds",
        "",
        "- Command: `python -m bench.tuning "
        + shlex.join(sys.argv[1:] if argv is None else argv)
        + "`",
        f"- Objective: a synthetic loss (minimized, 0 at best) plus Gaussian noise, "
        f"sigma {NOISE}; a search scores the true loss of the run it reports as best.",
        "",
        "| Strategy | Median best true loss (quartiles) | Time per suggestion |",
        "|---|---|---|",
    ]
    for strategy, values in scores.items():
        per = statistics.median(seconds[strategy]) * 1000
        lines.append(f"| {strategy} | {_summary(values)} | {per:.1f} ms |")
    lines += ["", f"Bayesian found the better run in {wins} of {args.seeds} seeds."]
    text = "\n".join(lines)
    print(text)
    if args.write_results:
        path = _REPO / "bench" / "RESULTS.md"
        path.write_text(replace_section(path.read_text(), "tuning", text))
        print(f"wrote {path}")
    better = statistics.median(scores["Bayesian"]) < statistics.median(scores["Random"])
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
