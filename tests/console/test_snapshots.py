"""One SVG snapshot per screen at a fixed terminal size (update with --snapshot-update).

Everything that varies between runs is pinned: the workspace path, the owner's pid and
start time, and the times in the activity log.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.app import MlopsApp
from engine.facade import Engine
from engine.lock import OwnerInfo
from engine.training.trainer import TrainRequest
from tests.console.conftest import plain_text, tables_settled, until

SIZE = (120, 36)
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SNAPSHOT_WORKSPACE = Path("/tmp/mlops-console-snapshot/ws")
PINNED_OWNER = OwnerInfo(
    pid=4242, command="mlops console", started_at="2026-11-27T09:00:00+00:00", host="demo"
)


def pinned_app(
    template: Path,
    events: list[tuple[str, str, str]],
    datasets: tuple[str, ...] = (),
    features: bool = False,
    runs: bool = False,
    pipeline: Path | None = None,
    registry: bool = False,
    evaluate: bool = False,
) -> MlopsApp:
    forget_mlflow_stores()
    shutil.rmtree(SNAPSHOT_WORKSPACE, ignore_errors=True)
    shutil.copytree(template, SNAPSHOT_WORKSPACE)
    if datasets:
        with Engine.open(SNAPSHOT_WORKSPACE) as engine:
            for file_name in datasets:
                local_copy = shutil.copy(SAMPLE / file_name, SNAPSHOT_WORKSPACE / file_name)
                engine.datasets.ingest(local_copy, "churn")
            if features:
                engine.features.apply(SAMPLE / "features.toml")
            if runs:
                for name, model in (("linear", "logistic_regression"), ("boosted", "hist_gradient_boosting")):
                    engine.training.train(TrainRequest("churn", "churned", model, run_name=name))
            if registry:
                for run in engine.runs.search(order_by="attributes.run_name ASC"):
                    engine.registry.register(run.attributes["run_id"], "churn")
                for version, reason in ((1, "first model"), (2, "boosted trees")):
                    engine.registry.promote("churn", version, "challenger", force=True, reason=reason)
            if evaluate:
                engine.evaluation.evaluate("boosted", log=False)
            if pipeline:
                engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
                for _ in range(2):  # the second run is served from cache
                    engine.pipelines.run(pipeline)
    with duckdb.connect(str(SNAPSHOT_WORKSPACE / ".mlops" / "workspace.duckdb")) as con:
        con.execute(
            "UPDATE dataset_versions"
            " SET created_at = TIMESTAMPTZ '2026-11-27 08:00:00+00' + version * INTERVAL 1 HOUR"
        )
        if events:
            con.executemany("INSERT INTO events (kind, subject, message) VALUES (?, ?, ?)", events)
        con.execute("UPDATE events SET subject = ? WHERE kind = 'workspace'", [str(SNAPSHOT_WORKSPACE)])
        con.execute(
            "UPDATE pipeline_runs"
            " SET started_at = TIMESTAMPTZ '2026-11-27 10:00:00+00' + id * INTERVAL 1 MINUTE,"
            " finished_at = TIMESTAMPTZ '2026-11-27 10:00:09+00' + id * INTERVAL 1 MINUTE"
        )
        con.execute("UPDATE pipeline_steps SET duration_seconds = 1.5 * (position + 1) / pipeline_run")
        con.execute("UPDATE evaluations SET created_at = TIMESTAMPTZ '2026-11-27 12:00:00+00'")
        con.execute(
            "UPDATE alias_moves SET user_name = 'demo',"
            " moved_at = TIMESTAMPTZ '2026-11-27 11:00:00+00' + id * INTERVAL 1 MINUTE"
        )
        con.execute(
            "UPDATE events SET occurred_at = TIMESTAMPTZ '2026-11-27 09:00:00+00' + id * INTERVAL 1 MINUTE"
        )
    claim = Engine.claim(SNAPSHOT_WORKSPACE, command="mlops console")
    claim.lock.owner = PINNED_OWNER
    return MlopsApp(claim)


def forget_mlflow_stores() -> None:
    """MLflow caches one store (and its open SQLite connections) per URI for the process; the
    pinned workspace is deleted and copied afresh for each snapshot, so those would point at the
    deleted file ("attempt to write a readonly database")."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
    from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

    TrackingStoreRegistry._get_store_with_resolved_uri.cache_clear()
    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()
    for store in (SqlAlchemyStore, RegistryStore):
        for engine in store._engine_map.values():
            engine.dispose()
        store._engine_map.clear()


