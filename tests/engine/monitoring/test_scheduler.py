"""The monitors, once and on a schedule: drift on live traffic raises one alert, every job run
is recorded with what it found, a failing job is recorded and the scheduler goes on, pause and
resume last across restarts, and `mlops up` runs the schedule."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from engine.errors import InvalidInput, MlopsError
from engine.facade import Engine
from engine.types.serving import PredictionBatch
from tests.conftest import ENV, SAMPLE, mlops_json, prediction_batch, run_mlops, start_owner, wait_until

FAST = (
    '[monitors]\ndrift_minutes = 0.01\naccuracy_minutes = 0\nvalidation_minutes = 0\nretention_cron = ""\n'
    '[loop]\nretrain_cron = ""\ncanary_check_minutes = 0\n'
)


@pytest.fixture
def deployed(registry_workspace: Path) -> Path:
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.registry.promote("churn", 2, "champion")
        engine.deployments.deploy("churn-api", "churn@champion")
        features = engine.runs.get(engine.registry.version("churn", 2).run_id).features
        assert features is not None
        rows = pd.read_csv(SAMPLE / "churn_week_3.csv").head(300)[features]
        shifted = rows.assign(
            age=rows.age + 30, tenure_days=rows.tenure_days * 4, total_orders=rows.total_orders * 5
        )
        engine.predictions.append(logged(json.loads(shifted.to_json(orient="records"))))
    return registry_workspace


def logged(rows: list[dict[str, object]]) -> PredictionBatch:
    now = time.time()
    return prediction_batch(
        *(
            {"logged_at": now, "event_time": now, "version": 2, "request_id": f"r{index}",
             "features": json.dumps(row), "score": 0.9}
            for index, row in enumerate(rows)
        )
    )  # fmt: skip


def test_monitors_run_once_alert_once_and_every_run_is_recorded(deployed: Path) -> None:
    with Engine.open(deployed, command="pytest") as engine:
        assert [job.name for job in engine.scheduler.jobs()] == [
            "drift",
            "accuracy",
            "validation",
            "retention",
            "retrain",
            "canary",
        ]
        assert not any(job.scheduling for job in engine.scheduler.jobs())
        run = engine.scheduler.run("drift")
        assert run.status == "ok" and run.trigger == "manual" and run.summary.startswith("churn-api: ")
        (alert,) = engine.alerts.all()
        assert alert.source == "drift:churn-api" and "columns drifted" in alert.message
        assert engine.scheduler.run("drift").status == "ok" and len(engine.alerts.all()) == 1  # once
        assert alert.data["prediction"] is True  # every logged score is 0.9
        scores = engine.monitors.drift_checks("churn-api", 1)[0].scores
        assert scores is not None and (scores.current_rows, scores.current) == (300, [0.0] * 9 + [1.0])
        assert sum(scores.reference) == pytest.approx(1.0) and scores.reference[9] < 0.5

        def broken() -> str:
            raise MlopsError("the tracking server is down")

        engine.scheduler._jobs["accuracy"] = (broken, "every 60 min")
        failed = engine.scheduler.run("accuracy")
        assert (failed.status, failed.error) == ("failed", "the tracking server is down")
        assert [r.job for r in engine.scheduler.history()] == ["accuracy", "drift", "drift"]
        assert engine.scheduler.history("drift", limit=1)[0].seconds is not None
        assert engine.scheduler.jobs()[1].last_run.status == "failed"  # type: ignore[union-attr]

        assert engine.scheduler.pause("validation").paused
        with pytest.raises(InvalidInput, match="no job named 'nope'; the jobs are drift, accuracy"):
            engine.scheduler.run("nope")
    with Engine.open(deployed, command="pytest") as engine:  # a pause lasts across restarts
        engine.scheduler.start()
        try:
            jobs = {job.name: job for job in engine.scheduler.jobs()}
            assert jobs["validation"].paused and jobs["validation"].next_run_at is None
            assert jobs["drift"].scheduling and jobs["drift"].next_run_at is not None
            assert not engine.scheduler.resume("validation").paused
        finally:
            engine.scheduler.stop()
    found = mlops_json(deployed, "monitor", "run")["monitors"]
    assert set(found) == {"drift", "accuracy", "validation", "retention"}
    assert found["retention"] == "0 prediction-log rows older than 90 days deleted"


def test_mlops_up_runs_the_monitors_on_their_schedule(deployed: Path) -> None:
    (deployed / ".mlops" / "config.toml").write_text(FAST + "[alerts]\nstdout = false\n")
    owner = start_owner(deployed)
    try:

        def scheduled() -> list[dict[str, object]]:
            runs = mlops_json(deployed, "jobs", "history")["runs"]
            return [r for r in runs if r["trigger"] == "schedule" and r["status"] != "running"]

        wait_until(lambda: bool(scheduled()), timeout=60, what="a scheduled drift run, finished")
        first = scheduled()[-1]
        assert first["status"] == "ok", first["error"]
        listed = mlops_json(deployed, "jobs", "list")["jobs"]
        assert [job["name"] for job in listed] == ["drift"] and listed[0]["scheduling"] is True
        assert mlops_json(deployed, "alerts", "list")["alerts"][0]["source"] == "drift:churn-api"
        paused = run_mlops("jobs", "pause", "drift", "-w", str(deployed), env=ENV)
        assert paused.returncode == 0 and "Job drift paused" in paused.stdout
    finally:
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(60) == 0
