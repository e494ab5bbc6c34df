"""One SVG snapshot per screen at a fixed terminal size (update with --snapshot-update).

Everything that varies between runs is pinned: the workspace path (each test builds its
workspace in a folder of its own, so test runs never share one, and the path shown is
pinned), the owner's pid and start time, and the times in the activity log.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.app import MlopsApp
from engine.facade import Engine
from engine.types.training import TrainRequest
from engine.types.workspace import OwnerInfo
from tests.conftest import copy_workspace
from tests.console.conftest import plain_text, until

SIZE = (120, 36)
NARROW = (80, 24)  # the smallest terminal the console is made for: panes stack (console/app.tcss)
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
PINNED_ROOT = "/tmp/mlops-console-snapshot/ws"  # the path the snapshots show; the workspace is elsewhere
PINNED_OWNER = OwnerInfo(
    pid=4242, command="mlops console", started_at="2026-11-27T09:00:00+00:00", host="demo"
)


@pytest.fixture(autouse=True)
def pinned_status_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header and the Home screen show the pinned path, wherever the workspace really is."""
    status = Engine.status
    pinned = {"path": f"{PINNED_ROOT}/.mlops", "tracking_uri": f"sqlite:///{PINNED_ROOT}/.mlops/mlflow.db"}
    monkeypatch.setattr(Engine, "status", lambda engine: replace(status(engine), **pinned))


