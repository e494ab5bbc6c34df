"""A second console, attached to the process that owns the workspace (a real `mlops up`), driven
by the Pilot: every screen and action runs in the owner; what a CLI client changes shows up;
when the owner stops, this console takes the workspace over without losing its place."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.app import MlopsApp
from console.screens.datasets import DatasetsScreen
from console.widgets.dialogs import ConfirmDialog, FormDialog
from console.widgets.header import WorkspaceHeader
from console.widgets.work_panel import WorkPanel
from engine.cli import host_commands
from engine.facade import AttachedEngine, Attachment, Engine
from tests.conftest import ENV, LOOSE_GATES, REPO_ROOT, SAMPLE, run_mlops, start_owner
from tests.console.conftest import (
    RecordingApp,
    choose,
    form_opened,
    notifications,
    notified,
    plain_text,
    rows_of,
    until,
)

SIZE = (160, 45)


@pytest.fixture
def owner(registry_workspace: Path) -> Iterator[subprocess.Popen[str]]:
    """`mlops up` on the registry workspace, started in another folder than this process's."""
    (registry_workspace / ".mlops" / "config.toml").write_text(
        f"[console]\nrefresh_seconds = 0.1\n{LOOSE_GATES}"
    )
    process = start_owner(registry_workspace, cwd=registry_workspace)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


@pytest.fixture
def attached_app(registry_workspace: Path, owner: subprocess.Popen[str]) -> Iterator[RecordingApp]:
    opening = Engine.claim_or_attach(registry_workspace, command="mlops console")
    assert isinstance(opening, Attachment)
    app = RecordingApp(opening, serve=host_commands)  # as `mlops console` does: a console that owns, hosts
    yield app
    app.close_engine()


