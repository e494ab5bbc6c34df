"""Drift at scale, against Evidently on the same frames in one run: 100,000 and 1,000,000 rows
a side, 20 columns (15 numbers, 5 categories), generated with a small shift in a third of the
numbers; then a scheduled check's case, the last hour of a 10,000,000-row prediction log
against the sample's reference.

Ours is timed with the reference read (a first check) and kept (every later check of a
long-lived owner: the reference's sorted values and counts stay in memory), medians of 3.
Evidently runs once per size (a 1M run takes minutes); its import is timed apart.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.drift import COLUMNS as FEATURES
from benchmarks.drift import SAMPLE, evidently_columns
from benchmarks.timing import median_seconds
from engine.facade import Engine

SIZES = (100_000, 1_000_000)
RUNS = 3
LOG_ROWS = 10_000_000
LOG_DAYS = 7


def frame(rows: int, shift: float, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    generator = np.random.default_rng(seed)
    columns = {f"number_{i}": generator.normal(shift * (i % 3), 1 + i % 4, rows) for i in range(15)}
    for i in range(5):
        columns[f"category_{i}"] = generator.choice([f"value_{k}" for k in range(8 + i)], rows)
    return pd.DataFrame(columns)


def main() -> None:
    started = time.perf_counter()
    from evidently import Report
    from evidently.presets import DataDriftPreset

    evidently_import = time.perf_counter() - started
    print("### Drift at scale: 20 columns (15 numbers, 5 categories) against Evidently\n")
    print(f"Evidently's import: {evidently_import:.1f} s (not in the figures below).\n")
    print(
        "| rows a side | mlops drift | reference kept | Evidently | speed-up | same methods and verdicts "
        "| largest statistic difference |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            for rows in SIZES:
                reference, current = frame(rows, 0.0, 1), frame(rows, 0.05, 2)
                engine.datasets.ingest_frame(reference, f"reference{rows}", "benchmark")
                engine.datasets.ingest_frame(current, f"current{rows}", "benchmark")

                def check(rows: int = rows) -> Any:
                    return engine.drift.check(f"reference{rows}@v1", f"current{rows}@v1")

                def cold(rows: int = rows) -> Any:
                    engine.drift._kept.clear()
                    return check(rows)

                read, kept = median_seconds(cold, RUNS), median_seconds(check, RUNS)
                ours = check().columns
                began = time.perf_counter()
                snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
                theirs_seconds = time.perf_counter() - began
                theirs = evidently_columns(snapshot.dict())
                same = all(
                    (ours[name].method, ours[name].drifted) == (method, drifted)
                    for name, (method, _, _, drifted) in theirs.items()
                ) and set(ours) == set(theirs)
                difference = max(
                    abs(ours[name].statistic - statistic) / max(abs(statistic), 1e-300)
                    for name, (_, statistic, _, _) in theirs.items()
                )
                speed = f"{theirs_seconds / read:.0f}x / {theirs_seconds / kept:.0f}x"
                print(
                    f"| {rows:,} | {read:.2f} s | {kept:.2f} s | {theirs_seconds:.1f} s | {speed} "
                    f"| {'yes' if same else 'NO'} | {difference:.1e} |"
                )
            print()
            live_window(engine)


def live_window(engine: Engine) -> None:
    """The sample's reference against the last hour of a prediction log of 10M rows spread
    evenly over a week (about 60,000 in the hour), as the scheduled drift monitor checks it."""
    import pandas as pd

    reference = pd.read_csv(SAMPLE / "churn_reference.csv")
    engine.datasets.ingest_frame(reference, "churn", "benchmark")
    began = time.perf_counter()
    pairs = ", ".join(f"'{name}', r.{name}" for name in FEATURES)
    step = LOG_DAYS * 86_400_000_000 // LOG_ROWS  # microseconds between rows
    with engine._db.transaction() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE numbered AS SELECT row_number() OVER () - 1 AS n, * FROM "
            + engine.datasets.resolve("churn@v1").relation
        )
        cursor.execute(
            f"""INSERT INTO prediction_log
            SELECT now() - to_microseconds({LOG_ROWS * step} - i * {step}), now(), 'churn-bench', 'primary',
                   'churn', 1, 'bench-' || i, 0, NULL, NULL, json_object({pairs}), 0.3, '0', 0.4, 200, NULL
            FROM range({LOG_ROWS}) t(i) JOIN numbered r ON r.n = i % {len(reference)}
            ORDER BY i"""
        )
    filled = time.perf_counter() - began

    def check() -> Any:
        return engine.drift.check("churn@v1", "live:churn-bench", since="1h")

    report = check()
    seconds = median_seconds(check, RUNS)
    rows = next(iter(report.columns.values())).current_rows
    print(
        f"### The last hour of a {LOG_ROWS:,}-row prediction log ({LOG_DAYS} days, {filled:.0f} s to write)\n"
    )
    print("| window | rows in it | columns tested | check (reference kept, median of 3) |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| live:churn-bench --since 1h | {rows:,} | {len(report.columns)} | {seconds:.2f} s |")
    print()
