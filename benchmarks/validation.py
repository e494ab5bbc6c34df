"""Validating 1M rows with the sample suite: Great Expectations on pandas vs the SQL pushdown.

The table is ``churn_reference.csv`` replicated 50 times in DuckDB (customer ids kept unique,
so the suite passes). The GX side is what a user would do without the pushdown: load the
table into a pandas frame and run ``batch.validate`` in an ephemeral context; GX's import
(seconds, paid once per process) is left out, the frame load is counted. The pushdown side is
``engine.data.validation.validate``: one DuckDB query. Both run through the same function, so
the results are also checked to agree.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from engine.data.suites import parse_suite
from engine.data.validation import validate
from engine.types.data import ValidationReport

RUNS = 3
COPIES = 50
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
RELATION = 'data."churn@bench"'


def median_seconds(run: Callable[[], ValidationReport]) -> tuple[float, ValidationReport]:
    """The median wall time of ``RUNS`` runs, and the last report (to check the paths agree)."""
    times: list[float] = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


def main() -> None:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA data")
    connection.execute(
        f"CREATE TABLE {RELATION} AS SELECT * REPLACE (customer_id + 1000000 * copy AS customer_id) "
        f"FROM read_csv('{SAMPLE / 'churn_reference.csv'}'), range({COPIES}) AS copies(copy)"
    )
    (rows,) = connection.execute(f"SELECT count(*) FROM {RELATION}").fetchone() or (0,)
    suite = parse_suite((SAMPLE / "churn_suite.json").read_text())
    import great_expectations  # noqa: F401 (its import is paid once per process, not per validation)

    gx_seconds, gx_report = median_seconds(
        lambda: validate(connection.cursor(), RELATION, suite, pushdown=())
    )
    sql_seconds, sql_report = median_seconds(lambda: validate(connection.cursor(), RELATION, suite))
    agree = [r.unexpected_count for r in gx_report.results] == [
        r.unexpected_count for r in sql_report.results
    ]
    print(f"Sample suite ({len(suite.expectations)} expectations) on {rows:,} rows, median of {RUNS} runs;")
    print(f"results agree: {agree}; suite passes: {sql_report.success}.\n")
    print("| path | median | speed-up |")
    print("| --- | ---: | ---: |")
    print(f"| Great Expectations 1.x on a pandas frame (load included) | {gx_seconds:.3f} s | 1.0x |")
    speed_up = gx_seconds / sql_seconds
    print(f"| mlops-console SQL pushdown (one DuckDB query) | {sql_seconds:.3f} s | {speed_up:.0f}x |")
    connection.close()
