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
    customers = [int(c) for c in np.random.default_rng(3).integers(99_990, 120_010, 100)] + [1, 999_999]
    answers = []
    with engine._db.cursor() as cursor:
        lookup = store.prepare_online_lookup(cursor, FEATURES)
        index = store.OnlineIndex.load(cursor, lookup)
        for at in (datetime(2026, 3, 1), datetime(2026, 6, 28, 12), datetime(2026, 9, 1)):
            expected = [lookup.lookup(cursor, {"customer_id": c}, at) for c in customers]
            assert [index.lookup_entity({"customer_id": c}, at) for c in customers] == expected
            answers += expected
    statuses = {status for found in answers for status in found.statuses.values()}
    assert statuses == {"present", "expired", "not_found"}
    assert all(
        (value is None) == (found.statuses[name] != "present")
        for found in answers
        for name, value in found.values.items()
    )
    fresh = engine.features.online({"customer_id": 119_999}, FEATURES, datetime(2026, 6, 28, 23, 30))
    assert fresh.values["total_orders"] is not None and fresh.values["support_tickets"] is not None


def test_an_expired_value_and_an_unknown_entity_are_told_apart(engine: Engine) -> None:
    """Both are None, as in Feast; the status says which (Feast's OUTSIDE_MAX_AGE / NOT_FOUND)."""
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.features.apply(SAMPLE / "features.toml")
    engine.features.materialize(datetime(2026, 6, 29))
    later = datetime(2026, 9, 1)
    expired = engine.features.online({"customer_id": 100_005}, FEATURES, later)
    unknown = engine.features.online({"customer_id": 999_999}, FEATURES, later)
    assert set(expired.values.values()) == set(unknown.values.values()) == {None}
    assert set(expired.statuses.values()) == {"expired"}
    assert set(unknown.statuses.values()) == {"not_found"}


def test_materialize_brings_new_rows_online(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.features.apply(SAMPLE / "features.toml")
    engine.features.materialize(datetime(2026, 6, 29))
    week_one_customer = {"customer_id": 210_000}
    assert (
        engine.features.online(week_one_customer, FEATURES[:1], datetime(2026, 7, 6)).values["total_orders"]
        is None
    )
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "churn")
    engine.features.materialize(datetime(2026, 7, 6))
    found = engine.features.online(week_one_customer, FEATURES[:1], datetime(2026, 7, 6))
    assert found.values["total_orders"] == 39 and found.statuses["total_orders"] == "present"