@pytest.fixture(scope="module")
def runs_template(workspace_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample reference data as churn@v1 and two runs on it, "linear" and "boosted"; the
    screens that show runs start from a copy, so each trains nothing."""
    root = copy_workspace(workspace_template, tmp_path_factory.mktemp("snapshot-runs") / "ws")
    with Engine.open(root) as engine:
        engine.datasets.ingest(shutil.copy(SAMPLE / "churn_reference.csv", root), "churn")
        for name, model in (("linear", "logistic_regression"), ("boosted", "hist_gradient_boosting")):
            engine.training.train(TrainRequest("churn", "churned", model, run_name=name))
    return root


def pinned_app(
    template: Path,
    root: Path,
    events: list[tuple[str, str, str]],
    datasets: tuple[str, ...] = (),
    features: bool = False,
    pipeline: Path | None = None,
    registry: bool = False,
    evaluate: bool = False,
    records: list[str] | None = None,
    deploy: bool = False,
) -> MlopsApp:
    copy_workspace(template, root)
    with Engine.open(root) as engine:
        for file_name in datasets:
            engine.datasets.ingest(shutil.copy(SAMPLE / file_name, root / file_name), "churn")
        if features:
            engine.features.apply(SAMPLE / "features.toml")
        if registry:
            for run in engine.runs.search(order_by="attributes.run_name ASC"):
                engine.registry.register(run.run_id, "churn")
            for version, reason in ((1, "first model"), (2, "boosted trees")):
                engine.registry.promote("churn", version, "challenger", force=True, reason=reason)
        if evaluate:
            engine.evaluation.evaluate("boosted", log=False)
        if deploy:
            engine.deployments.deploy("churn-api", "churn@v1", canary="churn@v2", percent=10)
        if pipeline:
            engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
            for _ in range(2):  # the second run is served from cache
                engine.pipelines.run(pipeline)
    with duckdb.connect(str(root / ".mlops" / "workspace.duckdb")) as con:
        con.execute(
            "UPDATE dataset_versions"
            " SET created_at = TIMESTAMPTZ '2026-11-27 08:00:00+00' + version * INTERVAL 1 HOUR"
        )
        if events:
            con.executemany("INSERT INTO events (kind, subject, message) VALUES (?, ?, ?)", events)
        for statement in records or []:  # rows with their times pinned
            con.execute(statement)
        con.execute("UPDATE events SET subject = ? WHERE kind = 'workspace'", [PINNED_ROOT])
        for real in (template, root):
            con.execute(
                "UPDATE dataset_versions SET source_path = replace(source_path, ?, ?)",
                [str(real), PINNED_ROOT],
            )
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
    claim = Engine.claim(root, command="mlops console")
    claim.lock.owner = PINNED_OWNER
    app = MlopsApp(claim)
    app.workspace_label = f"{PINNED_ROOT}/.mlops"
    return app


async def settled(pilot: Pilot[Any], timeout: float = 60) -> None:
    """Wait until the screen stops changing: two pictures in a row, each taken once every
    pending message and idle-time layout (DataTable column widths, scrollbars) has run, are
    the same. The snapshot then never depends on how busy the machine was."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        picture = pilot.app.export_screenshot()
        if picture == previous:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the screen kept changing")
        previous = picture


async def shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(
        pilot,
        lambda: "owner" in plain_text(app.screen.query_one("#status-details", Static)),
        what="the home screen's data",
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [SIZE, NARROW], ids=["120x36", "80x24"])
def test_home_screen(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(
        workspace_template,
        tmp_path / "ws",
        [
            ("data", "churn@v1", "ingested 20,000 rows from sample_data/churn_reference.csv"),
            ("model", "churn", "registered version 1 from run 3f2a"),
        ],
    )
    try:
        assert snap_compare(app, terminal_size=size, run_before=shown)
    finally:
        app.close_engine()


async def datasets_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("2")
    await until(
        pilot, lambda: len(app.screen.query_one("#profile", DataTable).rows) == 12, what="the profile"
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [(140, 40), NARROW], ids=["140x40", "80x24"])
def test_datasets_screen(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(
        workspace_template, tmp_path / "ws", [], datasets=("churn_reference.csv", "churn_week_3.csv")
    )
    try:
        assert snap_compare(app, terminal_size=size, run_before=datasets_shown)
    finally:
        app.close_engine()


async def features_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("3")
    await until(
        pilot, lambda: len(app.screen.query_one("#view-features", DataTable).rows) > 0, what="the views"
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [(140, 40), NARROW], ids=["140x40", "80x24"])
def test_features_screen(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(
        workspace_template, tmp_path / "ws", [], datasets=("churn_reference.csv",), features=True
    )
    try:
        assert snap_compare(app, terminal_size=size, run_before=features_shown)
    finally:
        app.close_engine()


async def experiments_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("4")
    await until(
        pilot, lambda: len(app.screen.query_one("#runs DataTable", DataTable).rows) == 2, what="the runs"
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [(150, 40), NARROW], ids=["150x40", "80x24"])
def test_experiments_screen(
    snap_compare: Callable[..., bool], runs_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(runs_template, tmp_path / "ws", [])
    try:
        assert snap_compare(app, terminal_size=size, run_before=experiments_shown)
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
    await settled(pilot)


@pytest.mark.parametrize("size", [(150, 45), NARROW], ids=["150x45", "80x24"])
def test_experiments_pipelines_view(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    pipeline = tmp_path / "churn_pipeline.toml"
    pipeline.write_text(
        (SAMPLE / "churn_pipeline.toml").read_text().replace("n_estimators = 200", "n_estimators = 20")
    )
    app = pinned_app(
        workspace_template, tmp_path / "ws", [], datasets=("churn_reference.csv",), pipeline=pipeline
    )
    try:
        assert snap_compare(app, terminal_size=size, run_before=pipelines_shown)
    finally:
        app.close_engine()


async def compare_shown(pilot: Pilot[Any]) -> None:
    await experiments_shown(pilot)
    await pilot.press("space", "down", "space", "c")
    app = pilot.app
    await until(pilot, lambda: app.screen.query("#compare-metrics"), what="the compare view")
    await settled(pilot)


def test_experiments_compare_view(
    snap_compare: Callable[..., bool], runs_template: Path, tmp_path: Path
) -> None:
    app = pinned_app(runs_template, tmp_path / "ws", [])
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
        await settled(pilot)

    return run_before


def test_experiments_new_run_form(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path
) -> None:
    app = pinned_app(workspace_template, tmp_path / "ws", [], datasets=("churn_reference.csv",))
    try:
        assert snap_compare(app, terminal_size=(150, 40), run_before=form_shown("n"))
    finally:
        app.close_engine()


def test_experiments_sweep_launcher(
    snap_compare: Callable[..., bool],
    workspace_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the default worker count shown
    app = pinned_app(workspace_template, tmp_path / "ws", [], datasets=("churn_reference.csv",))
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
    await settled(pilot)


@pytest.mark.parametrize("size", [(150, 40), NARROW], ids=["150x40", "80x24"])
def test_models_screen(
    snap_compare: Callable[..., bool], runs_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(runs_template, tmp_path / "ws", [], registry=True)
    try:
        assert snap_compare(app, terminal_size=size, run_before=models_shown)
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
    await settled(pilot)


@pytest.mark.parametrize("size", [(150, 80), NARROW], ids=["150x80", "80x24"])
def test_evaluation_screen(
    snap_compare: Callable[..., bool], runs_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(runs_template, tmp_path / "ws", [], evaluate=True)
    try:
        # 150x80 is tall enough for the whole report; at 80x24 it scrolls (settled waits for its bar).
        assert snap_compare(app, terminal_size=size, run_before=evaluation_shown)
    finally:
        app.close_engine()


SCHEDULER_RECORDS = [
    "INSERT INTO job_runs (job, trigger, started_at, finished_at, status, error, summary) VALUES"
    " ('drift', 'schedule', TIMESTAMPTZ '2026-11-27 09:00:00+00', TIMESTAMPTZ '2026-11-27 09:00:01.25+00',"
    "  'ok', NULL, 'churn-api: 7 of 10 drifted'),"
    " ('accuracy', 'schedule', TIMESTAMPTZ '2026-11-27 09:05:00+00', TIMESTAMPTZ '2026-11-27 09:05:02+00',"
    "  'failed', 'no deployment named ''old-api''', NULL),"
    " ('validation', 'manual', TIMESTAMPTZ '2026-11-27 09:10:00+00', TIMESTAMPTZ '2026-11-27 09:10:00.5+00',"
    "  'ok', NULL, 'nothing waiting')",
    "INSERT INTO loop_runs (started_at, finished_at, trigger, endpoint, model, champion_version,"
    " challenger_version, outcome) VALUES (TIMESTAMPTZ '2026-11-27 09:00:02+00',"
    " TIMESTAMPTZ '2026-11-27 10:00:05+00', 'drift', 'churn-api', 'churn', 2, 3, 'promoted')",
    "INSERT INTO loop_steps (run_id, happened_at, step, status, detail, evidence_json) VALUES"
    " (1, TIMESTAMPTZ '2026-11-27 09:00:02+00', 'trigger', 'ok', 'the drift monitor found drift', '{}'),"
    " (1, TIMESTAMPTZ '2026-11-27 09:00:03+00', 'data', 'ok',"
    "  'churn@v2: churn@v1 + 4,763 labelled production rows', '{\"production_rows\": 4763}'),"
    " (1, TIMESTAMPTZ '2026-11-27 09:00:09+00', 'retrain', 'ok', 'pipeline run 1 registered churn v3', '{}'),"
    " (1, TIMESTAMPTZ '2026-11-27 09:00:10+00', 'canary', 'waiting', 'churn@v3 serves 10%', '{}'),"
    " (1, TIMESTAMPTZ '2026-11-27 10:00:04+00', 'compare', 'ok', 'the difference is still noise', '{}'),"
    " (1, TIMESTAMPTZ '2026-11-27 10:00:05+00', 'promote', 'ok', 'churn@champion is v3 (was v2)', '{}')",
]


async def scheduler_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("9")
    await until(
        pilot, lambda: len(app.screen.query_one("#steps", DataTable).rows) == 6, what="the loop's steps"
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x36", "80x24"])
def test_scheduler_screen(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(workspace_template, tmp_path / "ws", [], records=SCHEDULER_RECORDS)
    try:
        assert snap_compare(app, terminal_size=size, run_before=scheduler_shown)
    finally:
        app.close_engine()


MONITORING_RECORDS = [
    "INSERT INTO drift_checks (checked_at, endpoint, reference, current, dataset_drift, share_drifted,"
    " report_json) SELECT TIMESTAMPTZ '2026-11-27 09:00:00+00' + i * INTERVAL 1 HOUR, 'churn-api',"
    " 'model:churn@champion (churn@v1)', 'live:churn-api (last 1h)', i = 2,"
    " CASE WHEN i = 2 THEN 0.5 ELSE 0 END,"
    " json_object('columns', json_object("
    "  'age', json_object('method', 'wasserstein', 'statistic', 0.02 + 0.14 * i, 'threshold', 0.1,"
    "   'drifted', i = 2, 'kind', 'number', 'reference_rows', 20000, 'current_rows', 500),"
    "  'country', json_object('method', 'jensenshannon', 'statistic', 0.04, 'threshold', 0.1,"
    "   'drifted', false, 'kind', 'category', 'reference_rows', 20000, 'current_rows', 500)),"
    " 'skipped', json_object('customer_id', 'text with more distinct values than half its rows'),"
    " 'prediction', json_object('method', 'wasserstein', 'statistic', 0.05 + 0.1 * i, 'threshold', 0.1,"
    "   'drifted', i = 2, 'kind', 'number', 'reference_rows', 20000, 'current_rows', 500),"
    " 'scores', json_object('reference_rows', 20000, 'current_rows', 500,"
    "  'reference', [0.3, 0.18, 0.12, 0.09, 0.07, 0.06, 0.05, 0.05, 0.04, 0.04],"
    "  'current', [0.1, 0.08, 0.08, 0.09, 0.1, 0.1, 0.11, 0.11, 0.11, 0.12]))"
    " FROM range(3) t(i)",
    "INSERT INTO accuracy_checks (checked_at, endpoint, variant, model, version, estimated, window_end,"
    ' "rows", accuracy, f1, roc_auc, metric, baseline, floor)'
    " SELECT TIMESTAMPTZ '2026-11-25 00:00:00+00' + i * INTERVAL 1 DAY, 'churn-api', 'primary', 'churn', 2,"
    " e, strftime(DATE '2026-07-05' + CAST(i * 7 AS INTEGER), '%Y-%m-%d'),"
    " CASE WHEN e THEN 5000 ELSE 480 END,"
    " 0.86, [0.82, 0.83, 0.84, 0.61][i + 1] + CASE WHEN e AND i = 3 THEN 0.22 ELSE 0 END, 0.9,"
    " 'f1', 0.82, 0.77 FROM range(4) t(i), (VALUES (false), (true)) v(e)",
    "INSERT INTO alerts (raised_at, last_seen_at, source, severity, message, data_json, dedupe_key) VALUES"
    " (TIMESTAMPTZ '2026-11-27 11:00:00+00', TIMESTAMPTZ '2026-11-27 11:00:00+00', 'drift:churn-api',"
    "  'warning', '1 of 2 columns drifted (age) in the last 1h', '{}', 'd'),"
    " (TIMESTAMPTZ '2026-11-28 00:00:00+00', TIMESTAMPTZ '2026-11-28 00:00:00+00', 'accuracy:churn-api',"
    "  'critical', 'primary (churn v2) f1 0.610 over the labelled predictions, below 0.770', '{}', 'a')",
]


async def monitoring_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("8")
    await until(pilot, lambda: len(app.screen.query_one("#drift", DataTable).rows) == 4, what="the drift")
    await settled(pilot)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x36", "80x24"])
def test_monitoring_screen(
    snap_compare: Callable[..., bool], workspace_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(workspace_template, tmp_path / "ws", [], records=MONITORING_RECORDS)
    try:
        assert snap_compare(app, terminal_size=size, run_before=monitoring_shown)
    finally:
        app.close_engine()


SERVING_RECORDS = [
    "INSERT INTO prediction_log SELECT TIMESTAMPTZ '2026-11-27 09:00:00+00' + i * INTERVAL 1 SECOND,"
    " TIMESTAMP '2026-06-29 00:00:00' + i * INTERVAL 1 HOUR, 'churn-api',"
    " CASE WHEN i % 10 = 0 THEN 'canary' ELSE 'primary' END, 'churn', CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END,"
    " 'r' || i, 0, 'customer_id', CAST(100000 + i AS VARCHAR), '{\"age\": 40}', 0.1 + (i % 7) / 10,"
    " CASE WHEN (i % 7) >= 4 THEN '1' ELSE '0' END, 0.4 + (i % 3) / 10, 200, NULL FROM range(12) t(i)",
]


async def serving_shown(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine is not None)
    await pilot.press("7")
    await until(
        pilot, lambda: len(app.screen.query_one("#requests DataTable", DataTable).rows) == 12, what="requests"
    )
    await settled(pilot)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x36", "80x24"])
def test_serving_screen(
    snap_compare: Callable[..., bool], runs_template: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = pinned_app(runs_template, tmp_path / "ws", [], registry=True, deploy=True, records=SERVING_RECORDS)
    try:
        assert snap_compare(app, terminal_size=size, run_before=serving_shown)
    finally:
        app.close_engine()
