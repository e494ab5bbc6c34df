"""The Experiments screen driven by the Pilot: train from the form, filter, sort, compare."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from console.app import MlopsApp
from console.screens.experiments import ExperimentsScreen, forms
from console.screens.experiments.compare import CompareScreen
from console.widgets.dialogs import FormDialog
from console.widgets.pipeline_dag import PipelineDag
from console.widgets.work_panel import WorkPanel
from engine.types.training import TrainRequest
from tests.conftest import REPO_ROOT
from tests.console.conftest import choose, form_opened, notifications, notified, plain_text, rows_of, until

SIZE = (150, 40)
SAMPLE = REPO_ROOT / "sample_data"
RUNS = "#runs DataTable"


async def test_a_run_started_from_the_form_appears_with_its_metrics(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await pilot.press("4")
        assert isinstance(console_app.screen, ExperimentsScreen)
        await pilot.press("n")
        await form_opened(pilot, console_app)
        form = console_app.screen
        await choose(pilot, form, "dataset", "churn")
        await choose(pilot, form, "target", "churned")
        await choose(pilot, form, "model", "logistic_regression")
        features = form.query_one("#field-features", Input)  # completes the dataset's columns
        features.focus()
        for typed, completed in (("ten", "tenure_days"), (", tot", "tenure_days, total_orders")):
            await pilot.press(*typed)
            await until(
                pilot, lambda done=completed: features._suggestion == done, what=f"{completed!r} offered"
            )
            await pilot.press("right")
        params = form.query_one("#field-params", Input)  # completes the model's own, with its default
        params.focus()
        await pilot.press("C")
        await until(pilot, lambda: params._suggestion == "C=1.0", what="C with its default")
        params.value = "C=0.5"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: [row[4] for row in rows_of(console_app, RUNS)] == ["finished"],
            timeout=60,
            what="the new run, finished",
        )
        row = rows_of(console_app, RUNS)[0]
        assert row[2:5] == ["logistic_regression", "churn@v1", "finished"]
        assert float(row[5]) > 0  # f1
        await until(pilot, lambda: notified(console_app, "Run finished"))
        run = console_app.engine.runs.search()[0]
        assert run.params["C"] == "0.5" and run.features == ["tenure_days", "total_orders"]


async def test_filter_sort_and_compare(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        engine = console_app.engine
        assert engine is not None
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        for model, params in (("logistic_regression", {}), ("random_forest", {"n_estimators": "20"})):
            engine.training.train(TrainRequest("churn", "churned", model, params=params))
        await pilot.press("4")
        await until(pilot, lambda: len(rows_of(console_app, RUNS)) == 2)
        f1 = [float(row[5]) for row in rows_of(console_app, RUNS)]
        assert f1 == sorted(f1, reverse=True)

        await pilot.press("slash", *"tags.mlops.model")
        assert "ends too early" in str(console_app.screen.query_one("#filter-error", Static).render())
        await pilot.press(*" = 'random_forest' or metrics.f1 > 0.99")
        await until(
            pilot,
            lambda: [row[2] for row in rows_of(console_app, RUNS)] == ["random_forest"],
            what=f"filtering ({console_app.screen.query_one('#runs Input', Input).value!r})",
        )
        await pilot.press("escape")
        await until(pilot, lambda: len(rows_of(console_app, RUNS)) == 2)
        # The cursor stayed on the run it was on while the filter hid the other one.
        table = console_app.screen.query_one(RUNS, DataTable)
        assert rows_of(console_app, RUNS)[table.cursor_row][2] == "random_forest"

        await pilot.press("space", "up", "space", "c")
        await until(pilot, lambda: isinstance(console_app.screen, CompareScreen), what="the compare view")
        params = rows_of(console_app, "#compare-params")
        assert any(row[0] == "≠ n_estimators" for row in params)
        metrics = {row[0]: row for row in rows_of(console_app, "#compare-metrics")}
        assert sum(cell.startswith("★") for cell in metrics["f1"][1:]) == 1
        await pilot.press("escape")
        assert isinstance(console_app.screen, ExperimentsScreen)


@pytest.mark.slow
async def test_a_sweep_launched_from_the_form_shows_its_trials(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await pilot.press("4", "w")
        await form_opened(pilot, console_app)
        form = console_app.screen
        assert isinstance(form, FormDialog)
        await choose(pilot, form, "dataset", "churn")
        await choose(pilot, form, "target", "churned")
        form.query_one("#field-grid", Input).value = "n_estimators=10; max_depth=4,8"
        form.query_one("#field-workers", Input).value = "2"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: notified(console_app, "Sweep finished"),
            timeout=120,
            what="the sweep to finish",
        )
        await until(pilot, lambda: len(rows_of(console_app, RUNS)) == 3, what="the parent and two trials")
        log = "\n".join(console_app.screen.query_one("#training", WorkPanel).lines)
        assert "trial 1/2" in log and "trial 2/2" in log


async def test_a_bad_sweep_form_is_refused_with_a_notification(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        await pilot.press("4", "w")  # nothing to train on yet: no form
        await until(pilot, lambda: notified(console_app, "No dataset to train on yet"))
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await pilot.press("w")
        await form_opened(pilot, console_app)
        form = console_app.screen
        await choose(pilot, form, "dataset", "churn")
        await choose(pilot, form, "target", "churned")
        form.query_one("#field-grid", Input).value = "depth=1,2"
        await pilot.click("#submit")
        await until(pilot, lambda: notified(console_app, "has no parameter 'depth'"))


def fast_pipeline(folder: Path, require: str) -> Path:
    """The sample pipeline with a small forest, and the gate's requirement replaced (the
    promotion gates, which refuse the sample's disparity, left to promotion)."""
    text = (SAMPLE / "churn_pipeline.toml").read_text()
    text = text.replace("n_estimators = 200", "n_estimators = 20").replace('"f1 >= 0.7"', require)
    text = text.replace("[steps.gate]\n", "[steps.gate]\npromotion_gates = false\n")
    path = folder / "pipeline.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
