"""The fleet phase's own parts: its chunk, reading wrk's report, its RESULTS.md section."""

from __future__ import annotations

from app.parsing import LogFormat, MetricDefinition, parse_log
from bench.fleet import DEFINITIONS, _parse_wrk, chunk_body
from bench.sections import read_section, replace_section

WRK_REPORT = """Running 10s test @ http://127.0.0.1:40000
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.21ms   12.10ms 181.33ms   80.00%
    Req/Sec   400.12     50.00   500.00     70.00%
  Latency Distribution
     50%   38.50ms
     75%   45.00ms
     90%   55.00ms
     99%    1.20s
  8000 requests in 10.01s, 1.41MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    799.20
Transfer/sec:    144.00KB
"""


def test_a_chunk_is_4096_bytes_of_whole_lines_with_one_point_per_definition():
    body = chunk_body()
    definitions = [MetricDefinition(d["Name"], d["Regex"]) for d in DEFINITIONS]

    parsed = parse_log(definitions, body, LogFormat.TEXT)

    assert len(body) == 4096
    assert body.endswith(b"\n")
    assert [(p.metric, p.value) for p in parsed.points] == [("loss", 0.4321), ("acc", 0.915)]
    assert b"\r" in body  # the progress bar redraws


def test_wrks_report_is_read_with_its_units():
    found = _parse_wrk(WRK_REPORT)

    assert (found.requests_per_second, found.requests) == (799.2, 8000)
    assert (found.p50_ms, found.p99_ms) == (38.5, 1200.0)
    assert (found.non_2xx, found.errors) == (4, 3)


def test_the_fleet_section_is_replaced_in_place_and_kept_when_results_are_rewritten():
    results = "# Benchmark results\n\nparser table\n"

    first = replace_section(results, "fleet", "## Fleet\nold")
    second = replace_section(first, "fleet", "## Fleet\nnew")
    rewritten = replace_section(
        "# Benchmark results\n\nnew parser table\n", "fleet", read_section(second, "fleet")
    )

    assert second.count("## Fleet") == 1
    assert read_section(second, "fleet") == "## Fleet\nnew"
    assert rewritten.startswith("# Benchmark results\n\nnew parser table\n\n<!-- fleet")
    assert read_section(rewritten, "fleet") == "## Fleet\nnew"
    assert replace_section(results, "fleet", None) == results
