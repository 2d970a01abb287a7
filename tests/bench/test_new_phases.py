"""The re-parse and unseen-corpus phases and what the report says of them: the mixed
corpus, a job's log re-parsed through a live service, and the targets' rows."""

from __future__ import annotations

from dataclasses import replace

from bench.config import UNSEEN, BenchConfig
from bench.corpus import CorpusKind, generate
from bench.definitions import BENCH_DEFINITIONS, OBJECTIVE
from bench.inprocess import Corpus
from bench.machine import Machine
from bench.points import compare_points
from bench.reparse import LINES_LABEL, reparse_job, reparse_label, whole_line_chunks
from bench.report import render, targets
from bench.results import CorpusStats, Results
from bench.service import Service
from bench.timing import Rate
from tests.parsing.naive import naive_parse


def test_the_mixed_corpus_has_dense_and_sparse_stretches_of_its_own_seed():
    data = generate(CorpusKind.MIXED, 300_000, seed=2)
    parsed = naive_parse(BENCH_DEFINITIONS, data)
    with_points = {row[3] for row in parsed.points}
    share = len(with_points) / parsed.lines
    assert 0.1 <= share <= 0.6, share
    # Dense stretches: 50 lines in a row that each carry a point.
    assert any(all(line + k in with_points for k in range(50)) for line in with_points)
    # Sparse stretches: 50 lines in a row without one.
    assert any(
        not any(line + k in with_points for k in range(1, 51)) for line in sorted(with_points)
    )
    assert data == generate(CorpusKind.MIXED, 300_000, seed=2)
    assert data != generate(CorpusKind.MIXED, 300_000, seed=3)
    assert data[:5000] not in generate(CorpusKind.SPARSE, 300_000, seed=2)


def test_a_job_reparsed_through_the_service_has_the_naive_points(tmp_path):
    with Service(tmp_path / "reparse.db", tmp_path / "service.log") as service:
        for kind, size in ((CorpusKind.SPARSE, 100_000), (CorpusKind.DENSE, 20_000)):
            corpus = Corpus(kind.value, generate(kind, size, seed=5), "")
            expected = naive_parse(BENCH_DEFINITIONS, corpus.data)
            # Stored in 16 KiB chunks cut anywhere, then in chunks of whole lines.
            for stored, label in ((16_384, reparse_label(16_384)), (None, LINES_LABEL)):
                job = f"job-{kind.value}-{stored}"
                done = reparse_job(service, job, corpus, BENCH_DEFINITIONS, OBJECTIVE, stored, 9)
                assert compare_points(expected.points, done.points) == []
                assert expected.points
                rate = done.rate
                assert (rate.label, rate.corpus, rate.size, rate.lines) == (
                    label,
                    kind.value,
                    len(corpus.data),
                    9,
                )
                assert rate.seconds > 0


def test_chunks_of_whole_lines_end_at_line_ends():
    log = b"a\nbb\rccc\r\n" + b"x" * 10 + b"\nlast"
    assert list(whole_line_chunks(log, 6)) == [
        (0, b"a\nbb\r"),
        (5, b"ccc\r\n"),
        (10, b"xxxxxxxxxx\n"),  # longer than 6: to its line end
        (21, b"last"),  # the log's end, which no line end closes
    ]


def test_the_report_names_the_parsing_path_and_judges_the_new_targets():
    machine = Machine(
        "CPU", 2, 4.0, "3.11", (), "6.1", "abc1234", "now", None, "compiled core (PCRE2 10.42 JIT)"
    )
    results = Results(replace(BenchConfig(), seed=4), machine, "python -m bench", "0, 0, 0")
    for corpus in ("sparse", "dense", UNSEEN):
        results.corpora.append(CorpusStats(corpus, 10_000_000, 1000, 100, 100))
    results.rates += [
        Rate("parser, scanner 'auto', 1 MiB chunks", "sparse", 1.0, 40_000_000, 1000),
        Rate(reparse_label(1 << 20), "sparse", 0.8, 40_000_000, 1000),
        Rate("parser, scanner 'auto', 1 MiB chunks", "dense", 1.0, 10_000_000, 1000),
        Rate(reparse_label(1 << 20), "dense", 2.0, 10_000_000, 1000),
        Rate("naive (every line x every definition)", UNSEEN, 10.0, 20_000_000, 1000),
        Rate("HTTP ingest + SQLite, 1 MiB chunks", UNSEEN, 0.5, 20_000_000, 1000),
    ]

    found = {t.name: (t.verdict, t.detail) for t in targets(results)}

    assert found["re-parse >= 1x parser (sparse, stored in 1 MiB chunks)"] == (
        "PASS",
        "50.00 vs 40.00 MB/s = 1.25x (need >= 1x)",
    )
    assert found["re-parse >= 1x parser (dense, stored in 1 MiB chunks)"] == (
        "FAIL",
        "5.00 vs 10.00 MB/s = 0.50x (need >= 1x)",
    )
    unseen = "HTTP ingest >= 10x naive on a corpus never seen (another seed and mix, 1 MiB chunks)"
    assert found[unseen] == ("PASS", "40.00 vs 2.00 MB/s = 20.00x (need >= 10x)")
    text = render(results, markdown=True)
    assert "- Parsing path: compiled core (PCRE2 10.42 JIT)" in text
    assert "## Throughput, unseen corpus (mixed records, seed 5, 10.0 MB" in text
    assert text.count("Parsing path: compiled core (PCRE2 10.42 JIT). MB = 10^6 bytes.") == 3
