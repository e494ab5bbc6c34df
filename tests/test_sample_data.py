"""The sample data set: reproducible to the byte, learnable, unfair in a known way, and
carrying the drift and faults later features need to find."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
FILES = [
    "churn_reference.csv",
    "churn_targets.csv",
    "churn_week_1.csv",
    "churn_week_2.csv",
    "churn_week_3.csv",
    "churn_week_4.csv",
    "churn_labels.csv",
]
NUMERIC = [
    "age",
    "tenure_days",
    "total_orders",
    "avg_order_value",
    "days_since_last_order",
    "support_tickets",
]
CATEGORICAL = ["country", "gender", "age_group", "region"]


def generate(out: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--out", str(out), *extra],
        check=True,
        capture_output=True,
    )


def test_same_seed_same_bytes_as_the_committed_files(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    for name in FILES:
        produced = (tmp_path / "a" / name).read_bytes()
        assert produced == (tmp_path / "b" / name).read_bytes(), name
        assert produced == (SAMPLE / name).read_bytes(), f"{name} differs from the committed file"


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path, "--seed", "7")
    assert (tmp_path / "churn_reference.csv").read_bytes() != (SAMPLE / "churn_reference.csv").read_bytes()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "churn_reference.csv")


def test_shapes_and_columns(reference: pd.DataFrame) -> None:
    assert len(reference) == 20_000
    assert list(reference.columns) == ["customer_id", "event_timestamp", *NUMERIC, *CATEGORICAL, "churned"]
    for week in range(1, 5):
        batch = pd.read_csv(SAMPLE / f"churn_week_{week}.csv")
        assert len(batch) == 5_000 and "churned" not in batch.columns
    labels = pd.read_csv(SAMPLE / "churn_labels.csv", parse_dates=["event_timestamp", "labelled_at"])
    assert list(labels.columns) == ["customer_id", "event_timestamp", "churned", "labelled_at"]
    assert (labels.labelled_at > labels.event_timestamp).all()


def test_week_2_carries_the_quality_faults_and_only_it() -> None:
    for week in range(1, 5):
        batch = pd.read_csv(SAMPLE / f"churn_week_{week}.csv")
        faults = batch.customer_id.isna().sum() + (~batch.age.between(18, 100)).sum()
        assert (faults > 100) if week == 2 else (faults == 0), week


def test_week_3_drifts_strongly_in_two_numeric_columns_and_country(reference: pd.DataFrame) -> None:
    week1 = pd.read_csv(SAMPLE / "churn_week_1.csv")
    week3 = pd.read_csv(SAMPLE / "churn_week_3.csv")
    for column in ("days_since_last_order", "support_tickets"):
        assert abs(week1[column].mean() - reference[column].mean()) < 0.1 * reference[column].std()
        assert week3[column].mean() - reference[column].mean() > 0.5 * reference[column].std()
    assert week3.country.isin(["IN", "BR"]).mean() > 2 * reference.country.isin(["IN", "BR"]).mean()


def churn_model_predictions(reference: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    features = pd.get_dummies(reference[NUMERIC + CATEGORICAL])
    train, test = train_test_split(reference.index, test_size=0.2, random_state=42)
    model = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=42, n_jobs=2)
    model.fit(features.loc[train], reference.churned.loc[train])
    holdout = reference.loc[test].assign(predicted=model.predict(features.loc[test]))
    return holdout, (model, features.columns)


@pytest.fixture(scope="module")
def holdout(reference: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    return churn_model_predictions(reference)


def test_churn_is_learnable_and_week_4_breaks_the_model(holdout: tuple[pd.DataFrame, object]) -> None:
    from sklearn.metrics import f1_score

    frame, (model, columns) = holdout  # type: ignore[misc]
    assert f1_score(frame.churned, frame.predicted) > 0.78
    labels = pd.read_csv(SAMPLE / "churn_labels.csv")[["customer_id", "churned"]]
    week4 = pd.read_csv(SAMPLE / "churn_week_4.csv").merge(labels, on="customer_id")
    predicted = model.predict(
        pd.get_dummies(week4[NUMERIC + CATEGORICAL]).reindex(columns=columns, fill_value=0)
    )
    assert f1_score(week4.churned, predicted) < 0.7


def test_age_group_and_gender_carry_a_measurable_disparity(holdout: tuple[pd.DataFrame, object]) -> None:
    frame, _ = holdout
    by_age = frame.groupby("age_group").predicted.mean()
    assert by_age.min() / by_age.max() < 0.8  # four-fifths rule violated
    by_gender = frame[frame.gender != "non_binary"].groupby("gender").predicted.mean()
    assert by_gender["male"] - by_gender["female"] > 0.05
    fpr = frame[frame.churned == 0].groupby("age_group").predicted.mean()
    assert fpr["18-24"] - fpr["35-49"] > 0.1  # equalised odds difference above the default bound


def test_the_suite_is_gx_json_and_catches_week_2() -> None:
    import great_expectations as gx

    suite = gx.ExpectationSuite(**json.loads((SAMPLE / "churn_suite.json").read_text()))
    assert {e.expectation_type for e in suite.expectations} == {
        "expect_table_row_count_to_be_between",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
    }
    batch_definition = (
        gx.get_context(mode="ephemeral")
        .data_sources.add_pandas("sample")
        .add_dataframe_asset("churn")
        .add_batch_definition_whole_dataframe("all")
    )

    def failures(name: str) -> set[tuple[str, str]]:
        frame = pd.read_csv(SAMPLE / name)
        result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        return {
            (r.expectation_config.type, r.expectation_config.kwargs["column"])
            for r in result.results
            if not r.success
        }

    assert failures("churn_reference.csv") == set()
    assert failures("churn_week_2.csv") == {
        ("expect_column_values_to_not_be_null", "customer_id"),
        ("expect_column_values_to_be_between", "age"),
    }
