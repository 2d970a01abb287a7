"""The benchmark's correctness core on a tiny corpus: every way of parsing finds the same
points, and the scale phase's bulk load stores what the storage API stores. No timings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.parsing import LogFormat, Parser, ParserLimits, compile_definitions
from app.parsing.prefilter import hyperscan_available
from bench.corpus import CorpusKind, generate
from bench.definitions import BENCH_DEFINITIONS, OBJECTIVE
from bench.http_ingest import create_job, ingest_run
from bench.inprocess import Corpus, parse_in_chunks
from bench.points import compare_points
from bench.scale import SCALE_METRICS, fill_jobs, fill_jobs_through_storage
from bench.selfcheck import run_selfcheck
from bench.service import Service
from tests.parsing.naive import naive_parse, rows_of

SCANNERS = ["auto", "find", "none"] + (["hyperscan"] if hyperscan_available() else [])


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Corpus]:
    folder = tmp_path_factory.mktemp("corpora")
    found = {}
    for kind, size in ((CorpusKind.SPARSE, 120_000), (CorpusKind.DENSE, 20_000)):
        data = generate(kind, size, seed=7)
        path = folder / f"{kind.value}.log"
        path.write_bytes(data)
        found[kind.value] = Corpus(kind.value, data, str(path))
    return found


def test_the_naive_baseline_agrees_with_parse_log_on_every_capture():
    check = run_selfcheck()
    assert check.failures == ()
    assert check.cases > 0


def test_the_corpora_have_their_density(corpora):
    sparse = naive_parse(BENCH_DEFINITIONS, corpora["sparse"].data)
    dense = naive_parse(BENCH_DEFINITIONS, corpora["dense"].data)
    sparse_share = len({row[3] for row in sparse.points}) / sparse.lines
    assert 0.01 <= sparse_share <= 0.04
    assert len({row[3] for row in dense.points}) == dense.lines
    assert corpora["sparse"].data == generate(CorpusKind.SPARSE, 120_000, seed=7)


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("chunk_size", [1000, 64 * 1024])
def test_the_parser_finds_the_naive_points(corpora, scanner, chunk_size):
    parser = Parser(compile_definitions(BENCH_DEFINITIONS), LogFormat.TEXT, ParserLimits(), scanner)
    for corpus in corpora.values():
        expected = naive_parse(BENCH_DEFINITIONS, corpus.data)
        points, lines = parse_in_chunks(parser, corpus.data, chunk_size)
        assert lines == expected.lines
        assert compare_points(expected.points, rows_of(points)) == []
        assert expected.points


def test_http_ingest_into_a_live_service_stores_the_naive_points(corpora, tmp_path):
    metrics = [d.name for d in BENCH_DEFINITIONS]
    with Service(tmp_path / "ingest.db", tmp_path / "service.log") as service:
        with service.client() as client:
            create_job(client, "bench", BENCH_DEFINITIONS, OBJECTIVE)
        for corpus in corpora.values():
            expected = naive_parse(BENCH_DEFINITIONS, corpus.data)
            done = ingest_run(
                service, "bench", corpus.name, corpus, 16 * 1024, expected.lines, metrics
            )
            assert compare_points(expected.points, done.points) == []
            assert done.peak_rss > 0


def test_the_comparison_reports_a_changed_point():
    rows = [("a", 1.0, 1, 1, 0), ("a", 2.0, 2, 2, 5)]
    changed = [rows[0], ("a", 2.5, 2, 2, 5)]
    [difference] = compare_points(rows, changed)
    assert (difference.metric, difference.index) == ("a", 1)


@pytest.mark.parametrize("search", [False, True])
def test_the_bulk_load_stores_what_the_storage_api_stores(tmp_path, search):
    bulk, api = tmp_path / "bulk.db", tmp_path / "api.db"
    sizes, points_per_run = (3, 7), 40
    filled = fill_jobs(bulk, sizes, points_per_run, seed=3, search=search)
    reference = fill_jobs_through_storage(api, sizes, points_per_run, seed=3, search=search)
    points = 10 * len(SCALE_METRICS) * (points_per_run // len(SCALE_METRICS))
    assert (filled.runs, filled.points) == (reference.runs, reference.points) == (10, points)
    contents = _contents(bulk)
    assert contents == _contents(api)
    # Tuning jobs (the job page's phase) have a search and a value of each tuned
    # hyperparameter per run; the scale phase's jobs have neither, as before.
    searches = [json.loads(row[1]) if row[1] is not None else None for row in contents["jobs"]]
    if search:
        assert [s["strategy"] for s in searches] == ["Random", "Random"]
        assert [s["resource_limits"]["max_number_of_training_jobs"] for s in searches] == [3, 7]
    else:
        assert searches == [None, None]
    tuned = {"momentum", "batch_size"}
    for row in contents["runs"]:
        names = set(json.loads(row[5]))
        assert tuned <= names if search else not tuned & names


def _contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows without ids and times (they differ between two fills)."""
    with sqlite3.connect(database) as conn:
        return {
            "jobs": conn.execute("SELECT name, search FROM jobs ORDER BY name").fetchall(),
            "runs": conn.execute(
                "SELECT j.name, r.name, r.status, r.failure_reason, r.ended_at IS NULL, "
                "r.hyperparameters, r.objective_value, r.ingest_token_hash "
                "FROM runs r JOIN jobs j ON j.id = r.job_id ORDER BY j.name, r.name"
            ).fetchall(),
            "streams": conn.execute(
                "SELECT r.name, s.name, s.next_offset, s.lines, s.partial, s.partial_length, "
                "s.skip_lf, s.partial_timestamp FROM streams s JOIN runs r ON r.id = s.run_id "
                "ORDER BY r.job_id, r.name"
            ).fetchall(),
            "run_metrics": conn.execute(
                'SELECT r.name, m.name, m."count", m."last", m.last_step, m."min", m."max", '
                "m.rejected, m.timeouts, m.examples FROM run_metrics m "
                "JOIN runs r ON r.id = m.run_id ORDER BY r.job_id, r.name, m.id"
            ).fetchall(),
            "points": conn.execute(
                'SELECT r.name, m.name, p.seq, p.step, p."value", p.line, p."offset" '
                "FROM points p JOIN run_metrics m ON m.id = p.run_metric_id "
                "JOIN runs r ON r.id = m.run_id ORDER BY r.job_id, r.name, m.name, p.seq"
            ).fetchall(),
        }
