"""The automatic retrain loop: a turn builds the newest data (training rows + labelled production
rows, a failed batch left out), re-runs the champion's training with its gates, serves the
challenger as a canary and promotes it or rolls it back; the policy keeps it from thrashing; a
failed retrain never moves the champion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.facade import Engine
from tests.conftest import LOOSE_GATES, SAMPLE, mlops_json, prediction_batch

LOOP = """
[loop]
enabled = true
triggers = ["drift", "accuracy"]
canary_percent = 50.0
canary_requests = 20
canary_minutes = 600.0
cooldown_hours = 24.0
max_retrains_per_day = 5
"""
GATES = LOOSE_GATES.replace("min_f1 = 0.5", "min_f1 = 0.5\nchampion_margin = -0.05")  # a near-tie passes


@pytest.fixture
def looped(registry_workspace: Path) -> Iterator[Engine]:
    (registry_workspace / ".mlops" / "config.toml").write_text(GATES + LOOP)
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.registry.promote("churn", 2, "champion")
        engine.deployments.deploy("churn-api", "churn@champion")
        yield engine


def production(
    engine: Engine, week: int, rows: int, prefix: str, now: bool = False, stretch: float = 1.0
) -> pd.DataFrame:
    """``rows`` of the sample's week answered by the champion (v2) and labelled late (logged
    ``now``, or when each happened; tenure, orders and order value times ``stretch``)."""
    frame = pd.read_csv(SAMPLE / f"churn_week_{week}.csv").dropna(subset=["customer_id"]).head(rows)
    for name in ("tenure_days", "total_orders", "avg_order_value"):
        frame[name] = frame[name] * stretch
    labels = pd.read_csv(SAMPLE / "churn_labels.csv")
    times = pd.to_datetime(frame["event_timestamp"], utc=True)
    features = [name for name in frame.columns if name not in ("customer_id", "event_timestamp")]
    engine.predictions.append(
        prediction_batch(
            *(
                {"event_time": moment.timestamp(), "version": 2,
                 "logged_at": datetime.now(UTC).timestamp() if now else moment.timestamp(),
                 "request_id": f"{prefix}{i}", "entity_key": "customer_id", "entity": str(int(customer)),
                 "features": json.dumps({name: _plain(row[name]) for name in features}),
                 "score": 0.4, "label": "0"}
                for i, ((_, row), customer, moment) in enumerate(
                    zip(frame.iterrows(), frame["customer_id"], times, strict=True)
                )
            )
        )
    )  # fmt: skip
    truth = frame.reset_index(drop=True).merge(labels, on=["customer_id", "event_timestamp"], how="left")
    file = engine.workspace.root / f"{prefix}.csv"
    file.write_text(
        "request_id,churned\n"
        + "".join(f"{prefix}{i},{int(label)}\n" for i, label in enumerate(truth["churned"]) if label == label)
    )
    engine.labels.ingest(str(file))
    return frame


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def served(engine: Engine, variant: str, version: int, rows: int, status: int = 200) -> None:
    """``rows`` requests answered now by ``variant``."""
    now = datetime.now(UTC).timestamp()
    engine.predictions.append(
        prediction_batch(
            *(
                {"logged_at": now, "event_time": now, "variant": variant, "version": version,
                 "request_id": f"{variant}-{status}-{i}", "status": status}
                for i in range(rows)
            )
        )
    )  # fmt: skip


def test_a_turn_retrains_canaries_and_promotes(looped: Engine) -> None:
    engine = looped
    production(engine, 1, 400, "w1-")
    turn = engine.loop.run("churn-api")
    assert turn.outcome == "canary", turn
    steps = {step.step: step for step in turn.steps}
    assert [step.step for step in turn.steps] == ["trigger", "data", "retrain", "canary"]
    data = steps["data"].evidence
    assert (
        data["base"] == "churn@v1" and data["version"] == "churn@v2" and 350 < data["production_rows"] <= 400
    )
    version = engine.datasets.resolve("churn@v2")
    assert version.row_count == 20000 + data["production_rows"] and "mlops loop turn 1" in version.source_path
    assert steps["retrain"].evidence["registered"] == "churn@v3" and turn.challenger_version == 3
    deployment = engine.deployments.get("churn-api")
    assert deployment.strategy == "canary" and [v.reference for v in deployment.variants] == [
        "churn@champion",
        "churn@v3",
    ]
    assert engine.registry.resolve("churn@champion").version == 2  # nothing moved yet

    assert engine.loop.advance() == "churn-api: canary waiting (0 of 20 requests)"
    served(engine, "primary", 2, 20)
    served(engine, "canary", 3, 20)
    assert engine.loop.advance() == "churn-api: promoted"
    assert engine.registry.resolve("churn@champion").version == 3
    deployment = engine.deployments.get("churn-api")
    assert deployment.strategy == "single" and deployment.variants[0].reference == "churn@champion"
    (done,) = engine.loop.history()
    assert done.outcome == "promoted" and [s.step for s in done.steps][-2:] == ["compare", "promote"]
    assert any(alert.source == "loop:churn-api" and alert.severity == "info" for alert in engine.alerts.all())

    # The next turn starts again from the first champion's data: production rows count once.
    production(engine, 3, 100, "w3-")
    second = engine.loop.run("churn-api")
    evidence = next(step for step in second.steps if step.step == "data").evidence
    assert evidence["base"] == "churn@v1" and evidence["production_rows"] > data["production_rows"]
    engine.close()
    shown = mlops_json(engine.workspace.root, "loop", "history", "--limit", "5")
    assert [turn["outcome"] for turn in shown["turns"]] == [second.outcome, "promoted"]


def test_the_drift_monitor_starts_a_turn(looped: Engine) -> None:
    """Week 3, three of its numbers stretched by half again, answered in the last hour: the drift job
    finds dataset drift and the loop turns on it; a finding right after is held back."""
    engine = looped
    production(engine, 3, 300, "w3-", now=True, stretch=1.5)
    assert "drifted" in engine.monitors.drift()
    (turn,) = engine.loop.history()
    assert turn.trigger == "drift" and turn.outcome == "canary"
    assert "columns drifted" in turn.steps[0].detail and turn.steps[1].step == "policy"
    engine.loop.triggered("churn-api", "accuracy", {"said": "f1 0.61 realised, below 0.77"})
    held = engine.loop.history()[0]
    assert held.outcome == "skipped" and "still out" in (held.reason or "")


def test_a_bad_canary_is_rolled_back_and_the_champion_stays(looped: Engine) -> None:
    engine = looped
    production(engine, 1, 200, "w1-")
    assert engine.loop.run("churn-api").outcome == "canary"
    served(engine, "primary", 2, 20)
    served(engine, "canary", 3, 20, status=500)
    assert engine.loop.advance().startswith("churn-api: rolled back: canary error rate 100.00%")
    assert engine.registry.resolve("churn@champion").version == 2
    deployment = engine.deployments.get("churn-api")
    assert deployment.strategy == "single" and deployment.variants[0].reference == "churn@champion"
    (alert,) = [a for a in engine.alerts.all() if a.source == "loop:churn-api"]
    assert alert.severity == "warning" and "rolled back" in alert.message


def test_the_policy_and_a_refusing_gate(looped: Engine, registry_workspace: Path) -> None:
    engine = looped
    assert engine.loop.triggered("churn-api", "schedule", {}) is None  # not one of the triggers
    first = engine.loop.triggered("churn-api", "drift", {"said": "7 of 10 columns drifted"})
    assert first is not None and first.outcome == "skipped"  # nothing labelled yet
    assert "no labelled production rows" in (first.reason or "")
    assert "7 of 10 columns drifted" in first.steps[0].detail

    production(engine, 1, 200, "w1-")
    assert engine.loop.triggered("churn-api", "drift", {}).outcome == "canary"  # type: ignore[union-attr]
    again = engine.loop.triggered("churn-api", "accuracy", {})
    assert again is not None and again.outcome == "skipped" and "still out" in (again.reason or "")

    # A turn its process left running (killed mid-retrain) is closed by the next one, not waited on.
    with engine._db.cursor() as cursor:
        cursor.execute("UPDATE loop_runs SET outcome = 'running' WHERE id = ?", [again.id])
    engine.loop.triggered("churn-api", "drift", {})
    stopped = next(turn for turn in engine.loop.history() if turn.id == again.id)
    assert stopped.outcome == "failed" and stopped.reason == "the process running it stopped"


def test_a_failed_retrain_never_moves_the_champion(registry_workspace: Path) -> None:
    strict = GATES.replace("min_f1 = 0.5", "min_f1 = 0.99")
    (registry_workspace / ".mlops" / "config.toml").write_text(strict + LOOP)
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.registry.promote("churn", 2, "champion", force=True, reason="test")
        engine.deployments.deploy("churn-api", "churn@champion")
        production(engine, 1, 200, "w1-")
        turn = engine.loop.run("churn-api")
        assert turn.outcome == "failed" and "gate" in (turn.reason or "")
        retrain = next(step for step in turn.steps if step.step == "retrain")
        assert retrain.status == "failed" and retrain.evidence["gates"]
        assert engine.registry.resolve("churn@champion").version == 2
        assert engine.deployments.get("churn-api").strategy == "single"
        assert [a.severity for a in engine.alerts.all() if a.source == "loop:churn-api"] == ["warning"]


def test_rows_of_a_batch_that_failed_validation_never_enter(looped: Engine) -> None:
    """Week 2 fails the sample suite: replayed and labelled, its rows are left out."""
    engine = looped
    engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "week2")
    assert not engine.quality.validate("week2", "churn_suite").success
    production(engine, 1, 100, "w1-")
    production(engine, 2, 100, "w2-")
    turn = engine.loop.run("churn-api")
    data = next(step for step in turn.steps if step.step == "data")
    assert data.evidence["excluded_rows"] >= 90 and data.evidence["production_rows"] <= 100
    assert "left out: their batch failed validation" in data.detail
