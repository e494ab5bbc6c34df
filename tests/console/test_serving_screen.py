"""The Serving screen driven by the Pilot, on a console that hosts its workspace: start the
server, replay a week and see req/s rise, send a test request, change the canary's percent and
see it served, see a shadow's agreement, stop a replay early, stop the server after confirming."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from console.screens.serving import ServingScreen
from console.widgets.dialogs import ConfirmDialog, FormDialog
from console.widgets.header import WorkspaceHeader
from console.widgets.work_panel import WorkPanel
from engine.cli import host_commands
from engine.facade import Engine
from tests.conftest import LOOSE_GATES, SAMPLE
from tests.console.conftest import RecordingApp, choose, form_opened, notified, plain_text, rows_of, until


@pytest.mark.slow
async def test_serve_replay_test_request_and_canary(registry_workspace: Path) -> None:
    workspace = registry_workspace
    (workspace / ".mlops" / "config.toml").write_text(
        "[console]\nrefresh_seconds = 0.2\n[serving]\nport = 0\nworkers = 1\n" + LOOSE_GATES
    )
    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
        engine.registry.promote("churn", 2, "champion")
        engine.deployments.deploy("churn-api", "churn@champion", canary="churn@v1", percent=30)
    app = RecordingApp(Engine.claim(workspace, command="mlops console"), serve=host_commands)
    try:
        async with app.run_test(size=(180, 50)) as pilot:
            await until(pilot, lambda: app.engine is not None)
            await pilot.press("7")
            assert isinstance(app.screen, ServingScreen)
            await until(pilot, lambda: rows_of(app, "#deployments") != [], what="the deployment")
            assert rows_of(app, "#deployments")[0] == [
                "churn-api",
                "canary",
                "primary: churn@champion, canary: churn@v1",
                "30% canary",
            ]
            state = app.screen.query_one("#server-state", Static)
            assert "stopped" in plain_text(state)

            await pilot.press("s")
            await until(pilot, lambda: "http://127.0.0.1:" in plain_text(state), what="the server")

            app.screen.query_one("#deployments", DataTable).focus()
            await pilot.press("R")
            form = await form_opened(pilot, app)
            assert isinstance(form, FormDialog)
            await choose(pilot, form, "dataset", "week1@v1")
            app.screen.query_one("#field-rate", Input).value = "100"
            app.screen.query_one("#field-duration", Input).value = "3"
            await pilot.click("#submit")

            def busy(variant: str) -> bool:
                rows = {row[1]: row for row in rows_of(app, "#traffic")}
                return variant in rows and float(rows[variant][2]) > 0

            await until(pilot, lambda: busy("primary") and busy("canary"), what="req/s under the replay")
            header = app.screen.query_one(WorkspaceHeader)
            assert "champion churn v2" in header.text
            await until(
                pilot, lambda: " req/s" in header.text and " 0.0 req/s" not in header.text, what="header"
            )
            assert "serving 127.0.0.1:" in header.text
            await until(
                pilot,
                lambda: any(
                    line.startswith("sent 300 rows of week1@v1")
                    for line in app.screen.query_one(WorkPanel).lines
                ),
                what="the replay's end",
            )
            assert rows_of(app, "#requests DataTable")[0][1] == "churn-api"

            await pilot.press("t")  # the newest request's features, sent again
            assert isinstance(app.screen, FormDialog)
            await pilot.press("enter")
            await until(
                pilot,
                lambda: any(
                    "churn-api answered 200" in line for line in app.screen.query_one(WorkPanel).lines
                ),
                what="the test request's answer",
            )

            await pilot.press("c")
            assert isinstance(app.screen, FormDialog)
            app.screen.query_one("#field-percent", Input).value = "75"
            await pilot.press("enter")
            await until(
                pilot, lambda: rows_of(app, "#deployments")[0][3] == "75% canary", what="the new split"
            )
            assert app.engine is not None
            assert app.engine.deployments.get("churn-api").settings["percent"] == 75

            # A shadow: its agreement with the primary shows live; a long replay stopped early.
            await pilot.press("X")
            assert notified(app, "No replay is running from this console")
            await pilot.press("n")  # a new deployment, from the form: the canary becomes a shadow
            form = await form_opened(pilot, app)
            endpoint = form.query_one("#field-endpoint", Input)
            endpoint.focus()
            await pilot.press("c")
            await until(pilot, lambda: endpoint._suggestion == "churn-api", what="the endpoint completed")
            await pilot.press("right")
            assert endpoint.value == "churn-api"
            await choose(pilot, form, "model", "churn@champion")
            await choose(pilot, form, "strategy", "shadow")
            await pilot.click("#submit")
            assert "shadow needs a second model" in plain_text(form.query_one("#dialog-error", Static))
            await choose(pilot, form, "second", "churn@v1")
            await pilot.click("#submit")
            await until(pilot, lambda: rows_of(app, "#deployments")[0][1] == "shadow", what="the shadow")
            assert notified(app, "churn-api deployed (shadow; primary: churn@champion, shadow: churn@v1)")
            await pilot.press("R")
            form = await form_opened(pilot, app)
            await choose(pilot, form, "dataset", "week1@v1")
            app.screen.query_one("#field-rate", Input).value = "50"
            app.screen.query_one("#field-duration", Input).value = "600"
            await pilot.click("#submit")
            await until(
                pilot,
                lambda: (
                    re.fullmatch(
                        r"shadow agrees \d+\.\d% of [1-9][\d,]* in 1 h, \|score diff\| \d\.\d{3}",
                        rows_of(app, "#deployments")[0][3],
                    )
                    is not None
                ),
                what="the shadow's agreement",
            )
            await pilot.press("X")
            stopped = re.compile(r"stopped after sending ([\d,]+) rows of week1@v1 to churn-api")
            await until(
                pilot,
                lambda: any(stopped.match(line) for line in app.screen.query_one(WorkPanel).lines),
                what="the replay stopped",
            )
            (sent,) = [m[1] for line in app.screen.query_one(WorkPanel).lines if (m := stopped.match(line))]
            assert 0 < int(sent.replace(",", "")) < 1000  # of week 1's 5,000 rows: stopped, not run out

            await pilot.press("x")
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.click("#confirm")
            await until(pilot, lambda: "stopped" in plain_text(state), what="the stop")
            await until(pilot, lambda: notified(app, "The inference server stopped"), what="the notice")
    finally:
        app.close_engine()
