"""One SVG snapshot per screen at a fixed terminal size (update with --snapshot-update).

Everything that varies between runs is pinned: the workspace path, the owner's pid and
start time, and the times in the activity log.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.app import MlopsApp
from engine.facade import Engine
from engine.lock import OwnerInfo
from engine.training.trainer import TrainRequest
from tests.console.conftest import tables_settled, until

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
) -> MlopsApp:
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
    with duckdb.connect(str(SNAPSHOT_WORKSPACE / ".mlops" / "workspace.duckdb")) as con:
        con.execute(
            "UPDATE dataset_versions"
            " SET created_at = TIMESTAMPTZ '2026-11-27 08:00:00+00' + version * INTERVAL 1 HOUR"
        )
        if events:
            con.executemany("INSERT INTO events (kind, subject, message) VALUES (?, ?, ?)", events)
        con.execute("UPDATE events SET subject = ? WHERE kind = 'workspace'", [str(SNAPSHOT_WORKSPACE)])
        con.execute(
            "UPDATE events SET occurred_at = TIMESTAMPTZ '2026-11-27 09:00:00+00' + id * INTERVAL 1 MINUTE"
        )
    claim = Engine.claim(SNAPSHOT_WORKSPACE, command="mlops console")
    claim.lock.owner = PINNED_OWNER
    return MlopsApp(claim)


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
