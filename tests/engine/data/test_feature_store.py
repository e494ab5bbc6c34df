"""The feature store bound to a workspace: the in-memory online index (for serving) answers like
the online tables, and materializing again brings new rows online."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from engine.data import features as store
from engine.facade import Engine
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
FEATURES = [
    "customer_orders:total_orders",
    "customer_orders:avg_order_value",
    "customer_support:support_tickets",
    "customer_behaviour:orders_per_tenure_month",
]


def test_the_online_index_answers_like_the_online_tables(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.features.apply(SAMPLE / "features.toml")
    engine.features.materialize(datetime(2026, 6, 29))
    customers = [int(c) for c in np.random.default_rng(3).integers(99_990, 120_010, 100)]  # some unknown
    answers = []
    with engine._db.cursor() as cursor:
        lookup = store.prepare_online_lookup(cursor, FEATURES)
        index = store.OnlineIndex.load(cursor, lookup)
        for at in (datetime(2026, 3, 1), datetime(2026, 6, 28, 12), datetime(2026, 9, 1)):
            expected = [lookup.get(cursor, {"customer_id": c}, at) for c in customers]
            assert [index.get({"customer_id": c}, at) for c in customers] == expected
            answers += expected
    assert any(value is not None for row in answers for value in row.values())
    assert any(value is None for row in answers for value in row.values())  # expired or unknown
    fresh = engine.features.online({"customer_id": 119_999}, FEATURES, datetime(2026, 6, 28, 23, 30))
    assert fresh["total_orders"] is not None and fresh["support_tickets"] is not None


def test_materialize_brings_new_rows_online(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.features.apply(SAMPLE / "features.toml")
    engine.features.materialize(datetime(2026, 6, 29))
    week_one_customer = {"customer_id": 210_000}
    assert (
        engine.features.online(week_one_customer, FEATURES[:1], datetime(2026, 7, 6))["total_orders"] is None
    )
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "churn")
    engine.features.materialize(datetime(2026, 7, 6))
    assert engine.features.online(week_one_customer, FEATURES[:1], datetime(2026, 7, 6))["total_orders"] == 39
