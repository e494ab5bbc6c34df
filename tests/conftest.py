"""Shared fixtures: every test gets a fresh workspace of its own.

Creating a workspace runs MLflow's schema migrations (seconds), so one template is made per
test session and copied for each test; the copy is a complete, never-opened workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.facade import Engine
from engine.types.serving import PredictionBatch
from engine.types.training import TrainRequest

# A run started in the background (`make test &`, a CI step under nohup) inherits SIGINT
# ignored, and every process it starts would too: the tests that press Ctrl-C need it delivered.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "sample_data"
MLOPS = Path(sys.executable).parent / "mlops"
LOOSE_GATES = "[gates]\nmin_f1 = 0.5\n[fairness]\nmin_ratio = 0.5\nmax_difference = 0.5\n"
"""The sample data's planted disparity would refuse every promotion, and a depth-3 forest does
not reach f1 0.7: registry tests loosen both, so each test chooses the gate that refuses."""


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    engine, _ = Engine.init(root, command="pytest template")
    engine.close()
    return root


def copy_workspace(source: Path, destination: Path) -> Path:
    """A copy of a closed workspace that stands on its own: MLflow keeps absolute artifact
    locations (experiments, runs, model versions) and the catalogue absolute file paths (ONNX
    exports), so every path into the source's ``.mlops`` is rewritten."""
    shutil.copytree(source, destination)
    old_dir, new_dir = source / ".mlops", destination / ".mlops"
    store = sqlite3.connect(new_dir / "mlflow.db")
    try:
        tables = [row[0] for row in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in store.execute(f'PRAGMA table_info("{table}")').fetchall():
                if column[2].upper().startswith(("VARCHAR", "TEXT")):
                    for old, new in ((old_dir.as_uri(), new_dir.as_uri()), (str(old_dir), str(new_dir))):
                        store.execute(
                            f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?)', [old, new]
                        )
        store.commit()
    finally:
        store.close()
    if (new_dir / "models").is_dir():  # exported files, recorded by path in the catalogue
        import duckdb

        with duckdb.connect(str(new_dir / "workspace.duckdb")) as catalogue:
            catalogue.execute(
                "UPDATE model_exports SET path = replace(path, ?, ?)", [str(old_dir), str(new_dir)]
            )
    return destination


@pytest.fixture
def workspace(workspace_template: Path, tmp_path: Path) -> Path:
    """The root of a fresh workspace (the directory holding .mlops/)."""
    return copy_workspace(workspace_template, tmp_path / "ws")


@pytest.fixture(scope="session")
def registry_template(workspace_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Churn data validated against the sample suite, and two forest runs registered as versions
    1 (10 trees, depth 3) and 2 (30 trees, depth 10) of "churn"; gates loosened (LOOSE_GATES).
    Built once per session: tests that start from it get a copy (``registry_workspace``)."""
    root = copy_workspace(workspace_template, tmp_path_factory.mktemp("registry") / "ws")
    (root / ".mlops" / "config.toml").write_text(LOOSE_GATES)
    with Engine.open(root, command="pytest template") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        engine.quality.validate("churn", "churn_suite")
        for trees, depth in (("10", "3"), ("30", "10")):
            run = engine.training.train(
                TrainRequest("churn", "churned", params={"n_estimators": trees, "max_depth": depth})
            )
            engine.registry.register(run.run_id, "churn")
    return root


@pytest.fixture
def registry_workspace(registry_template: Path, tmp_path: Path) -> Path:
    """A workspace of its own with validated churn data and two registered versions."""
    return copy_workspace(registry_template, tmp_path / "ws")


@pytest.fixture
def engine(workspace: Path) -> Iterator[Engine]:
    with Engine.open(workspace, command="pytest") as opened:
        yield opened


def run_mlops(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed `mlops` command as a user would."""
    return subprocess.run(
        [str(MLOPS), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def mlops_json(workspace: Path, *args: str) -> dict[str, Any]:
    """Run a command with --json on ``workspace``; it must succeed and print one document."""
    result = run_mlops(*args, "--json", "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


ENV = {**{k: v for k, v in os.environ.items() if k != "MLOPS_WORKSPACE"}, "COLUMNS": "120"}
"""What a user's terminal would pass a command: no workspace from the environment, 120 columns."""


def endpoint(workspace: Path) -> dict[str, object] | None:
    """The published ``.mlops/host.json``, or None."""
    try:
        return dict(json.loads((workspace / ".mlops" / "host.json").read_text()))
    except (OSError, ValueError):
        return None


def start_owner(workspace: Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    """`mlops up` on ``workspace``, returned once it hosts (its endpoint is published)."""
    owner = subprocess.Popen(
        [str(MLOPS), "up", "-w", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=cwd,
    )
    wait_until(lambda: endpoint(workspace) is not None or owner.poll() is not None, what="the endpoint")
    assert owner.poll() is None, owner.stderr.read() if owner.stderr else ""
    return owner


@contextmanager
def hosted(workspace: Path) -> Iterator[Path]:
    """``workspace`` hosted by `mlops up` for the block: commands run through a warm owner, with
    the output and exit codes they have on their own (tests/e2e/test_host.py), at a fraction of
    a cold command's cost (the README's walkthrough runs the commands cold); the owner then
    stops cleanly."""
    owner = start_owner(workspace)
    try:
        yield workspace
    finally:
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(60) == 0, owner.stderr.read() if owner.stderr else ""


def prediction_batch(*rows: dict[str, Any]) -> PredictionBatch:
    """Prediction-log rows as a serving process hands them over, with plain defaults for what a
    test omits (endpoint churn-api, churn v1, label 1, score 0.5, on 2026-07-01)."""
    now = datetime(2026, 7, 1, tzinfo=UTC).timestamp()
    defaults = {
        "logged_at": now,
        "event_time": now,
        "endpoint": "churn-api",
        "variant": "primary",
        "model": "churn",
        "version": 1,
        "row": 0,
        "entity_key": None,
        "entity": None,
        "features": '{"age": 40}',
        "score": 0.5,
        "label": "1",
        "latency_ms": 0.4,
        "status": 200,
        "error": None,
    }
    filled = [{**defaults, **row} for row in rows]
    return PredictionBatch(*([row[column.name] for row in filled] for column in fields(PredictionBatch)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, each worker starts with its share of the slow tests.

    xdist's work stealing hands each worker a contiguous share of the collection, in path
    order, and an idle worker later steals from the end of the longest queue. In path order
    the slow end-to-end tests (tests/e2e/) fell mostly to one worker, which then ran them one
    after another at the end of the run. Here the slow tests are dealt out round robin to the
    front of each worker's share, so the short tests are what is left to steal. Every worker
    computes the same order, as xdist requires."""
    workers = config.getoption("numprocesses", default=None)
    if not isinstance(workers, int) or workers < 2:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    rest = [item for item in items if not item.get_closest_marker("slow")]
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for worker in range(workers):
        share = remaining // (workers - worker)  # what xdist sends each idle worker, in turn
        own = slow[worker::workers][:share]
        ordered += own + rest[: share - len(own)]
        rest = rest[share - len(own) :]
        remaining -= share
    items[:] = ordered + rest
