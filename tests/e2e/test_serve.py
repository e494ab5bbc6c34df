"""`mlops serve`: the owner with the inference server, its workers reaching it through the
workspace endpoint; deployments made from another terminal are served without a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.facade import Engine
from tests.conftest import ENV, MLOPS, endpoint, run_mlops, wait_until


class Served:
    """A running `mlops serve` and the lines it has logged."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def url(self) -> str:
        line = next(line for line in self.lines if " serving http" in line)
        return line.split(" serving ")[1].split()[0]


ServedWorkspace = tuple[Served, Path, dict[str, Any]]


@pytest.fixture
def served(registry_workspace: Path) -> Iterator[ServedWorkspace]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.registry.promote("churn", 2, "champion")
        engine.deployments.deploy("churn-predictor", "churn@champion")
        columns, rows = engine.datasets.head("churn", 0, 1)
    process = subprocess.Popen(
        [str(MLOPS), "serve", "--port", "0", "--workers", "2", "-w", str(registry_workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    server = Served(process)
    wait_until(lambda: any(" serving http" in line for line in server.lines) or process.poll() is not None)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    wait_until(lambda: sum("(worker) attached" in line for line in server.lines) == 2, what="both workers")
    customer = dict(zip(columns, rows[0], strict=True))
    del customer["churned"], customer["customer_id"], customer["event_timestamp"]
    yield server, registry_workspace, customer
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def bearer(workspace: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {(workspace / '.mlops' / 'token').read_text().strip()}"}


def test_mlops_serve_answers_follows_changes_and_stops_cleanly(
    served: ServedWorkspace,
) -> None:
    server, workspace, customer = served
    headers = bearer(workspace)
    predict = f"{server.url}/v1/models/churn-predictor:predict"
    result = httpx.post(predict, json={"instances": [customer]}, headers=headers).json()
    assert 0.0 <= result["predictions"][0]["score"] <= 1.0

    status = json.loads(run_mlops("status", "--json", "-w", str(workspace), env=ENV).stdout)
    assert [c["command"] for c in status["clients"]].count("mlops serve (worker)") == 2

    def served_models() -> list[str]:
        return list(httpx.get(f"{server.url}/v1/models", headers=headers).json()["models"])

    assert run_mlops("deploy", "pinned", "--model", "churn@v1", "-w", str(workspace), env=ENV).returncode == 0
    wait_until(
        lambda: all("pinned" in served_models() for _ in range(4)), what="the new endpoint, on both workers"
    )

    def version() -> int:
        return int(httpx.get(f"{server.url}/v1/models/churn-predictor", headers=headers).json()["version"])

    assert version() == 2
    moved = run_mlops(
        "models", "promote", "churn", "1", "--force", "--reason", "test", "-w", str(workspace), env=ENV
    )
    assert moved.returncode == 0, moved.stderr
    wait_until(lambda: all(version() == 1 for _ in range(4)), what="the alias move, served")

    assert run_mlops("deploy", "remove", "pinned", "-w", str(workspace), env=ENV).returncode == 0
    wait_until(lambda: all("pinned" not in served_models() for _ in range(4)), what="the removal, served")

    for _ in range(10):
        assert httpx.post(predict, json={"instances": [customer]}, headers=headers).status_code == 200
    assert httpx.post(predict, json={"instances": []}, headers=headers).status_code == 400
    exposed = httpx.get(f"{server.url}/metrics").text  # open by default; summed over both workers
    requests = 'mlops_requests_total{endpoint="churn-predictor",protocol="v1",status="%s",variant="%s"} %s'
    assert requests % ("200", "primary", "11.0") in exposed  # the multi-process collector sorts labels
    assert requests % ("400", "(none)", "1.0") in exposed
    assert 'mlops_prediction_score_count{endpoint="churn-predictor",variant="primary"} 11.0' in exposed
    assert "mlops_request_seconds_bucket" in exposed

    # The monitors' findings, asked of the owner on each scrape (engine/monitoring/gauges.py).
    assert run_mlops("monitor", "run", "-w", str(workspace), env=ENV).returncode == 0
    assert run_mlops("jobs", "run", "retention", "-w", str(workspace), env=ENV).returncode == 0
    exposed = httpx.get(f"{server.url}/metrics").text
    # One customer asked 11 times: every column drifted (labels come sorted by name).
    drift = 'mlops_drift_statistic{column="avg_order_value",endpoint="churn-predictor",method="wasserstein"} '
    assert drift in exposed and 'mlops_dataset_drift_share{endpoint="churn-predictor"} 1.0' in exposed
    estimate = (
        'mlops_live_performance{endpoint="churn-predictor",metric="f1",source="estimated",variant="primary"}'
    )
    assert estimate in exposed and 'source="realised"' not in exposed  # no labels yet: the estimate only
    assert 'mlops_alerts_open{severity="warning"} 1.0' in exposed  # the drift alert
    assert 'mlops_job_runs_total{job="retention",status="ok"} 1.0' in exposed
    assert 'mlops_job_last_success{job="retention"} 1.0' in exposed

    canary = ["deploy", "churn-predictor", "--model", "churn@v1", "--canary", "churn@v2", "--percent", "50"]
    assert run_mlops(*canary, "-w", str(workspace), env=ENV).returncode == 0
    scores: set[float] = set()
    answered: list[str] = []

    def both_answer() -> bool:  # the same row, scored by v1 or by v2, about half each
        answer = httpx.post(predict, json={"instances": [customer]}, headers=headers).json()
        answered.append(answer["id"])
        scores.add(answer["predictions"][0]["score"])
        return len(scores) >= 2

    wait_until(both_answer, what="answers from the primary and from the canary")
    assert len(scores) == 2
    posted = 12 + len(answered)

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(60) == 0
    with Engine.open(workspace, command="pytest") as engine:  # the log was handed over before the stop
        assert engine.predictions.count("churn-predictor") == posted, server.process.stderr.read()
        logged = engine.predictions.recent("churn-predictor", posted)
    assert {row.variant for row in logged} == {"primary", "canary", None}
    assert sum(row.status == 400 for row in logged) == 1
    assert endpoint(workspace) is None
    assert any("stopping: the serving processes finish their requests" in line for line in server.lines)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/v2/health/live")


def test_a_killed_serving_process_is_replaced(served: ServedWorkspace) -> None:
    server, workspace, customer = served

    def workers() -> list[int]:
        status = json.loads(run_mlops("status", "--json", "-w", str(workspace), env=ENV).stdout)
        return [c["pid"] for c in status["clients"] if c["command"] == "mlops serve (worker)"]

    predict = f"{server.url}/v1/models/churn-predictor:predict"

    def logged() -> int:
        shown = run_mlops("predictions", "--limit", "1000", "--json", "-w", str(workspace), env=ENV)
        return len(json.loads(shown.stdout)["predictions"])

    for _ in range(20):
        assert (
            httpx.post(predict, json={"instances": [customer]}, headers=bearer(workspace)).status_code == 200
        )
    wait_until(lambda: logged() == 20, what="the rows handed over within a flush")
    victim = workers()[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: any(f"pid {victim} exited (killed by signal 9)" in line for line in server.lines))
    wait_until(lambda: len(workers()) == 2 and victim not in workers(), what="a new worker attached")
    for _ in range(4):
        answer = httpx.post(predict, json={"instances": [customer]}, headers=bearer(workspace))
        assert answer.status_code == 200
    server.process.send_signal(signal.SIGTERM)
    try:  # generous: once, under the whole suite's load, this stop took over 60 s (see the log)
        assert server.process.wait(120) == 0
    except subprocess.TimeoutExpired:
        raise AssertionError("\n".join(["mlops serve did not stop; it logged:", *server.lines])) from None
    with Engine.open(workspace, command="pytest") as engine:  # the kill cost nothing already handed over
        assert engine.predictions.count() == 24


def test_a_port_in_use_is_one_line(registry_workspace: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = run_mlops("serve", "--port", str(port), "-w", str(registry_workspace), env=ENV)
    finally:
        taken.close()
    assert result.returncode == 2
    assert result.stderr == f"error: cannot serve on 127.0.0.1:{port}: Address already in use\n"
    assert endpoint(registry_workspace) is None


def test_a_model_file_changed_on_disk_is_refused_and_nothing_serves(registry_workspace: Path) -> None:
    with Engine.open(registry_workspace, command="pytest") as engine:
        deployed = engine.deployments.deploy("churn-predictor", "churn@v2")
        (variant,) = engine.deployments.plan().endpoints[0].variants
    with Path(variant.onnx_path).open("ab") as tampered:
        tampered.write(b"\0")
    result = run_mlops("serve", "--port", "0", "-w", str(registry_workspace), env=ENV)
    assert result.returncode == 1
    assert "churn v2: the ONNX file's sha256 is" in result.stderr
    assert result.stderr.endswith("error: a serving process did not start (exit 1); its error is above\n")
    assert endpoint(registry_workspace) is None and deployed.revision == 1
