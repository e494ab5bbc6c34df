"""Column names that are not identifiers (spaces, dots, dashes, quotes, unicode, a leading digit)
round-trip through everything that names a column: ingest, suite inference and validation,
training, promotion (ONNX export and its parity check), evaluation and the feature store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.types.training import TrainRequest
from tests.conftest import LOOSE_GATES, SAMPLE

HOSTILE = {
    "customer_id": "customer id",
    "age": "Age (years)",
    "tenure_days": "tenure.days",
    "total_orders": "1st-orders",
    "avg_order_value": "avg order value €",
    "days_since_last_order": 'days since "last" order',
    "country": "país",
    "churned": "churned?",
}
FEATURES = """
[[entity]]
name = "customer"
join_keys = ["customer id"]

[[feature_view]]
name = "orders-view"
entities = ["customer"]
source = "hostile"
timestamp_column = "event_timestamp"
online = true

[feature_view.features]
"tenure.days" = "int64"
"1st-orders" = "int64"
'days since "last" order' = "int64"
"país" = "string"
"""
VIEW_FEATURES = ["orders-view:tenure.days", "orders-view:país", 'orders-view:days since "last" order']


@pytest.fixture
def hostile(workspace: Path, tmp_path: Path) -> Path:
    """The sample's first 4,000 rows with its columns renamed."""
    (workspace / ".mlops" / "config.toml").write_text(LOOSE_GATES)
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(4000).rename(columns=HOSTILE)
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    frame[["customer id", "event_timestamp"]].head(50).to_csv(tmp_path / "entities.csv", index=False)
    return path


def test_hostile_column_names_round_trip(workspace: Path, hostile: Path, tmp_path: Path) -> None:
    with Engine.open(workspace, command="pytest") as engine:
        version = engine.datasets.ingest(hostile, "hostile").version
        assert set(HOSTILE.values()) <= set(version.columns)
        engine.quality.infer("hostile", "hostile_suite", save=True)
        assert engine.quality.validate("hostile", "hostile_suite").success

        run = engine.training.train(
            TrainRequest("hostile", "churned?", "random_forest", params={"n_estimators": "20"})
        )
        assert {"tenure.days", 'days since "last" order', "país"} <= set(run.features)
        engine.registry.register(run.run_id, "hostile")
        promotion = engine.registry.promote("hostile", 1)  # converts to ONNX and checks parity
        assert promotion.promoted and promotion.export is not None
        names = {item.column: item.name for item in promotion.export.inputs}
        assert names["tenure.days"] != "tenure.days" and all(name.isidentifier() for name in names.values())
        assert engine.evaluation.evaluate("hostile@champion", log=False).rows == 800
        assert engine.evaluation.evaluate(run.run_id, "hostile@v1", log=False).rows == 4000

        (tmp_path / "features.toml").write_text(FEATURES)
        engine.features.apply(tmp_path / "features.toml")
        frame = engine.features.historical(str(tmp_path / "entities.csv"), VIEW_FEATURES)
        assert list(frame.columns[-3:]) == ["tenure.days", "país", 'days since "last" order']
        assert frame["tenure.days"].notna().all()
        engine.features.materialize()
        online = engine.features.online({"customer id": 100001}, VIEW_FEATURES).values
        assert online == {"tenure.days": 441, "país": "NL", 'days since "last" order': 8}


HOSTILE_DEFINITIONS = {
    "view name with SQL": (
        "feature_view",
        'x"; DROP TABLE datasets; --',
        "feature_view name 'x\"; DROP TABLE datasets; --'",
    ),
    "view name with a space": ("feature_view", "orders view", "feature_view name 'orders view'"),
    "entity name with a quote": ("entity", 'cust"omer', "entity name 'cust\"omer'"),
}


@pytest.mark.parametrize("kind, name, named", HOSTILE_DEFINITIONS.values(), ids=HOSTILE_DEFINITIONS)
def test_feature_definition_names_are_checked_where_they_enter(
    engine: Engine, tmp_path: Path, kind: str, name: str, named: str
) -> None:
    """A view or entity name becomes part of the online store's tables: one that is not a name
    is refused with the file, the item and the rule, and nothing is applied."""
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    document = FEATURES.replace('"hostile"', '"churn"').replace("customer id", "customer_id")
    document = document.replace(
        'name = "orders-view"' if kind == "feature_view" else 'name = "customer"',
        "name = " + json.dumps(name),
        1,
    )
    if kind == "entity":
        document = document.replace('entities = ["customer"]', "entities = " + json.dumps([name]))
    (tmp_path / "features.toml").write_text(document)
    with pytest.raises(InvalidInput) as raised:
        engine.features.apply(tmp_path / "features.toml")
    message = str(raised.value)
    assert "\n" not in message and named in message and "expected a letter then up to 63" in message
    assert engine.features.views() == []
    assert [summary.name for summary in engine.datasets.summaries()] == ["churn"]


def test_a_feature_name_holding_a_colon_is_refused(engine: Engine, tmp_path: Path) -> None:
    """``view:feature`` could not name it."""
    frame = pd.read_csv(SAMPLE / "churn_reference.csv").head(100).rename(columns={"age": "age:years"})
    frame.to_csv(tmp_path / "colon.csv", index=False)
    engine.datasets.ingest(tmp_path / "colon.csv", "colon")
    document = FEATURES.replace('"hostile"', '"colon"').replace("customer id", "customer_id")
    document = (
        document.split("[feature_view.features]")[0] + '[feature_view.features]\n"age:years" = "int64"\n'
    )
    (tmp_path / "features.toml").write_text(document)
    with pytest.raises(InvalidInput, match="feature 'age:years': expected a non-empty name without ':'"):
        engine.features.apply(tmp_path / "features.toml")
