"""Tracking and the registry on a real MLflow tracking server (`[tracking] uri` in config.toml).

A `mlflow server` process is started once for the module on 127.0.0.1 (SQLite backend, artifacts
proxied by the server into its own folder); a workspace pointing at it trains, registers,
promotes through the gates (with the ONNX export, which downloads the model from the server),
rolls back, and the server itself is asked what it holds. Nothing may land in the workspace's
own MLflow store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import parse_config
from engine.errors import ConfigError, TrackingUnreachable
from engine.facade import Engine
from engine.types.registry import CHAMPION
from engine.types.training import TrainRequest
from tests.conftest import ENV, LOOSE_GATES, SAMPLE, mlops_json, run_mlops, wait_until

MLFLOW = Path(sys.executable).parent / "mlflow"


@dataclass(frozen=True)
class Server:
    url: str
    artifacts: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(MLFLOW),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # The server's job runner starts nine worker processes this test has no use for.
        env={**ENV, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        start_new_session=True,  # the server and its uvicorn child are stopped as one group
    )
    try:
        wait_until(lambda: healthy(url) or server.poll() is not None, timeout=120, what="mlflow server")
        assert server.poll() is None, (folder / "server.log").read_text()[-3000:]
        yield Server(url, folder / "artifacts")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def remote_workspace(root: Path, url: str) -> Path:
    """A new workspace whose config points at ``url`` before it is first opened."""
    (root / ".mlops").mkdir(parents=True)
    (root / ".mlops" / "config.toml").write_text(f'[tracking]\nuri = "{url}"\n{LOOSE_GATES}')
    engine, _ = Engine.init(root, command="pytest remote")
    engine.close()
    return root


@pytest.mark.slow
def test_runs_and_the_registry_live_on_the_tracking_server(
    mlflow_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = mlflow_server.url
    workspace = remote_workspace(tmp_path / "ws", url)

    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        engine.suites.add(SAMPLE / "churn_suite.json", "churn_suite")
        engine.quality.validate("churn", "churn_suite")
        shallow = engine.training.train(
            TrainRequest("churn", "churned", params={"n_estimators": "10", "max_depth": "3"})
        )
        assert engine.registry.register(shallow.run_id, "churn").version == 1

    # The command line as a user runs it: the JSON document is all stdout holds (MLflow's
    # "View run at URL" lines for a server run would otherwise be printed into it).
    trained = mlops_json(
        workspace,
        "train",
        "--dataset",
        "churn",
        "--target",
        "churned",
        "--param",
        "n_estimators=20",
        "--param",
        "max_depth=10",
        "--run-name",
        "deep",
    )
    deep_run = str(trained["run_id"])
    status = mlops_json(workspace, "status")
    assert status["tracking_uri"] == url

    scratch = tmp_path / "tmp"  # where models downloaded from the server pass through
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with Engine.open(workspace, command="pytest") as engine:
        assert {run.run_id for run in engine.runs.search()} == {shallow.run_id, deep_run}
        assert engine.registry.register("deep", "churn").version == 2

        first = engine.registry.promote("churn", 1)
        assert first.promoted and first.export is not None, first.failed
        second = engine.registry.promote("churn", 2)  # beats v1 on the same held-out rows
        assert second.promoted and second.export is not None, second.failed
        assert second.export.labels_identical and second.export.max_abs_difference <= 1e-5
        onnx = Path(second.export.path)
        assert hashlib.sha256(onnx.read_bytes()).hexdigest() == second.export.sha256

        moved = [(m.action, m.from_version, m.to_version) for m in engine.registry.moves("churn")]
        assert moved == [("promote", None, 1), ("promote", 1, 2)]
        back = engine.registry.rollback("churn", reason="back to the shallow forest")
        assert (back.action, back.from_version, back.to_version) == ("rollback", 2, 1)
        assert engine.registry.moves("churn")[-1].reason == "back to the shallow forest"
        assert first.export is not None
        v1_sha = first.export.sha256
    assert list(scratch.iterdir()) == []  # each download was removed once loaded

    # The server itself holds the runs, the versions, the alias and the ONNX tag.
    from mlflow import MlflowClient

    server = MlflowClient(tracking_uri=url)
    experiments = [experiment.experiment_id for experiment in server.search_experiments()]
    assert {run.info.run_id for run in server.search_runs(experiments)} == {shallow.run_id, deep_run}
    versions = {int(v.version): v.run_id for v in server.search_model_versions("name = 'churn'")}
    assert versions == {1: shallow.run_id, 2: deep_run}
    assert server.get_model_version_by_alias("churn", CHAMPION).version == "1"
    assert server.get_model_version("churn", "1").tags["mlops.onnx_sha256"] == v1_sha
    assert "model" in {artifact.path for artifact in server.list_artifacts(deep_run)}

    # The models were uploaded to the server's artifact store; the workspace's own store is unused.
    assert len(list(mlflow_server.artifacts.rglob("model.pkl"))) == 2
    assert not (workspace / ".mlops" / "mlflow.db").exists()
    assert not any((workspace / ".mlops" / "artifacts").iterdir())


def test_an_unreachable_tracking_server_is_one_line_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    workspace = remote_workspace(tmp_path / "ws", url)
    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        with pytest.raises(TrackingUnreachable, match="cannot be reached"):  # before fitting
            engine.training.train(TrainRequest("churn", "churned", params={"n_estimators": "5"}))

    listed = run_mlops("models", "list", "--json", "-w", str(workspace))
    assert listed.returncode == 1 and listed.stdout == ""
    error = json.loads(listed.stderr)["error"]
    assert error.startswith(f"the MLflow tracking server {url} ") and "cannot be reached" in error
    runs = run_mlops("runs", "list", "-w", str(workspace))
    assert runs.returncode == 1 and len(runs.stderr.strip().splitlines()) == 1
    assert runs.stderr.startswith(f"error: the MLflow tracking server {url} ")


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("localhost:5000", "has no scheme"),
        ("mlflow.example.com", "has no scheme"),
        ("http://", "names no host"),
    ],
)
def test_a_tracking_uri_that_is_not_one_is_refused_naming_it(uri: str, problem: str) -> None:
    expected = f"tracking.uri = '{re.escape(uri)}' {problem}; expected a URI such as"
    with pytest.raises(ConfigError, match=expected):
        parse_config({"tracking": {"uri": uri}})
    assert parse_config({"tracking": {"uri": "https://mlflow.example.com:443/"}}).tracking.uri
