"""The benchmark job's 40 metric definitions: the presets' regexes plus three extras.

A fleet's job carries what its trainers print: here the GAN example, Hugging Face
Trainer, Keras, Lightning, XGBoost and reference-trainer presets (renamed where two
presets use one name), and three extras a real job adds (throughput, memory and a
case-insensitive perplexity), which the corpus's "perf" lines carry.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.parsing import MAX_DEFINITIONS, MetricDefinition
from app.presets import DEFAULT_PRESETS_DIR

__all__ = ["BENCH_DEFINITIONS", "OBJECTIVE", "preset_definitions"]

# (preset, names to take in the preset's order (None: all), prefix for the taken names)
_FROM_PRESETS: tuple[tuple[str, tuple[str, ...] | None, str], ...] = (
    ("gan-example", None, ""),
    ("huggingface-trainer", None, "hf_"),
    ("keras", None, "keras_"),
    ("pytorch-lightning", None, "pl_"),
    ("xgboost", None, ""),
    (
        "reference-trainer",
        (
            "epoch",
            "train_loss",
            "val_loss",
            "val_accuracy",
            "val_f1",
            "val_precision",
            "val_recall",
            "val_roc_auc",
            "lr",
            "batch_loss",
        ),
        "",
    ),
)

_NUMBER = r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_EXTRAS = (
    MetricDefinition("throughput", rf"\bthroughput: ({_NUMBER}) samples/s"),
    MetricDefinition("gpu_mem_mib", r"\bgpu_mem=([0-9]+)MiB"),
    MetricDefinition("perplexity", rf"(?i)\bppl[ =:]+({_NUMBER})"),
)

# The job's objective: a metric the corpus prints on a share of its metric lines.
OBJECTIVE = {"MetricName": "Loss", "Type": "Minimize"}


def preset_definitions(name: str) -> tuple[MetricDefinition, ...]:
    """A preset's definitions as `metric_defs/NAME.json` gives them."""
    raw = json.loads((Path(DEFAULT_PRESETS_DIR) / f"{name}.json").read_text())
    return tuple(MetricDefinition(d["Name"], d["Regex"]) for d in raw)


def _bench_definitions() -> tuple[MetricDefinition, ...]:
    chosen: list[MetricDefinition] = []
    for preset, names, prefix in _FROM_PRESETS:
        for definition in preset_definitions(preset):
            if names is None or definition.name in names:
                chosen.append(MetricDefinition(prefix + definition.name, definition.regex))
    chosen.extend(_EXTRAS)
    assert len(chosen) == MAX_DEFINITIONS, f"{len(chosen)} definitions, want {MAX_DEFINITIONS}"
    assert len({d.name for d in chosen}) == len(chosen), "definition names must be unique"
    return tuple(chosen)


BENCH_DEFINITIONS = _bench_definitions()