async def test_a_pipeline_run_from_the_console_shows_its_dag(console_app: MlopsApp, tmp_path: Path) -> None:
    async with console_app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        engine = console_app.engine
        assert engine is not None
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        await pilot.press("4", "p")
        screen = console_app.screen
        assert isinstance(screen, ExperimentsScreen) and screen.showing_pipelines
        dag = screen.query_one("#pipeline-dag", PipelineDag)
        await until(pilot, lambda: "No pipeline runs yet" in plain_text(dag), what="the empty DAG")

        await pilot.press("x")
        form = console_app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-path", Input).value = str(fast_pipeline(tmp_path, '"f1 >= 0.99"'))
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: [row[2] for row in rows_of(console_app, "#pipeline-runs DataTable")] == ["failed"],
            timeout=90,
            what="the pipeline run, stopped by its gate",
        )
        await until(pilot, lambda: notified(console_app, "Pipeline failed"))
        steps = rows_of(console_app, "#pipeline-steps")
        assert [row[2] for row in steps if row[0]] == [
            "✓ succeeded",
            "✓ succeeded",
            "✓ succeeded",
            "✓ succeeded",
            "✗ failed",
            "⊘ skipped",
        ]
        verdicts = [row[4] for row in steps if row[2].strip() == "✗ fail"]
        assert len(verdicts) == 1 and verdicts[0].startswith("f1 >= 0.99: 0.")
        failure = next(n for n in notifications(console_app) if n.startswith("Pipeline failed"))
        assert "gate refused" in failure

        await pilot.press("x")
        form = console_app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-path", Input).value = str(fast_pipeline(tmp_path, '"f1 >= 0.7"'))
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: (
                [row[2] for row in rows_of(console_app, "#pipeline-runs DataTable")]
                == ["succeeded", "failed"]
            ),
            timeout=90,
            what="the second run, succeeded",
        )
        steps = rows_of(console_app, "#pipeline-steps")
        assert [row[2] for row in steps if row[0]][:4] == ["↺ cached"] * 4
        await until(pilot, lambda: "cache hit" in plain_text(dag))
        assert "✓ f1 >= 0.7" in plain_text(dag) and "register" in plain_text(dag)

        await pilot.press("down")  # the failed run: its DAG comes back
        await until(pilot, lambda: "✗ f1 >= 0.99" in plain_text(dag), what="the first run's DAG")
        await pilot.press("p")
        assert not screen.showing_pipelines


async def test_a_form_the_engine_cannot_read_stays_open_and_says_why(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await pilot.press("4", "n")
        await form_opened(pilot, console_app)
        form = console_app.screen
        assert isinstance(form, FormDialog)
        await choose(pilot, form, "dataset", "churn")
        await choose(pilot, form, "target", "churned")
        form.query_one("#field-params", Input).value = "n_estimators=20,max_depth"
        await pilot.click("#submit")
        assert console_app.screen is form  # still open, answers kept
        problem = plain_text(form.query_one("#dialog-error", Static))
        assert "parameters 'max_depth': expected NAME=VALUE" in problem
        form.query_one("#field-params", Input).value = "n_estimators=20"
        positive = form.query_one("#field-positive_class", Input)
        positive.value = "maybe"
        positive.focus()  # Enter in a field submits; a click while the error line reflows can miss
        await pilot.press("enter")
        await until(pilot, lambda: notified(console_app, "maybe"), what="the engine's error")
        assert isinstance(console_app.screen, ExperimentsScreen)


def test_the_run_forms_read_a_positive_class_as_the_cli_does() -> None:
    values = {"dataset": "accounts", "target": "status", "model": "random_forest", "features": ""}
    request = forms.train_request({**values, "params": "", "positive_class": " churned "})
    assert request.positive_class == "churned"
    assert forms.train_request({**values, "params": "", "positive_class": ""}).positive_class is None
    sweep = forms.sweep_request({**values, "grid": "", "trials": "2", "workers": "1", "positive_class": "x"})
    assert sweep.base.positive_class == "x"
