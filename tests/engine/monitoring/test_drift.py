"""Drift as Evidently 0.7 decides it: the same columns, tests, thresholds and verdicts as its
DataDriftPreset run on the same data, statistics within 1e-6 relative, in both regimes of
reference size; overrides; bad input refused."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.drift import evidently_columns
from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.monitoring import DriftReport


def frames(rows_reference: int, rows_current: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two samples with every kind of column Evidently tells apart, the current one shifted in
    some columns and not others, with nulls, an unseen category and an infinity."""
    generator = np.random.default_rng(seed)

    def sample(rows: int, shift: float) -> pd.DataFrame:
        numbers = generator.normal(50 + shift * 5, 10, rows)
        numbers[generator.random(rows) < 0.05] = np.nan
        frame = pd.DataFrame(
            {
                "amount": numbers,
                "tenure": generator.integers(0, 60 + int(shift * 20), rows),
                "flag_float": generator.choice([0.0, 1.0], rows, p=[0.7 - shift * 0.2, 0.3 + shift * 0.2]),
                "steps": generator.choice([1.0, 2.0, 3.0, 4.0, np.nan], rows),
                "wait": generator.exponential(3 + shift, rows),
                "country": generator.choice(["US", "DE", "FR", "IN"], rows, p=[0.4, 0.3, 0.2, 0.1]),
                "answer": generator.choice(["no", "yes"], rows),
                "tickets": generator.integers(0, 6, rows),
                "active": generator.random(rows) < 0.5 + shift * 0.1,
                "stable": generator.normal(0, 1, rows),
            }
        )
        return frame

    reference, current = sample(rows_reference, 0.0), sample(rows_current, 1.0)
    current.loc[current.index[:3], "country"] = "BR"  # a value the reference never had
    current.loc[current.index[5], "wait"] = np.inf
    current.loc[current.index[6], "wait"] = np.nan  # with a null too, both of Evidently's paths drop the inf
    return reference, current


