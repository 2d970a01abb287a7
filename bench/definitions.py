"""The benchmark job's 40 metric definitions: the presets' regexes plus three extras.

A fleet's job carries what its trainers print: here the GAN example, Hugging Face
Trainer, Keras, Lightning and XGBoost presets whole (renamed where two presets use one
name), the reference-trainer preset's definitions that its classification lines carry,
and three extras a real job adds (throughput, memory and a case-insensitive perplexity),
which the corpus's "perf" lines carry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from app.parsing import MAX_DEFINITIONS, MetricDefinition, parse_log
from app.presets import DEFAULT_PRESETS_DIR

__all__ = [
    "BENCH_DEFINITIONS",
    "OBJECTIVE",
    "REFERENCE_TRAINER_LINES",
    "epoch_line_metrics",
    "preset_definitions",
    "reference_trainer_metrics",
]

# What the reference trainer prints in a classification run (trainer/log.py): an epoch
# line at INFO, batch lines at DEBUG. The benchmark's job and corpus use these lines, and
# take of the reference-trainer preset the definitions that find a value in them, so the
# metric names come from metric_defs/ alone, read at run time.
REFERENCE_TRAINER_LINES = (
    b"2026-11-23 01:51:36,725 INFO epoch=1; train_loss=1.367568; val_loss=0.444448; "
    b"val_accuracy=0.866667; val_f1=0.861071; val_precision=0.878200; val_recall=0.864974; "
    b"val_roc_auc=0.987079; lr=0.003;\n",
    b"2026-11-23 01:51:37,102 INFO epoch=2; train_loss=0.541231; val_loss=0.398812; "
    b"val_accuracy=0.902778; val_f1=0.901544; val_precision=0.905512; val_recall=0.902101; "
    b"val_roc_auc=0.991201; lr=0.0029;\n",
    b"2026-11-23 01:51:36,311 DEBUG epoch=1; batch=12; batch_loss=1.204455;\n",
    b"2026-11-23 01:51:36,402 DEBUG epoch=1; batch=13; batch_loss=1.187201;\n",
)
# Not taken: the batch counter, which numbers batch_loss; 40 definitions leave room for
# the loss alone.
_LEFT_OUT = "batch"
# (preset, prefix for the taken names): every definition of these presets.
_WHOLE_PRESETS = (
    ("gan-example", ""),
    ("huggingface-trainer", "hf_"),
    ("keras", "keras_"),
    ("pytorch-lightning", "pl_"),
    ("xgboost", ""),
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


def reference_trainer_metrics(lines: Sequence[bytes]) -> tuple[str, ...]:
    """The reference-trainer preset's names that find a value in `lines`, in its order."""
    definitions = preset_definitions("reference-trainer")
    found = {point.metric for point in parse_log(definitions, b"".join(lines)).points}
    return tuple(d.name for d in definitions if d.name in found)


def epoch_line_metrics() -> tuple[str, ...]:
    """What one epoch line of the reference trainer reports, in its order."""
    return reference_trainer_metrics(REFERENCE_TRAINER_LINES[:1])


def _bench_definitions() -> tuple[MetricDefinition, ...]:
    chosen = [
        MetricDefinition(prefix + definition.name, definition.regex)
        for preset, prefix in _WHOLE_PRESETS
        for definition in preset_definitions(preset)
    ]
    taken = set(reference_trainer_metrics(REFERENCE_TRAINER_LINES)) - {_LEFT_OUT}
    chosen += [d for d in preset_definitions("reference-trainer") if d.name in taken]
    chosen.extend(_EXTRAS)
    assert len(chosen) == MAX_DEFINITIONS, f"{len(chosen)} definitions, want {MAX_DEFINITIONS}"
    assert len({d.name for d in chosen}) == len(chosen), "definition names must be unique"
    return tuple(chosen)


BENCH_DEFINITIONS = _bench_definitions()
