"""Drift on a model's training data and on an endpoint's live traffic (the prediction log's
inputs): the same verdicts and statistics as the same rows stored as a dataset."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.serving import PredictionBatch
from tests.conftest import SAMPLE, prediction_batch


@pytest.fixture
def registry(registry_workspace: Path) -> Iterator[Engine]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.registry.promote("churn", 2, "champion")
        yield engine


def logged(rows: list[dict[str, object]], logged_at: float, variant: str = "primary") -> PredictionBatch:
    """The rows as the prediction log holds an endpoint's answers to them."""
    return prediction_batch(
        *(
            {"logged_at": logged_at, "event_time": logged_at, "variant": variant, "version": 2,
             "request_id": f"r{index}", "features": json.dumps(row), "label": "0"}
            for index, row in enumerate(rows)
        )
    )  # fmt: skip


def test_live_traffic_against_the_models_training_data(registry: Engine) -> None:
    features = registry.runs.get(registry.registry.version("churn", 2).run_id).features
    assert features is not None
    week3 = pd.read_csv(SAMPLE / "churn_week_3.csv").head(600)
    rows = [{name: row[name] for name in features} for row in json.loads(week3.to_json(orient="records"))]
    now = time.time()
    registry.predictions.append(logged(rows[:500], now))
    registry.predictions.append(logged(rows[500:], now - 3 * 86400))  # three days ago
    registry.predictions.append(logged(rows[:100], now, variant="shadow"))  # the same inputs again

    live = registry.drift.check("model:churn@champion", "live:churn-api", since="1d")
    assert live.reference.startswith("model:churn@champion (churn@v1)")
    assert live.current == "live:churn-api (last 1d)"
    assert set(live.columns) | set(live.skipped) == set(features)
    assert (
        live.columns["days_since_last_order"].drifted
        and live.columns["days_since_last_order"].current_rows == 500
    )

    registry.datasets.ingest_frame(week3.head(500)[features], "window", "test")
    stored = registry.drift.check("model:churn@champion", "window@v1")
    assert {name: (c.method, c.drifted) for name, c in live.columns.items()} == {
        name: (c.method, c.drifted) for name, c in stored.columns.items()
    }
    for name, column in live.columns.items():
        assert column.statistic == pytest.approx(stored.columns[name].statistic, rel=1e-9), name

    assert (
        live.prediction is not None and live.prediction.method == "wasserstein"
    )  # the model's 20,000 scores
    assert live.prediction.drifted and live.prediction.current_rows == 500  # every logged score is 0.5
    assert live.target is None  # no labels yet
    labels = registry.workspace.root / "labels.csv"
    labels.write_text("request_id,churned\n" + "".join(f"r{i},{i % 2}\n" for i in range(100)))
    registry.labels.ingest(str(labels))
    labelled = registry.drift.check("model:churn@champion", "live:churn-api", since="1d")
    assert labelled.target is not None and labelled.target.method == "jensenshannon"
    assert labelled.target.current_rows == 100 and labelled.target.reference_rows == 20_000

    everything = registry.drift.check("model:churn@champion", "live:churn-api")
    assert everything.columns["age"].current_rows == 600  # no window: every answered row, no shadow
    empty = registry.drift.check("model:churn@champion", "live:nobody")
    assert empty.columns == {} and set(empty.skipped) == set(features)  # no traffic yet: stated


def test_bad_sources_are_refused_in_one_line(registry: Engine) -> None:
    for reference, current, since, message in [
        ("live:a", "live:b", None, "a live window is tested against data"),
        ("churn@v1", "churn@v1", "1h", "--since applies to a live:ENDPOINT source"),
        ("churn@v1", "live:churn-api", "soon", "--since soon: expected a duration such as 30m"),
        ("churn@v1", "live:", None, "expected live:ENDPOINT"),
        ("model:churn@staging", "churn@v1", None, "churn@staging is not set"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            registry.drift.check(reference, current, since=since)