def evidently(
    reference: pd.DataFrame, current: pd.DataFrame, **options: Any
) -> dict[str, tuple[str, float, float, bool]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return evidently_columns(
        Report([DataDriftPreset(**options)], include_tests=True).run(current, reference).dict()
    )


def read(engine: Engine, ref: str) -> pd.DataFrame:
    """The version as a pandas frame, as a user handing it to Evidently would have it."""
    with engine._db.cursor() as cursor:
        return cursor.execute(f"SELECT * FROM {engine.datasets.resolve(ref).relation}").df()


def assert_agrees(report: DriftReport, expected: dict[str, tuple[str, float, float, bool]]) -> None:
    assert set(report.columns) == set(expected)
    for name, (method, statistic, threshold, drifted) in expected.items():
        mine = report.columns[name]
        assert (mine.method, mine.threshold, mine.drifted) == (method, threshold, drifted), name
        assert mine.statistic == pytest.approx(statistic, rel=1e-6, abs=1e-12), name


@pytest.mark.parametrize(
    ("rows_reference", "rows_current", "seed"),
    [(800, 1000, 1), (300, 200, 2), (5000, 5000, 3), (1500, 20000, 4)],
)
def test_every_column_agrees_with_evidently(
    engine: Engine, rows_reference: int, rows_current: int, seed: int
) -> None:
    reference, current = frames(rows_reference, rows_current, seed)
    engine.datasets.ingest_frame(reference, "reference", "test")
    engine.datasets.ingest_frame(current, "current", "test")
    report = engine.drift.check("reference@v1", "current@v1")
    expected = evidently(*(read(engine, ref) for ref in ("reference@v1", "current@v1")))
    assert_agrees(report, expected)
    share = sum(result.drifted for result in report.columns.values()) / len(report.columns)
    assert report.share_drifted == share and report.dataset_drift == (share >= 0.5)


def test_methods_and_thresholds_override_as_evidentlys_do(engine: Engine) -> None:
    reference, current = frames(5000, 3000, 5)
    engine.datasets.ingest_frame(reference, "reference", "test")
    engine.datasets.ingest_frame(current, "current", "test")
    before, after = read(engine, "reference@v1"), read(engine, "current@v1")
    for methods, thresholds, options in [
        ({"*": "psi"}, {}, {"method": "psi"}),
        ({"*": "kl_div"}, {"*": 0.05}, {"method": "kl_div", "threshold": 0.05}),
        ({"*": "hellinger"}, {}, {"method": "hellinger"}),
        (
            {"amount": "ks", "country": "psi", "wait": "jensenshannon"},
            {"amount": 0.01, "tickets": 0.3},
            {
                "per_column_method": {"amount": "ks", "country": "psi", "wait": "jensenshannon"},
                "per_column_threshold": {"amount": 0.01, "tickets": 0.3},
            },
        ),
    ]:
        report = engine.drift.check("reference@v1", "current@v1", methods=methods, thresholds=thresholds)
        assert_agrees(report, evidently(before, after, **options))


def test_kolmogorov_smirnov_on_large_samples_agrees_too(engine: Engine) -> None:
    reference, current = frames(12000, 15000, 7)  # over 10,000 a side: scipy's asymptotic p value
    numbers = ["amount", "wait", "stable"]
    engine.datasets.ingest_frame(reference[numbers], "reference", "test")
    engine.datasets.ingest_frame(current[numbers], "current", "test")
    report = engine.drift.check("reference@v1", "current@v1", methods={"*": "ks"})
    expected = evidently(read(engine, "reference@v1"), read(engine, "current@v1"), num_method="ks")
    assert_agrees(report, expected)


def test_a_large_window_agrees_without_being_sorted(engine: Engine) -> None:
    """Past 100,000 current values a number's Wasserstein distance is taken from bucket counts
    and sums (engine/monitoring/bucketed.py): the same statistics as Evidently's all the same,
    with nulls, an infinity, an integer column, a 4-valued float column and one of shift 0."""
    reference, current = frames(20000, 120000, 8)
    engine.datasets.ingest_frame(reference, "reference", "test")
    engine.datasets.ingest_frame(current, "current", "test")
    report = engine.drift.check("reference@v1", "current@v1")
    assert_agrees(report, evidently(read(engine, "reference@v1"), read(engine, "current@v1")))
    assert report.columns["amount"].current_rows == current["amount"].notna().sum()


def test_bad_checks_are_refused_in_one_line(engine: Engine) -> None:
    reference, current = frames(300, 300, 6)
    engine.datasets.ingest_frame(reference, "reference", "test")
    engine.datasets.ingest_frame(current.assign(stable=np.nan), "current", "test")
    report = engine.drift.check("reference@v1", "current@v1", columns=["amount", "stable"])
    assert list(report.columns) == ["amount"]
    assert report.skipped == {"stable": "no values in the current data (all null or infinite)"}
    nothing = engine.drift.check("reference@v1", "current@v1", columns=["stable"])
    assert (nothing.columns, nothing.dataset_drift, nothing.share_drifted) == ({}, False, 0.0)
    for options, message in [
        ({"columns": ["nope"]}, "--columns nope: not a column of reference@v1 or current@v1"),
        ({"methods": {"amount": "magic"}}, "--method amount=magic: expected one of ks, chisquare"),
        (
            {"methods": {"country": "ks"}},
            "--method country=ks: ks tests number columns, and country is a category",
        ),
        ({"thresholds": {"amount": -1.0}}, "--threshold amount=-1.0: expected a number above 0"),
        ({"thresholds": {"nope": 0.1}}, "nope: no such column to test"),
    ]:
        with pytest.raises(InvalidInput, match=re.escape(message)):
            engine.drift.check("reference@v1", "current@v1", **options)
    with pytest.raises(InvalidInput, match="no dataset"):
        engine.drift.check("reference@v1", "missing@v1")


def test_edge_cases_are_stated_per_column_not_raised(engine: Engine) -> None:
    reference = pd.DataFrame({"constant": [5.0] * 50, "gone": range(50), "city": ["a", "b"] * 25})
    current = pd.DataFrame(
        {"constant": [5.0] * 4, "new": [1] * 4, "city": ["z", "a", "a", "a"]}
    )  # an unseen city
    engine.datasets.ingest_frame(reference, "reference", "test")
    engine.datasets.ingest_frame(current, "current", "test")
    report = engine.drift.check("reference@v1", "current@v1")
    assert report.skipped == {
        "new": "missing from the reference data",
        "gone": "missing from the current data",
    }
    assert report.columns["constant"].statistic == 1.0 and not report.columns["constant"].drifted
    assert report.columns["city"].method == "chisquare" and report.columns["city"].drifted  # p = 0
    engine.datasets.ingest_frame(current.head(1), "current", "test")  # a window of one row
    one = engine.drift.check("reference@v1", "current@v2")
    assert one.columns["constant"].current_rows == 1
    assert one.skipped["city"].startswith("text with more distinct values")  # 1 of 1: Evidently's text
