"""The Scheduler screen driven by the Pilot: the jobs the console's own scheduler runs, a job run
now and its history row, pause and resume; the loop's turns with their steps."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from console.app import MlopsApp
from console.screens.scheduler import SchedulerScreen
from console.widgets.work_panel import WorkPanel
from engine.facade import Engine
from tests.console.conftest import RecordingApp, notified, plain_text, rows_of, until


async def test_run_a_job_now_pause_and_resume(console_app: MlopsApp) -> None:
    app = console_app
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("9")
        assert isinstance(app.screen, SchedulerScreen)
        await until(pilot, lambda: len(rows_of(app, "#jobs")) == 6, what="the jobs")
        jobs = rows_of(app, "#jobs")
        assert [row[0] for row in jobs] == [
            "drift",
            "accuracy",
            "validation",
            "retention",
            "retrain",
            "canary",
        ]
        # This console does not host (no `serve`), so no scheduler runs in it; jobs still run now.
        assert all(row[2] == "not scheduled here" and row[4] == "never" for row in jobs)

        table = app.screen.query_one("#jobs", DataTable)
        table.focus()
        table.move_cursor(row=2)  # validation
        await pilot.press("n")
        await until(pilot, lambda: notified(app, "Job validation ran"), what="the run")
        await until(pilot, lambda: any(row[1] == "validation" for row in rows_of(app, "#runs DataTable")))
        run = next(row for row in rows_of(app, "#runs DataTable") if row[1] == "validation")
        assert run[2] == "manual" and run[5] == "ok" and run[6] == "nothing waiting"
        assert "validation: ok: nothing waiting" in app.screen.query_one(WorkPanel).lines
        await until(pilot, lambda: rows_of(app, "#jobs")[2][4] == "ok", what="the last run in the jobs table")

        await pilot.press("p")
        await until(pilot, lambda: rows_of(app, "#jobs")[2][2] == "paused", what="paused")
        await pilot.press("u")
        await until(pilot, lambda: rows_of(app, "#jobs")[2][2] == "not scheduled here", what="resumed")
        title = plain_text(app.screen.query_one("#steps-title", Static))
        assert "no turn yet" in title


async def test_the_loop_turns_and_their_steps(workspace: Path) -> None:
    """A turn recorded by the loop shows with its steps (a turn skipped: nothing deployed to learn from)."""
    (workspace / ".mlops" / "config.toml").write_text("[console]\nrefresh_seconds = 0.1\n")
    with Engine.open(workspace) as engine, engine._db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loop_runs (trigger, endpoint, model, champion_version, outcome, reason)"
            " VALUES ('drift', 'churn-api', 'churn', 2, 'skipped', 'no labelled production rows yet')"
        )
        cursor.execute(
            "INSERT INTO loop_steps (run_id, step, status, detail, evidence_json) VALUES"
            " (1, 'trigger', 'ok', 'the drift monitor found dataset drift', '{}'),"
            " (1, 'data', 'skipped', 'no labelled production rows yet', '{\"base\": \"churn@v1\"}')"
        )
    app = RecordingApp(Engine.claim(workspace, command="mlops console"))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: app.engine is not None)
            await pilot.press("9")
            await until(pilot, lambda: len(rows_of(app, "#steps")) == 2, what="the turn's steps")
            assert rows_of(app, "#turns")[0][2:] == ["drift", "churn-api", "churn v2", "skipped"]
            assert [row[1] for row in rows_of(app, "#steps")] == ["trigger", "data"]
            assert '{"base": "churn@v1"}' in rows_of(app, "#steps")[1][3]
    finally:
        app.close_engine()
