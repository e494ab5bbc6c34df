"""The Evaluation screen driven by the Pilot: evaluate a run from the form and read its report."""

from __future__ import annotations

from textual.widgets import Input, Static

from console.app import MlopsApp
from console.screens.evaluation import EvaluationScreen
from console.widgets.dialogs import FormDialog
from engine.types.training import TrainRequest
from tests.conftest import REPO_ROOT
from tests.console.conftest import form_opened, notified, plain_text, rows_of, until

SAMPLE = REPO_ROOT / "sample_data"


async def test_evaluate_a_run_and_read_its_report(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        engine = console_app.engine
        assert engine is not None
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        run = engine.training.train(
            TrainRequest("churn", "churned", params={"n_estimators": "20"}, run_name="first")
        )
        await pilot.press("5")
        screen = console_app.screen
        assert isinstance(screen, EvaluationScreen)
        await until(
            pilot, lambda: "No evaluation yet" in plain_text(screen.query_one("#report-title", Static))
        )

        await pilot.press("e")
        form = await form_opened(pilot, console_app)
        assert isinstance(form, FormDialog)
        subject = form.query_one("#field-subject", Input)
        assert subject.value == "first"  # the newest run offered first, no model registered yet
        subject.value = ""
        subject.focus()
        await pilot.press("f")
        await until(pilot, lambda: subject._suggestion == "first", what="the run's name completed")
        await pilot.press("right")
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: len(rows_of(console_app, "#evaluations DataTable")) == 1,
            timeout=60,
            what="the evaluation",
        )
        row = rows_of(console_app, "#evaluations DataTable")[0]
        assert row[1:4] == ["run first", "churn@v1", "4,000"]
        assert float(row[4]) == round(run.metrics["f1"], 4)
        await until(pilot, lambda: "held-out rows" in plain_text(screen.query_one("#report-title", Static)))
        metrics = plain_text(screen.query_one("#report-metrics", Static))
        assert "brier" in metrics and "cost at 0.5" in metrics
        curves = plain_text(screen.query_one("#report-curves", Static))
        assert "ROC (AUC" in curves and any("\u2801" <= ch <= "\u28ff" for ch in curves)
        fairness = plain_text(screen.query_one("#report-fairness", Static))
        assert "age_group" in fairness and "✗ demographic parity ratio" in fairness
        # The list can show the stored evaluation while the worker still logs it to MLflow.
        await until(pilot, lambda: notified(console_app, "Evaluated"))

        await pilot.press("e")
        form = await form_opened(pilot, console_app)
        assert isinstance(form, FormDialog)
        form.query_one("#field-subject", Input).value = "churn@champion"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: notified(console_app, "no model version behind 'churn@champion'"),
            what="the error notification",
        )
        assert len(rows_of(console_app, "#evaluations DataTable")) == 1
