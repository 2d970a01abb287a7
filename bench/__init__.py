"""The logmetrics benchmark: `python -m bench` (see bench/README.md).

Modules, in the order a run uses them: `config` (sizes and phases), `selfcheck` (the
yardsticks checked on the real captures), `corpus` and `definitions` (what is parsed),
`inprocess` (phases 1 and 2: the tests' naive oracle, tests/parsing/naive.py, and the
parser), `ripgrep`, `service` and `http_ingest` (phase 3, concurrency, memory), `scale`,
`points` (the equality check), `timing`, `machine`, `results`, `report`, `run` and `cli`;
`profiles` for py-spy profiles.
"""
