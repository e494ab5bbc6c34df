"""The registry on a real workspace and MLflow store: register, gated promotion, history, rollback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from engine.errors import InvalidInput
from engine.facade import Engine


@pytest.fixture
def registry_engine(registry_workspace: Path) -> Iterator[Engine]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        yield engine


def aliases(engine: Engine) -> dict[str, int]:
    return engine.registry.model("churn").aliases


def test_register_show_and_errors(registry_engine: Engine) -> None:
    engine = registry_engine
    model = engine.registry.model("churn")
    assert [v.version for v in model.versions] == [2, 1] and model.aliases == {}
    assert model.versions[0].dataset == "churn@v1" and model.versions[0].metrics["f1"] > 0.7
    with pytest.raises(InvalidInput, match="no registered model 'nope'; registered models: churn"):
        engine.registry.model("nope")
    with pytest.raises(InvalidInput, match="churn has no version 9; its versions are 1, 2"):
        engine.registry.promote("churn", 9, "challenger")
    with pytest.raises(InvalidInput, match="no run matches 'missing'"):
        engine.registry.register("missing", "churn")
    with pytest.raises(InvalidInput, match="--alias 'v2': vN names a version"):
        engine.registry.promote("churn", 1, "v2")
    with pytest.raises(InvalidInput, match="--force needs --reason"):
        engine.registry.promote("churn", 1, "challenger", force=True)
    assert aliases(engine) == {} and engine.registry.moves("churn") == []


def test_gates_refuse_then_force_is_recorded(registry_engine: Engine) -> None:
    engine = registry_engine
    store = MlflowClient(tracking_uri=engine.tracking_uri)
    store.set_registered_model_alias("churn", "champion", "2")  # set outside the gates, as a user might
    refused = engine.registry.promote("churn", 1, "challenger")
    verdicts = {v.check: v for v in refused.verdicts}
    assert not refused.promoted
    assert [v.passed for v in refused.verdicts] == [True, True, True, False]
    assert "does not beat churn v2's" in verdicts["beats churn@champion on f1"].detail
    assert aliases(engine) == {"champion": 2} and engine.registry.moves("churn") == []

    forced = engine.registry.promote("churn", 1, "challenger", force=True, reason="a shadow comparison")
    assert forced.promoted and forced.move is not None
    assert (forced.move.action, forced.move.reason) == ("forced promote", "a shadow comparison")
    assert [v.passed for v in forced.move.verdicts] == [True, True, True, False]
    assert aliases(engine) == {"champion": 2, "challenger": 1}


def test_promote_history_and_rollback(registry_engine: Engine) -> None:
    engine = registry_engine
    first = engine.registry.promote("churn", 1, "challenger")
    assert first.promoted and first.move is not None and first.move.from_version is None
    assert [v.passed for v in first.verdicts] == [True, True, True, True]
    second = engine.registry.promote("churn", 2, "challenger")
    assert second.promoted and second.move is not None and second.move.from_version == 1
    assert aliases(engine) == {"challenger": 2}
    with pytest.raises(InvalidInput, match="churn@challenger is already version 2"):
        engine.registry.promote("churn", 2, "challenger")

    back = engine.registry.rollback("churn", "challenger", reason="v2 misbehaves")
    assert (back.from_version, back.to_version, back.action) == (2, 1, "rollback")
    assert aliases(engine) == {"challenger": 1}
    with pytest.raises(InvalidInput, match=r"churn@challenger \(at v1\) has no earlier version"):
        engine.registry.rollback("churn", "challenger")
    moves = engine.registry.moves("churn")
    assert [(m.from_version, m.to_version, m.action) for m in moves] == [
        (None, 1, "promote"),
        (1, 2, "promote"),
        (2, 1, "rollback"),
    ]
    assert moves[-1].reason == "v2 misbehaves" and len(moves[0].verdicts) == 4
    with pytest.raises(InvalidInput, match=r"churn@champion \(not set\)"):
        engine.registry.rollback("churn")
