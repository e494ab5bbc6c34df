from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import duckdb

from engine.facade import Engine
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"

HEAVY = ["textual", "pandas", "mlflow", "sklearn", "evidently", "great_expectations", "numpy"]


def loaded_top_level_modules(statement: str) -> set[str]:
    code = (
        f"import sys, json; {statement}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def test_import_engine_loads_nothing_heavy() -> None:
    loaded = loaded_top_level_modules("import engine")
    assert loaded.isdisjoint([*HEAVY, "duckdb", "rich"]), loaded & {*HEAVY, "duckdb", "rich"}


def test_the_facade_and_the_cli_load_no_ui_and_no_ml_library() -> None:
    loaded = loaded_top_level_modules("import engine.facade, engine.cli")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_status_of_a_new_workspace(engine: Engine) -> None:
    status = engine.status()
    assert status.path == str(engine.workspace.mlops_dir)
    assert status.owner.pid == os.getpid()
    assert status.owner.command == "pytest"
    assert status.tracking_uri == f"sqlite:///{engine.workspace.mlflow_db_path}"
    counts = status.counts
    assert (counts.datasets, counts.runs, counts.models, counts.deployments, counts.open_alerts) == (
        0,
        0,
        0,
        0,
        0,
    )


def test_status_counts_what_later_features_store(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "a")
    engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "b")
    engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "b")
    raised = [engine.alerts.raise_alert("test", "info", f"alert {number}") for number in range(3)]
    assert raised[1] is not None
    engine.alerts.acknowledge(raised[1].id)
    store = sqlite3.connect(engine.workspace.mlflow_db_path)
    store.execute("INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('m', 0, 0)")
    store.commit()
    store.close()
    counts = engine.status().counts
    assert (counts.datasets, counts.models, counts.open_alerts) == (2, 1, 2)


def test_a_remote_tracking_server_is_not_counted_locally(workspace: Path) -> None:
    (workspace / ".mlops" / "config.toml").write_text('[tracking]\nuri = "http://127.0.0.1:5999"\n')
    with Engine.open(workspace) as engine:
        assert engine.tracking_uri == "http://127.0.0.1:5999"
        assert engine.status().counts.runs is None


def test_the_mlflow_store_is_readable_by_mlflow(engine: Engine) -> None:
    from mlflow.tracking import MlflowClient

    experiments = MlflowClient(tracking_uri=engine.tracking_uri).search_experiments()
    assert [e.name for e in experiments] == ["Default"]
    assert experiments[0].artifact_location.startswith(engine.workspace.artifacts_dir.as_uri() + "/")


def test_activity_log_newest_first_and_filtered(engine: Engine) -> None:
    engine.events.record("data", "churn@v1", "ingested 20,000 rows")
    engine.events.record("model", "churn", "promoted v2 to champion")
    assert [e.subject for e in engine.events.recent(2)] == ["churn", "churn@v1"]
    assert [e.message for e in engine.events.recent(contains="PROMOTED")] == ["promoted v2 to champion"]


def test_close_checkpoints_the_database(workspace: Path) -> None:
    with Engine.open(workspace) as engine:
        engine.events.record("test", "x", "y")
    assert not (workspace / ".mlops" / "workspace.duckdb.wal").exists()
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events WHERE kind = 'test'").fetchone() == (1,)


def test_close_stops_a_query_still_running_and_keeps_the_data(workspace: Path) -> None:
    """The console quitting while a worker still queries: the query is interrupted, the
    database is checkpointed and closed, and what was stored stays."""
    engine = Engine.open(workspace)
    engine.events.record("test", "x", "kept")
    started, outcome = threading.Event(), []

    def long_query() -> None:
        try:
            with engine._db.cursor() as cursor:
                started.set()
                cursor.execute("SELECT count(*) FROM range(100000000000) a")
                outcome.append("finished")
        except Exception as error:  # the interrupt, as the worker would see it
            outcome.append(type(error).__name__)

    worker = threading.Thread(target=long_query)
    worker.start()
    started.wait(10)
    engine.close()
    worker.join(30)
    assert not worker.is_alive() and outcome and outcome[0] != "finished"
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as con:
        assert con.execute("SELECT message FROM events WHERE kind = 'test'").fetchall() == [("kept",)]
