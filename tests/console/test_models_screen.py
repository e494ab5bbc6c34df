"""The Models screen driven by the Pilot: promote behind gates (verdicts shown first), force with
a reason, see aliases and history move, roll back after confirming."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from console.app import MlopsApp
from console.screens.models import ModelsScreen
from console.widgets.dialogs import ConfirmDialog, FormDialog
from engine.facade import Engine
from tests.conftest import LOOSE_GATES
from tests.console.conftest import RecordingApp, notifications, notified, plain_text, rows_of, until


@pytest.fixture
def registry_app(registry_workspace: Path) -> Iterator[MlopsApp]:
    (registry_workspace / ".mlops" / "config.toml").write_text(
        f"[console]\nrefresh_seconds = 0.1\n{LOOSE_GATES}"
    )
    app = RecordingApp(Engine.claim(registry_workspace, command="mlops console"))
    yield app
    app.close_engine()


@pytest.mark.slow
async def test_promote_force_and_roll_back(registry_app: MlopsApp) -> None:
    app = registry_app
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("6")
        assert isinstance(app.screen, ModelsScreen)
        await until(pilot, lambda: [row[0] for row in rows_of(app, "#versions")] == ["v2", "v1"])

        await pilot.press("p")  # v2, the cursor's row
        assert isinstance(app.screen, FormDialog)
        await pilot.press("enter")  # alias: champion
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=60, what="the gates")
        body = plain_text(app.screen.query_one("#confirm-body", Static))
        assert "✓ training data passed validation" in body and "Every gate passed." in body
        assert not app.screen.query("#field-reason")
        await pilot.click("#confirm")
        await until(
            pilot,
            lambda: rows_of(app, "#versions")[0][1] == "@champion",
            timeout=60,
            what="@champion on v2",
        )
        await until(pilot, lambda: len(rows_of(app, "#history")) == 1)
        assert rows_of(app, "#versions")[0][6] != ""  # the ONNX sha256, exported on promotion
        await pilot.press("k")
        await until(pilot, lambda: notified(app, "KServe manifest written"))
        manifest = next(n for n in notifications(app) if n.startswith("KServe manifest written")).split("\n")[
            1
        ]
        assert manifest.endswith("models/churn/v2/inferenceservice.yaml")
        assert "kind: InferenceService" in Path(manifest).read_text()

        app.screen.query_one("#versions", DataTable).move_cursor(row=1)
        await pilot.press("p", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=60, what="the gates")
        body = plain_text(app.screen.query_one("#confirm-body", Static))
        assert "✗ beats churn@champion on f1" in body and "does not beat churn v2's" in body
        await pilot.click("#confirm")
        assert "is required" in plain_text(app.screen.query_one("#dialog-error", Static))
        app.screen.query_one("#field-reason", Input).value = "canary comparison"
        await pilot.click("#confirm")
        await until(pilot, lambda: rows_of(app, "#versions")[1][1] == "@champion", timeout=60)
        await until(pilot, lambda: len(rows_of(app, "#history")) == 2)
        latest = rows_of(app, "#history")[0]
        assert latest[2:7] == ["v2", "v1", "forced promote", getpass.getuser(), "canary comparison"]

        await pilot.press("b")
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#field-alias", Select).value == "champion"  # of the model's aliases
        await pilot.click("#submit")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm")
        await until(pilot, lambda: rows_of(app, "#versions")[0][1] == "@champion", timeout=30)
        await until(pilot, lambda: rows_of(app, "#history")[0][4] == "rollback")
        assert app.engine is not None
        assert app.engine.registry.resolve("churn@champion").version == 2
