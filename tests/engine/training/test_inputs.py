"""Integer columns with missing values (pandas ``Int64`` with ``pandas.NA`` out of DuckDB or a
feature retrieval) reach every model, the evaluation and the ONNX parity rows as floats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.facade import Engine
from engine.registry.onnx_export import export_onnx
from engine.training import tracking
from engine.training.catalogue import CATALOGUE
from engine.training.inputs import model_input
from engine.types.training import TrainRequest
from tests.conftest import SAMPLE

QUICK = {
    "logistic_regression": {},
    "random_forest": {"n_estimators": "20"},
    "gradient_boosting": {"n_estimators": "20"},
    "hist_gradient_boosting": {"max_iter": "20"},
}


@pytest.fixture
def gaps(engine: Engine, tmp_path: Path) -> Engine:
    """Churn rows whose integer columns have gaps: DuckDB reads them back as nullable integers."""
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(2000)
    for number, column in enumerate(("total_orders", "support_tickets", "age")):
        frame[column] = frame[column].astype("Int64")
        frame.loc[frame.sample(frac=0.1, random_state=number).index, column] = pd.NA
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    engine.datasets.ingest(tmp_path / "gaps.csv", "gaps")
    return engine


def test_the_version_really_holds_nullable_integers(gaps: Engine) -> None:
    with gaps._db.cursor() as cursor:
        frame = cursor.execute(f"SELECT total_orders FROM {gaps.datasets.resolve('gaps').relation}").df()
    assert str(frame.total_orders.dtype) in ("Int32", "Int64") and frame.total_orders.isna().any()
    converted = model_input(frame, ["total_orders"])
    assert converted.total_orders.dtype == "float64" and converted.total_orders.isna().sum() > 0
    assert str(frame.total_orders.dtype) != "float64"  # the input frame is left as it was


@pytest.mark.parametrize("model", list(CATALOGUE))
def test_every_model_trains_evaluates_and_exports_with_missing_integers(gaps: Engine, model: str) -> None:
    result = gaps.training.train(TrainRequest("gaps", "churned", model=model, params=QUICK[model]))
    assert result.metrics["roc_auc"] > 0.7
    evaluation = gaps.evaluation.evaluate(result.run_id, log=False)
    assert evaluation.scores.metrics["f1"] == pytest.approx(result.metrics["f1"])
    # The parity rows as DuckDB hands them over: nullable integers with pandas.NA.
    with gaps._db.cursor() as cursor:
        raw = cursor.execute(f"SELECT * FROM {gaps.datasets.resolve('gaps').relation}").df()
    assert raw.total_orders.isna().any()
    export = export_onnx(tracking.load_model(gaps.tracking_uri, result.run_id), raw)
    assert export.labels_identical and export.max_abs_difference <= 1e-5


def test_missing_integers_from_a_feature_retrieval(engine: Engine, tmp_path: Path) -> None:
    """Entity rows a day after a feature row: the 12-hour support view has nothing for them."""
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    rows = pd.read_csv(SAMPLE / "churn_reference.csv", parse_dates=["event_timestamp"]).head(3000)
    rows = rows[["customer_id", "event_timestamp", "churned"]]
    rows.loc[::3, "event_timestamp"] += pd.Timedelta("1D")
    rows.to_parquet(tmp_path / "targets.parquet")
    engine.datasets.ingest(tmp_path / "targets.parquet", "targets")
    engine.features.apply(SAMPLE / "features.toml")
    views = ["customer_support:support_tickets", "customer_orders:total_orders"]
    assert engine.features.historical("targets", views).support_tickets.isna().any()
    result = engine.training.train(
        TrainRequest("targets", "churned", model="hist_gradient_boosting", feature_views=views)
    )
    assert result.features == ["support_tickets", "total_orders"] and result.metrics["roc_auc"] > 0.6