async def shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(
        pilot,
        lambda: "owner" in str(app.screen.query_one("#status-details", Static).render()),
        what="the home screen's data",
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_home_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(
        workspace_template,
        [
            ("data", "churn@v1", "ingested 20,000 rows from sample_data/churn_reference.csv"),
            ("model", "churn", "registered version 1 from run 3f2a"),
        ],
    )
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=shown)
    finally:
        app.close_engine()


async def datasets_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("2")
    await until(
        pilot, lambda: len(app.screen.query_one("#profile", DataTable).rows) == 12, what="the profile"
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_datasets_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv", "churn_week_3.csv"))
    try:
        assert snap_compare(app, terminal_size=(140, 40), run_before=datasets_shown)
    finally:
        app.close_engine()


async def features_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("3")
    await until(
        pilot, lambda: len(app.screen.query_one("#view-features", DataTable).rows) > 0, what="the views"
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_features_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), features=True)
    try:
        assert snap_compare(app, terminal_size=(140, 40), run_before=features_shown)
    finally:
        app.close_engine()


async def experiments_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("4")
    await until(
        pilot, lambda: len(app.screen.query_one("#runs DataTable", DataTable).rows) == 2, what="the runs"
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_experiments_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), runs=True)
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=experiments_shown)
    finally:
        app.close_engine()


async def pipelines_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("4", "p")
    await until(
        pilot,
        lambda: len(app.screen.query_one("#pipeline-steps", DataTable).rows) >= 6,
        what="the pipeline run's steps",
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_experiments_pipelines_view(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path
) -> None:
    pipeline = tmp_path / "churn_pipeline.toml"
    pipeline.write_text(
        (SAMPLE / "churn_pipeline.toml").read_text().replace("n_estimators = 200", "n_estimators = 20")
    )
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), pipeline=pipeline)
    try:
        assert snap_compare(app, terminal_size=(150, 45), run_before=pipelines_shown)
    finally:
        app.close_engine()


async def compare_shown(pilot: Pilot[Any]) -> None:
    await experiments_shown(pilot)
    await pilot.press("space", "down", "space", "c")
    app = pilot.app
    await until(pilot, lambda: app.screen.query("#compare-metrics"), what="the compare view")
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_experiments_compare_view(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), runs=True)
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=compare_shown)
    finally:
        app.close_engine()


def form_shown(key: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: app.engine is not None)
        await pilot.press("4", key)
        await until(pilot, lambda: app.screen.query("#submit"), what="the form")
        await pilot.pause()

    return run_before


def test_experiments_new_run_form(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [])
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=form_shown("n"))
    finally:
        app.close_engine()


def test_experiments_sweep_launcher(
    snap_compare: Callable[..., bool], workspace_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the default worker count shown
    app = pinned_app(workspace_template, [])
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=form_shown("w"))
    finally:
        app.close_engine()


async def models_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("6")
    await until(
        pilot, lambda: len(app.screen.query_one("#history", DataTable).rows) == 2, what="the alias history"
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()


def test_models_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), runs=True, registry=True)
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=models_shown)
    finally:
        app.close_engine()


async def evaluation_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("5")
    await until(
        pilot,
        lambda: len(app.screen.query_one("#evaluations DataTable", DataTable).rows) == 1,
        what="the evaluation",
    )
    await until(
        pilot,
        lambda: "held-out rows" in plain_text(app.screen.query_one("#report-title", Static)),
        what="the report",
    )
    await until(pilot, lambda: tables_settled(app), what="the tables' layout")
    await pilot.pause()
    await pilot.pause()


def test_evaluation_screen(snap_compare: Callable[..., bool], workspace_template: Path) -> None:
    app = pinned_app(workspace_template, [], datasets=("churn_reference.csv",), runs=True, evaluate=True)
    try:
        # Tall enough for the whole report: no scrollbar whose timing could differ between runs.
        assert snap_compare(app, terminal_size=(150, 80), run_before=evaluation_shown)
    finally:
        app.close_engine()
