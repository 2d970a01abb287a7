"""Realistic training-log corpora, made from the real captures, deterministic by seed.

Metric records are the lines of tests/data/captures/*.log that the benchmark's
definitions find points in (Hugging Face dicts behind their `\\r` progress bars, Keras
progress with `\\r`, `\\b` and ANSI colours, XGBoost tab lines, Lightning tqdm and rich
bars, the GAN line) plus made-up reference-trainer, batch and "perf" lines; every
decimal number in them is redrawn at random, keeping its number of decimals. Noise
records are the captures' other lines plus made-up ones: warnings, tracebacks, JSON
logs, ANSI-coloured logs, non-ASCII text, invalid UTF-8, blank lines, data-loader
progress bars, NCCL chatter, and now and then a line longer than the 64 KiB matching
limit.

`sparse`: noise with metric records mixed in so that about 2% of lines (as the parsing
contract counts them, each `\\r` redraw a line) carry a point. `dense`: only lines that
carry a point, cut out of the metric records with their own line ends. `mixed`: stretches
of sparse and dense records, each from a generator of its own; the benchmark makes it
with a seed its other corpora never use, as a corpus nothing was tuned on.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bench.definitions import BENCH_DEFINITIONS, REFERENCE_TRAINER_LINES
from bench.selfcheck import CAPTURES
from tests.parsing.naive import naive_parse

__all__ = ["MIXED_DENSE_SHARE", "SPARSE_DENSITY", "CorpusKind", "generate"]

SPARSE_DENSITY = 0.02
# Of the mixed corpus's records (in stretches), the share drawn as dense ones.
MIXED_DENSE_SHARE = 0.3
_FLOAT = re.compile(rb"[0-9]+\.[0-9]+")


class CorpusKind(enum.StrEnum):
    SPARSE = "sparse"
    DENSE = "dense"
    MIXED = "mixed"


@dataclass(frozen=True)
class _Template:
    """A record whose decimal numbers are slots: text pieces around them."""

    pieces: tuple[bytes, ...]  # len(decimals) + 1 pieces
    decimals: tuple[tuple[int, int], ...]  # per slot: digits before and after the point
    lines: int  # lines the record counts, by the contract's text rules
    metric_lines: int  # of which carry at least one point

    @classmethod
    def of(cls, record: bytes, lines: int, metric_lines: int) -> _Template:
        pieces, decimals, last = [], [], 0
        for number in _FLOAT.finditer(record):
            whole, _, fraction = number.group().partition(b".")
            pieces.append(record[last : number.start()])
            decimals.append((len(whole), len(fraction)))
            last = number.end()
        pieces.append(record[last:])
        return cls(tuple(pieces), tuple(decimals), lines, metric_lines)

    def fill(self, rng: random.Random) -> bytes:
        if not self.decimals:
            return self.pieces[0]
        out = [self.pieces[0]]
        for (whole, fraction), piece in zip(self.decimals, self.pieces[1:], strict=True):
            value = rng.random() * 10 ** min(whole, 3)
            out.append(f"{value:.{fraction}f}".encode())
            out.append(piece)
        return b"".join(out)


def generate(kind: CorpusKind, size: int, seed: int) -> bytes:
    """A corpus of at least `size` bytes (it ends at a record's end, with `\\n`).

    Args:
        kind: sparse (about 2% of lines carry metrics), dense (every line does) or
            mixed (stretches of each, `MIXED_DENSE_SHARE` of the records dense).
        size: bytes wanted.
        seed: the same seed gives the same bytes.
    """
    rng = random.Random(f"{kind.value}-{seed}")
    families = _metric_families()
    if kind is CorpusKind.DENSE:
        records = _dense_records(rng, families)
    elif kind is CorpusKind.SPARSE:
        records = _sparse_records(rng, families)
    else:
        records = _mixed_records(rng, families, seed)
    out = bytearray()
    while len(out) < size:
        out += next(records)
    return bytes(out)


def _dense_records(rng: random.Random, families: dict[str, list[_Template]]) -> Iterator[bytes]:
    lines = [t for family in families.values() for t in _dense_lines(family)]
    while True:
        yield rng.choice(lines).fill(rng)


def _sparse_records(rng: random.Random, families: dict[str, list[_Template]]) -> Iterator[bytes]:
    noise = _capture_noise()
    names = sorted(families)
    lines_total = metric_lines = 0
    while True:
        if metric_lines < SPARSE_DENSITY * lines_total:
            template = rng.choice(families[rng.choice(names)])
            yield template.fill(rng)
            lines_total += template.lines
            metric_lines += template.metric_lines
        else:
            record = _noise_record(rng, noise)
            yield record
            lines_total += len(record.splitlines())


def _mixed_records(
    rng: random.Random, families: dict[str, list[_Template]], seed: int
) -> Iterator[bytes]:
    """Stretches of 1 to 400 records, each stretch dense with `MIXED_DENSE_SHARE`'s
    chance and sparse otherwise: a trainer that logs every step for a while, then
    evaluates or saves amid noise. Each kind draws from a generator of its own."""
    dense = _dense_records(random.Random(f"mixed-dense-{seed}"), families)
    sparse = _sparse_records(random.Random(f"mixed-sparse-{seed}"), families)
    while True:
        source = dense if rng.random() < MIXED_DENSE_SHARE else sparse
        for _ in range(rng.randrange(1, 401)):
            yield next(source)


# Metric records.


def _metric_families() -> dict[str, list[_Template]]:
    """Metric records by the library that prints them."""
    families: dict[str, list[_Template]] = {}
    for path in sorted(CAPTURES.glob("*.log")):
        family = path.stem.split("-pipe")[0].split("-tty")[0].split("-cloudwatch")[0]
        family = family.split("-verbose2")[0].split("-tqdm")[0]
        for record in _records(path.read_bytes()):
            template = _classify(record)
            if template.metric_lines:
                families.setdefault(family, []).append(template)
    families["reference-trainer"] = [_classify(r) for r in REFERENCE_TRAINER_LINES]
    families["perf"] = [_classify(r) for r in _PERF_LINES]
    return families


def _dense_lines(family: list[_Template]) -> list[_Template]:
    """The lines of the records that carry a point, each with its own line end."""
    found = []
    for template in family:
        record = template.fill(random.Random(0))
        for line in record.splitlines(keepends=True):
            if not line.endswith((b"\n", b"\r")):
                line += b"\n"
            candidate = _classify(line)
            if candidate.metric_lines == candidate.lines == 1:
                found.append(candidate)
    return found


def _classify(record: bytes) -> _Template:
    parsed = naive_parse(BENCH_DEFINITIONS, record)
    return _Template.of(record, parsed.lines, len({point[3] for point in parsed.points}))


def _records(log: bytes) -> list[bytes]:
    """A capture's `\\n`-ended records (progress redraws with `\\r` stay inside)."""
    *ended, last = log.split(b"\n")
    return [piece + b"\n" for piece in ended] + ([last + b"\n"] if last else [])


_PERF_LINES = (
    b"[perf] 2026-11-23 01:51:36 | step 1200 | throughput: 1523.4 samples/s | "
    b"gpu_mem=10240MiB | ppl: 12.53\n",
    b"[perf] 2026-11-23 01:52:06 | step 1300 | Throughput: 1498.7 samples/s | "
    b"gpu_mem=10304MiB | PPL=11.98\n",
)


# Noise records.


def _capture_noise() -> list[bytes]:
    """The captures' records that carry no point: tables, bars, warnings, banners."""
    noise = []
    for path in sorted(CAPTURES.glob("*.log")):
        for record in _records(path.read_bytes()):
            if not naive_parse(BENCH_DEFINITIONS, record).points:
                noise.append(record)
    return noise


def _noise_record(rng: random.Random, capture_noise: list[bytes]) -> bytes:
    roll = rng.random()
    for weight, make in _NOISE:
        if roll < weight:
            return make(rng)
        roll -= weight
    return rng.choice(capture_noise)


def _logging_line(rng: random.Random) -> bytes:
    step = rng.randrange(100_000)
    message = rng.choice(
        (
            f"Saving model checkpoint to /opt/ml/checkpoints/checkpoint-{step}",
            f"Loading shard {rng.randrange(512):05d} of 512 from s3://datasets/train/",
            f"Step {step}: gradient overflow, reducing loss scale to {2 ** rng.randrange(8, 17)}",
            "Reporting training progress to SageMaker",
            f"Evaluating on {rng.randrange(1, 50_000)} examples with batch size 64",
            f"Tokenized {rng.randrange(10**6)} examples in {rng.random() * 30:.2f}s",
        )
    )
    level = rng.choice(("INFO", "INFO", "INFO", "DEBUG", "WARNING"))
    when = f"01:{rng.randrange(60):02d}:{rng.randrange(60):02d},{rng.randrange(1000):03d}"
    return f"2026-11-23 {when} - {level} - trainer - {message}\n".encode()


def _warning(rng: random.Random) -> bytes:
    workers = rng.choice((8, 16, 32))
    return (
        "/opt/conda/lib/python3.11/site-packages/torch/utils/data/dataloader.py:617: "
        f"UserWarning: This DataLoader will create {workers} worker processes in total. "
        "Our suggested max number of worker in current system is 8, which is smaller than "
        "what this DataLoader is going to create. Please be aware that excessive worker "
        "creation might get DataLoader running slow or even freeze.\n"
        "  warnings.warn(\n"
    ).encode()


def _near_miss(rng: random.Random) -> bytes:
    # Lines holding a definition's literal that match nothing, or match a non-number.
    return rng.choice(
        (
            f"Epoch {rng.randrange(100)}: val_loss did not improve from {rng.random():.5f}\n",
            '{"event": "epoch_end", "train_loss": 0.4821, "lr": 0.0003, "epoch": 4}\n',
            "WARNING: Loss = nan; Iteration skipped; scaler reset\n",
            "EarlyStopping counter: 3 out of 10 (monitor=val_loss, mode=min)\n",
            f"Resuming from epoch={rng.randrange(100)} (checkpoint-{rng.randrange(10**4)})\n",
        )
    ).encode()


def _traceback(rng: random.Random) -> bytes:
    return (
        "Traceback (most recent call last):\n"
        '  File "/opt/ml/code/train.py", line 212, in <module>\n'
        "    main()\n"
        '  File "/opt/ml/code/train.py", line 198, in main\n'
        "    batch = next(loader)\n"
        '  File "/opt/conda/lib/python3.11/site-packages/torch/utils/data/dataloader.py", '
        "line 631, in __next__\n"
        "    data = self._next_data()\n"
        f"RuntimeError: DataLoader worker (pid {rng.randrange(1000, 99999)}) is killed by "
        "signal: Bus error. It is possible that dataloader's workers are out of shared "
        "memory.\n"
    ).encode()


def _json_line(rng: random.Random) -> bytes:
    return (
        f'{{"timestamp": "2026-11-23T01:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z", '
        '"level": "INFO", "logger": "sagemaker-training-toolkit", '
        f'"message": "Invoking user script", "pid": {rng.randrange(1, 65536)}, '
        f'"hosts": ["algo-1", "algo-2"], "current_host": "algo-{rng.randrange(1, 3)}"}}\n'
    ).encode()


def _ansi_line(rng: random.Random) -> bytes:
    colour = rng.choice((31, 32, 33, 36))
    return (
        f"\x1b[{colour}m[2026-11-23 01:{rng.randrange(60):02d}:{rng.randrange(60):02d}]\x1b[0m "
        f"\x1b[1mINFO\x1b[0m  rank {rng.randrange(8)}: all-reduce bucket "
        f"{rng.randrange(64)} ready \x1b[2m(25.0 MiB)\x1b[0m\n"
    ).encode()


def _non_ascii_line(rng: random.Random) -> bytes:
    return rng.choice(
        (
            # Full-width punctuation, as Chinese text has it.
            f"数据加载完成：共 {rng.randrange(10**5)} 个样本，用时 {rng.random() * 20:.1f} 秒\n",  # noqa: RUF001
            "Époque terminée — sauvegarde du modèle dans « /opt/ml/model » ✓\n",
            f"🚀 Training started on {rng.choice((1, 2, 4, 8))}× A100 (80 GB) 🔥\n",  # noqa: RUF001
            f"Обучение: шаг {rng.randrange(5000)} из 5000, осталось ≈ {rng.randrange(60)} мин\n",
        )
    ).encode()


def _invalid_utf8(rng: random.Random) -> bytes:
    return b"tokenizer: skipped undecodable bytes \xff\xfe\xc3 in sample %d\n" % rng.randrange(
        10**6
    )


def _progress_bar(rng: random.Random) -> bytes:
    total = rng.choice((100, 1000, 50_000))
    redraws = rng.randrange(2, 8)
    parts = []
    for i in range(1, redraws + 1):
        done = total * i // redraws
        bar = ("█" * (10 * i // redraws)).ljust(10)
        rate = rng.random() * 2000
        parts.append(f"\rMap:  {100 * i // redraws:3d}%|{bar}| {done}/{total} [{rate:.2f} ex/s]")
    return ("".join(parts) + "\n").encode()


def _nccl_line(rng: random.Random) -> bytes:
    host, pid = rng.randrange(1, 5), rng.randrange(100, 999)
    return (
        f"algo-{host}:{pid}:{pid + 56} [{rng.randrange(8)}] NCCL INFO Channel "
        f"{rng.randrange(32):02d}/32 :    0   1   2   3   4   5   6   7\n"
    ).encode()


def _long_line(rng: random.Random) -> bytes:
    # Longer than the 64 KiB matching limit: a tensor printed whole, or a sample of
    # Chinese text, where the cut at 64 KiB falls inside a character two times in three.
    if rng.random() < 0.5:
        values = ", ".join(f"{rng.random():.4f}" for _ in range(rng.randrange(8_500, 11_000)))
        return f"tensor([{values}])\n".encode()
    text = "训练数据样本" * rng.randrange(3_700, 4_500)
    return f"sample[{rng.randrange(10**6)}]: {text}\n".encode()


_NOISE: tuple[tuple[float, Callable[[random.Random], bytes]], ...] = (
    (0.28, _logging_line),
    (0.10, lambda rng: b"\n"),
    (0.10, _progress_bar),
    (0.08, _nccl_line),
    (0.07, _ansi_line),
    (0.06, _json_line),
    (0.05, _non_ascii_line),
    (0.05, _near_miss),
    (0.03, _warning),
    (0.01, _traceback),
    (0.005, _invalid_utf8),
    (0.00002, _long_line),
)
# The rest of the rolls: a noise record of the captures.