async def mlops(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI client in another terminal, run without blocking the app's event loop."""
    return await asyncio.to_thread(run_mlops, *args, "-w", str(workspace), env=ENV)


async def start_a_run(app: MlopsApp, pilot: Pilot[object]) -> None:
    """From the Experiments screen's form: a logistic regression on the churn data."""
    await pilot.press("4", "n")
    await form_opened(pilot, app)
    form = app.screen
    assert isinstance(form, FormDialog)
    await choose(pilot, form, "dataset", "churn")
    await choose(pilot, form, "target", "churned")
    await choose(pilot, form, "model", "logistic_regression")
    await pilot.click("#submit")


def failures(app: MlopsApp) -> list[str]:
    return [shown for shown in notifications(app) if "failed" in shown.split("\n")[0]]


async def test_a_second_console_shows_every_screen_and_what_a_cli_client_ingests(
    attached_app: RecordingApp, registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    app = attached_app
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine is not None)
        assert isinstance(app.engine, AttachedEngine) and app.engine.owner_pid == owner.pid
        await until(
            pilot, lambda: f"pid {owner.pid} (mlops up)" in app.screen.query_one(WorkspaceHeader).text
        )
        status = json.loads((await mlops(registry_workspace, "status", "--json")).stdout)
        assert {"pid": os.getpid(), "command": "mlops console"}.items() <= status["clients"][0].items()

        await pilot.press("2")
        assert isinstance(app.screen, DatasetsScreen)
        await until(pilot, lambda: [row[0] for row in rows_of(app, "#datasets DataTable")] == ["churn"])
        ingested = await mlops(
            registry_workspace, "data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "from_cli"
        )
        assert ingested.returncode == 0, ingested.stderr
        await until(
            pilot,
            lambda: "from_cli" in [row[0] for row in rows_of(app, "#datasets DataTable")],
            what="the CLI's dataset",
        )

        await pilot.press("4")
        await until(pilot, lambda: len(rows_of(app, "#runs DataTable")) == 2, what="the runs")
        await pilot.press("6")
        await until(
            pilot, lambda: [row[0] for row in rows_of(app, "#versions")] == ["v2", "v1"], what="versions"
        )
        for key in ("3", "5", "1"):
            await pilot.press(key)
            await until(pilot, lambda: "alerts " in app.screen.query_one(WorkspaceHeader).text)
        details = app.screen.query_one("#status-details", Static)
        await until(pilot, lambda: "datasets    2" in plain_text(details), what="two datasets on Home")
        assert failures(app) == []


@pytest.mark.slow
async def test_every_kind_of_action_runs_in_the_owner(
    attached_app: RecordingApp, registry_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forms, progress, confirmations: features applied from a path relative to this console's
    folder (the owner runs elsewhere), a run trained, a promotion behind its gates, an evaluation."""
    app = attached_app
    monkeypatch.chdir(REPO_ROOT)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("3", "a")
        app.screen.query_one("#field-path", Input).value = "sample_data/features.toml"
        await pilot.click("#submit")
        await until(pilot, lambda: len(rows_of(app, "#views DataTable")) == 4, what="the applied views")

        await start_a_run(app, pilot)
        await until(pilot, lambda: notified(app, "Run finished"), timeout=120, what="the run")
        await until(pilot, lambda: len(rows_of(app, "#runs DataTable")) == 3)

        await pilot.press("6")
        await until(pilot, lambda: [row[0] for row in rows_of(app, "#versions")] == ["v2", "v1"])
        await pilot.press("p", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=120, what="the gates")
        # Click once the button is laid out (a click on an empty region is lost), then wait for
        # the dialog to go before reading the screen under it.
        await until(pilot, lambda: any(button.region.area for button in app.screen.query("#confirm")))
        await pilot.click("#confirm")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="the dialog closed")
        await until(
            pilot, lambda: rows_of(app, "#versions")[0][1] == "@champion", timeout=120, what="champion"
        )

        await pilot.press("5", "e")
        form = await form_opened(pilot, app)  # after its choices are read, in the owner
        form.query_one("#field-subject", Input).value = "churn@champion"
        await pilot.click("#submit")
        await until(pilot, lambda: notified(app, "Evaluated\nchurn@champion (v2)"), timeout=120)
        await until(pilot, lambda: rows_of(app, "#evaluations DataTable")[0][1] == "churn@champion (v2)")
        assert failures(app) == []


async def test_when_the_owner_stops_the_console_finishes_its_work_and_takes_over(
    attached_app: RecordingApp, registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    app = attached_app
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await start_a_run(app, pilot)
        panel = app.screen.query_one("#training", WorkPanel)
        await until(pilot, lambda: len(panel.lines) >= 2, what="a progress report from the run in the owner")
        owner.send_signal(signal.SIGTERM)  # the owner lets the run finish (its grace period) and stops
        await until(pilot, lambda: notified(app, "Run finished"), timeout=120, what="the run finishing")
        await until(
            pilot, lambda: notified(app, f"owner (pid {owner.pid}) stopped"), what="the owner's leaving"
        )
        await until(pilot, lambda: notified(app, "this console now owns the workspace"), timeout=90)
        assert isinstance(app.engine, Engine)
        assert owner.wait(30) == 0
        await until(pilot, lambda: len(rows_of(app, "#runs DataTable")) == 3, what="the runs, read here now")
        status = json.loads((await mlops(registry_workspace, "status", "--json")).stdout)
        assert status["owner"]["pid"] == os.getpid()
        assert failures(app) == []


async def test_when_the_owner_is_killed_the_console_takes_over_its_stale_endpoint(
    attached_app: RecordingApp, registry_workspace: Path, owner: subprocess.Popen[str]
) -> None:
    app = attached_app
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("2")
        await until(pilot, lambda: [row[0] for row in rows_of(app, "#datasets DataTable")] == ["churn"])
        owner.kill()
        owner.wait()
        await until(pilot, lambda: notified(app, "this console now owns the workspace"), timeout=90)
        assert isinstance(app.engine, Engine) and isinstance(app.screen, DatasetsScreen)
        listed = await mlops(registry_workspace, "data", "list", "--json")
        assert listed.returncode == 0 and [
            item["name"] for item in json.loads(listed.stdout)["datasets"]
        ] == ["churn"]
        assert failures(app) == []
