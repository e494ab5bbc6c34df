"""How an endpoint routes rows (engine/serving/routing.py): A/B assignment sticks to its key, a
blue/green endpoint answers with its live colour, a shadow answers only for the log."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from engine.serving.model import ServedModel
from engine.serving.routing import Endpoint, RequestKeys
from tests.engine.serving.conftest import Exported


@pytest.fixture(scope="module")
def model(exported: Exported) -> ServedModel:
    record, _ = exported
    return ServedModel.load("churn", 2, record.path, record.sha256)


@pytest.fixture(scope="module")
def rows(model: ServedModel, exported: Exported) -> list[list[Any]]:
    _, data = exported
    return model.rows([{f.column: row[f.column] for f in model.features} for row in data[:200]])


def test_ab_assignment_is_sticky_per_key_and_splits_near_its_share(
    model: ServedModel, rows: list[list[Any]]
) -> None:
    never = iter(())  # a keyed request never draws
    endpoint = Endpoint(
        "churn-ab", "ab", {"a": model, "b": model}, {"split": 30, "key": "customer_id"}, never.__next__
    )
    sides = {}
    for customer in range(2000):
        keys = RequestKeys("customer_id", str(customer))
        sides[customer] = endpoint.answer(rows[:1], keys).arms[0].role
    assert all(
        endpoint.answer(rows[:1], RequestKeys("customer_id", str(c))).arms[0].role == sides[c]
        for c in range(50)
    )
    share = Counter(sides.values())["b"] / len(sides)
    assert 0.26 < share < 0.34
    other = Endpoint("pricing-ab", "ab", {"a": model, "b": model}, {"split": 30, "key": "customer_id"})
    moved = sum(
        other.answer(rows[:1], RequestKeys("customer_id", str(c))).arms[0].role != sides[c]
        for c in range(2000)
    )
    assert moved > 500  # another experiment splits the same keys independently


def test_ab_keys_come_from_a_feature_the_entity_or_a_header(
    model: ServedModel, rows: list[list[Any]]
) -> None:
    column = model.features[0].column
    by_feature = Endpoint("t", "ab", {"a": model, "b": model}, {"split": 50, "key": column}, lambda: 0.0)
    routed = by_feature.answer(rows, RequestKeys())
    assert set(arm.role for arm in routed.arms) == {"a", "b"}  # rows of one request split by their value
    again = by_feature.answer(rows, RequestKeys())
    assert [arm.role for arm in again.arms] == [arm.role for arm in routed.arms]
    assert [p.score for p in routed.predictions] == [p.score for p in model.run(rows)]  # order kept

    by_header = Endpoint("t", "ab", {"a": model, "b": model}, {"split": 50, "key": "session"}, lambda: 0.99)
    headers = {"session": "s-1"}
    first = by_header.answer(rows[:3], RequestKeys(header=headers.get)).arms
    assert len({arm.role for arm in first}) == 1  # the request's key: all its rows on one side
    unkeyed = by_header.answer(rows[:3], RequestKeys()).arms
    assert {arm.role for arm in unkeyed} == {"a"}  # no key: the draw (0.99 is above the split)


def test_blue_green_answers_with_the_live_colour_and_a_shadow_only_logs(
    model: ServedModel, rows: list[list[Any]]
) -> None:
    green = Endpoint("bg", "bluegreen", {"blue": model, "green": model}, {"live": "green"})
    assert {arm.role for arm in green.answer(rows, RequestKeys()).arms} == {"green"}
    assert green.shadow is None and green.face.role == "green"
    shadowed = Endpoint("sh", "shadow", {"primary": model, "shadow": model}, {})
    routed = shadowed.answer(rows[:2], RequestKeys())
    assert [arm.role for arm in routed.arms] == ["primary", "primary"]
    assert routed.shadow is not None and routed.shadow.role == "shadow"
