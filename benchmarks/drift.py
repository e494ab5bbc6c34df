"""Drift checks against Evidently on the same data: the sample's reference rows resampled to
100,000 and a drifted current set of 100,000 (week 3's shift), 11 columns; then the sample's
own 20,000 against week 3's 5,000. Both report the same verdicts (checked here); the figures
are the median of 3 runs each, Evidently's import timed apart.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.timing import median_seconds
from engine.facade import Engine
from engine.types.monitoring import DriftReport

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
ROWS = 100_000
RUNS = 3
COLUMNS = [
    "age",
    "tenure_days",
    "total_orders",
    "avg_order_value",
    "days_since_last_order",
    "support_tickets",
    "country",
    "gender",
    "age_group",
    "region",
]


def main() -> None:
    started = time.perf_counter()
    import evidently.presets  # noqa: F401  (timed: the import is most of a first report's cost)

    evidently_import = time.perf_counter() - started
    reference_rows = pd.read_csv(SAMPLE / "churn_reference.csv")[COLUMNS]
    week3 = pd.read_csv(SAMPLE / "churn_week_3.csv")[COLUMNS]
    cases = {
        "sample: 20,000 reference vs week 3's 5,000": (reference_rows, week3),
        f"resampled: {ROWS:,} vs {ROWS:,}": (
            reference_rows.sample(ROWS, replace=True, random_state=1).reset_index(drop=True),
            week3.sample(ROWS, replace=True, random_state=2).reset_index(drop=True),
        ),
    }
    print("### Drift: `mlops drift` against Evidently's DataDriftPreset\n")
    print(f"Evidently's import: {evidently_import:.1f} s (once per process; not in the figures below).\n")
    print("| data | mlops drift | reference kept | Evidently | speed-up | same verdicts |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            for index, (label, (reference, current)) in enumerate(cases.items()):
                cold, warm, theirs, same = side_by_side(engine, index, reference, current)
                verdicts = "yes" if same else "NO"
                print(
                    f"| {label} | {cold:.2f} s | {warm:.2f} s | {theirs:.2f} s | {theirs / cold:.0f}x / "
                    f"{theirs / warm:.0f}x | {verdicts} |"
                )
    print()


def side_by_side(
    engine: Engine, index: int, reference: pd.DataFrame, current: pd.DataFrame
) -> tuple[float, float, float, bool]:
    """Seconds for ours (the reference read, and kept from an earlier check) and Evidently's
    (medians of ``RUNS``), and whether the verdicts agree."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    engine.datasets.ingest_frame(reference, f"reference{index}", "benchmark")
    engine.datasets.ingest_frame(current, f"current{index}", "benchmark")

    def check() -> DriftReport:
        return engine.drift.check(f"reference{index}@v1", f"current{index}@v1")

    def cold_check() -> DriftReport:
        engine.drift._kept.clear()  # the reference read again, as a one-off CLI check does
        return check()

    cold = median_seconds(cold_check, RUNS)
    warm = median_seconds(check, RUNS)
    report = check()
    theirs = median_seconds(lambda: Report([DataDriftPreset()]).run(current, reference), RUNS)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference).dict()
    failed = {name for name, (_, _, _, drifted) in evidently_columns(snapshot).items() if drifted}
    return cold, warm, theirs, failed == {name for name, column in report.columns.items() if column.drifted}


DISPLAY_NAMES = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
    "Kullback-Leibler divergence": "kl_div",
    "Hellinger distance": "hellinger",
}
"""Evidently's display names of its tests, by the names its registry (and mlops) uses."""


def evidently_columns(snapshot: dict[str, Any]) -> dict[str, tuple[str, float, float, bool]]:
    """Evidently's per-column method (by our names), statistic, threshold and verdict, from a
    DataDriftPreset report's ``dict()`` run with its tests."""
    failed = {test["metric_config"]["metric_id"] for test in snapshot["tests"] if test["status"] == "FAIL"}
    found = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            found[config["column"]] = (
                DISPLAY_NAMES.get(config["method"], config["method"]),
                float(metric["value"]),
                float(config["threshold"]),
                metric["id"] in failed,
            )
    return found
