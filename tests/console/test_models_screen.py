"""The Models screen driven by the Pilot: promote behind gates (verdicts shown first), force with
a reason, see aliases and history move, roll back after confirming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from console.app import MlopsApp
from console.screens.models import ModelsScreen
from console.widgets.dialogs import ConfirmDialog, FormDialog
from engine.facade import Engine
from engine.training.trainer import TrainRequest
from tests.conftest import REPO_ROOT
from tests.console.conftest import plain_text, rows_of, until

SAMPLE = REPO_ROOT / "sample_data"
# Loose fairness and f1 bounds: the sample's planted disparity would refuse every promotion.
CONFIG = (
    "[console]\nrefresh_seconds = 0.1\n[gates]\nmin_f1 = 0.5\n"
    "[fairness]\nmin_ratio = 0.5\nmax_difference = 0.5\n"
)


@pytest.fixture
def registry_app(workspace: Path) -> Iterator[MlopsApp]:
    (workspace / ".mlops" / "config.toml").write_text(CONFIG)
    with Engine.open(workspace, command="pytest setup") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        engine.quality.validate("churn", "churn_suite")
        for trees, depth in (("10", "3"), ("30", "10")):
            run = engine.training.train(
                TrainRequest("churn", "churned", params={"n_estimators": trees, "max_depth": depth})
            )
            engine.registry.register(run.run_id, "churn")
    app = MlopsApp(Engine.claim(workspace, command="mlops console"))
    app.NOTIFICATION_TIMEOUT = 600  # type: ignore[misc]
    yield app
    app.close_engine()


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
        await until(pilot, lambda: any(n.title == "KServe manifest written" for n in app._notifications))
        manifest = next(n.message for n in app._notifications if n.title == "KServe manifest written")
        assert manifest.endswith("models/churn/v2/inferenceservice.yaml")
        assert "kind: InferenceService" in Path(manifest).read_text()

        app.screen.query_one("#versions", DataTable).move_cursor(row=1)
        await pilot.press("p", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=60, what="the gates")
        body = plain_text(app.screen.query_one("#confirm-body", Static))
        assert "✗ beats churn@champion" in body and "does not beat v2's" in body
        await pilot.click("#confirm")
        assert "is required" in plain_text(app.screen.query_one("#dialog-error", Static))
        app.screen.query_one("#field-reason", Input).value = "canary comparison"
        await pilot.click("#confirm")
        await until(pilot, lambda: rows_of(app, "#versions")[1][1] == "@champion", timeout=60)
        await until(pilot, lambda: len(rows_of(app, "#history")) == 2)
        latest = rows_of(app, "#history")[0]
        assert latest[2:7] == ["v2", "v1", "forced promote", latest[5], "canary comparison"]

        await pilot.press("b")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm")
        await until(pilot, lambda: rows_of(app, "#versions")[0][1] == "@champion", timeout=30)
        await until(pilot, lambda: rows_of(app, "#history")[0][4] == "rollback")
        assert app.engine is not None
        assert app.engine.registry.lookup.alias("churn", "champion").version == 2  # type: ignore[union-attr]
