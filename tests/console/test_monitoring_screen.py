"""The Monitoring screen driven by the Pilot: the newest drift check per feature with its
sparkline over past checks, live accuracy realised and estimated, and an alert acknowledged
(the header's count drops)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Static

from console.app import MlopsApp
from console.screens.monitoring import AccuracyChart, MonitoringScreen
from console.widgets.header import WorkspaceHeader
from console.widgets.work_panel import WorkPanel
from engine.facade import Engine
from tests.console.conftest import RecordingApp, notified, plain_text, rows_of, until


def column(statistic: float, drifted: bool, method: str = "wasserstein") -> dict[str, object]:
    return {
        "method": method,
        "statistic": statistic,
        "threshold": 0.1,
        "drifted": drifted,
        "kind": "number",
        "reference_rows": 20000,
        "current_rows": 500,
    }


def monitored(workspace: Path) -> None:
    """Three drift checks of churn-api (age drifting more each time, the scores shifted), accuracy
    figures realised and estimated of two weekly windows, and two open alerts."""
    with Engine.open(workspace) as engine:
        with engine._db.cursor() as cursor:
            for hour, age in enumerate((0.02, 0.08, 0.31)):
                report = {
                    "columns": {
                        "age": column(age, age >= 0.1),
                        "country": column(0.04, False, "jensenshannon"),
                    },
                    "skipped": {"customer_id": "text with more distinct values than half its rows"},
                    "prediction": column(0.2, True),
                    "scores": {
                        "reference": [0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0, 0, 0, 0],
                        "current": [0.1] * 10,
                        "reference_rows": 20000,
                        "current_rows": 500,
                    },
                }
                cursor.execute(
                    "INSERT INTO drift_checks (checked_at, endpoint, reference, current, dataset_drift,"
                    " share_drifted, report_json) VALUES"
                    " (TIMESTAMPTZ '2026-11-27 09:00:00+00' + ? * INTERVAL 1 HOUR,"
                    " 'churn-api', 'model:churn@champion (churn@v1)', 'live:churn-api (last 1h)', ?, ?, ?)",
                    [hour, age >= 0.1, 0.5 if age >= 0.1 else 0.0, json.dumps(report)],
                )
            for day, (realised, estimated) in enumerate(((0.82, 0.83), (0.61, 0.82))):
                for is_estimate, f1 in ((False, realised), (True, estimated)):
                    cursor.execute(
                        "INSERT INTO accuracy_checks (checked_at, endpoint, variant, model, version,"
                        ' estimated, window_end, "rows", accuracy, f1, metric, baseline, floor) VALUES'
                        " (TIMESTAMPTZ '2026-11-27 00:00:00+00' + ? * INTERVAL 1 DAY, 'churn-api', 'primary',"
                        " 'churn', 2, ?, ?, 500, 0.8, ?, 'f1', 0.82, 0.77)",
                        [day, is_estimate, f"2026-07-{19 + 7 * day}", f1],
                    )
        engine.alerts.raise_alert("drift:churn-api", "warning", "1 of 2 columns drifted (age)", {}, key="d")
        engine.alerts.raise_alert(
            "accuracy:churn-api", "critical", "primary f1 0.610 below 0.77", {}, key="a"
        )


async def test_drift_accuracy_and_an_alert_acknowledged(workspace: Path) -> None:
    (workspace / ".mlops" / "config.toml").write_text(
        "[console]\nrefresh_seconds = 0.1\n[alerts]\nstdout = false\n"
    )
    monitored(workspace)
    app = RecordingApp(Engine.claim(workspace, command="mlops console"))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: app.engine is not None)
            await pilot.press("8")
            assert isinstance(app.screen, MonitoringScreen)
            await until(pilot, lambda: len(rows_of(app, "#drift")) == 4, what="the drift panel")
            drift = {row[0]: row for row in rows_of(app, "#drift")}
            assert drift["age"][1:5] == ["wasserstein", "0.31", "0.1", "DRIFT"]
            assert drift["age"][5] == "▁▂█"  # 0.02, 0.08, 0.31
            assert drift["country"][4] == "ok" and drift["(prediction)"][4] == "DRIFT"
            assert drift["customer_id"][4] == "skipped"
            title = plain_text(app.screen.query_one("#drift-title", Static))
            assert "Drift of churn-api at 2026-11-27 11:00: 50% of columns, DATASET DRIFT" in title

            accuracy = rows_of(app, "#accuracy")
            assert [row[:2] + row[4:5] for row in accuracy] == [
                ["primary", "realised", "0.61"],
                ["primary", "estimated", "0.82"],
            ]
            chart = app.screen.query_one(AccuracyChart).render().plain
            assert "07-19" in chart and "07-26" in chart  # the two windows, oldest to newest
            assert "evaluation 0.8" in chart and "alert line 0.7" in chart
            scores = plain_text(app.screen.query_one("#scores", Static))
            assert "20,000 reference rows, 500 live; wasserstein 0.2: DRIFT" in scores

            header = app.screen.query_one(WorkspaceHeader)
            await until(pilot, lambda: "alerts 2" in header.text, what="two open alerts in the header")
            alerts = app.screen.query_one("#alerts DataTable", DataTable)
            assert len(rows_of(app, "#alerts DataTable")) == 2
            alerts.focus()
            await pilot.press("a")
            await until(pilot, lambda: notified(app, "Alert acknowledged"))
            await until(pilot, lambda: "alerts 1" in header.text, what="the count to drop")
            assert len(rows_of(app, "#alerts DataTable")) == 1

            await pilot.press("c")  # nothing deployed: the monitor says so
            await until(pilot, lambda: "no deployments" in app.screen.query_one(WorkPanel).lines)
    finally:
        app.close_engine()


async def test_nothing_deployed_says_so(console_app: MlopsApp) -> None:
    app = console_app
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("8")
        title = app.screen.query_one("#drift-title", Static)
        await until(pilot, lambda: "nothing deployed yet" in plain_text(title), what="the empty drift panel")
        await pilot.press("h")
        assert notified(app, "No drift check to report on yet")
