"""The inference server against what a user would otherwise run, side by side in one run, on
the same model: a random forest of 200 trees, depth 10, trained on the churn reference data.

- ``mlops serve``: 1 serving process, bearer auth, input checks and the prediction log on;
- ``mlflow models serve --env-manager local``: MLflow's scoring server on the same run's model;
- a bare FastAPI + ONNX Runtime handler (bare_handler.py): the same ONNX file, no auth, no
  checks, no log, uvicorn with 1 process: the floor an HTTP server in Python reaches.

The load generator is ``hey`` (Debian's package): single-row requests, latency percentiles at
concurrency 1 and throughput at concurrency 8. MLflow's server is given fewer requests (it
answers about 20 a second here). Afterwards ``mlops serve`` is stopped gracefully and the
prediction log counted: it must hold every request it answered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.facade import Engine
from engine.types.training import TrainRequest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
LATENCY_REQUESTS = 2_000
THROUGHPUT_REQUESTS = 10_000
ROUNDS = 3
MLFLOW_LATENCY_REQUESTS = 200
MLFLOW_THROUGHPUT_REQUESTS = 400
CONCURRENCY = 8
READY_SECONDS = 120.0


@dataclass(frozen=True)
class Measured:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    single_rate: float
    rate: float
    errors: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers or {}), timeout=2
            ) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # a server still starting: ask again
    raise RuntimeError(f"{url} did not answer within {READY_SECONDS:.0f} s")


def hey(url: str, body: str, headers: dict[str, str], requests: int, concurrency: int) -> dict[str, Any]:
    command = [
        "hey",
        "-n",
        str(requests),
        "-c",
        str(concurrency),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-d",
        body,
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = {
        int(match.group(1)): float(match.group(2)) * 1000
        for match in re.finditer(r"(\d+)%+ in ([\d.]+) secs", output)
    }
    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d+)\]\s+(\d+) responses", output)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"percentiles": percentiles, "statuses": statuses, "rate": rate}


def latency(url: str, body: str, headers: dict[str, str], requests: int) -> dict[str, Any]:
    hey(url, body, headers, min(200, requests), 1)  # warm: first requests load lazily
    return hey(url, body, headers, requests, 1)


def measured(single: dict[str, Any], loaded: list[dict[str, Any]]) -> Measured:
    """Latency from the concurrency-1 run, throughput the median of the concurrency-8 rounds."""
    runs = [single, *loaded]
    errors = sum(count for run in runs for code, count in run["statuses"].items() if code != 200)
    p = single["percentiles"]
    return Measured(
        p[50], p[95], p[99], single["rate"], statistics.median(run["rate"] for run in loaded), errors
    )


def main() -> None:
    if shutil.which("hey") is None:
        sys.exit("the serving benchmark needs `hey` (apt-get install hey)")
    python = sys.executable
    bin_dir = Path(python).parent
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        engine, _ = Engine.init(root, command="benchmark")
        with engine:
            engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
            run = engine.training.train(
                TrainRequest(
                    "churn", "churned", "random_forest", params={"n_estimators": "200", "max_depth": "10"}
                )
            )
            engine.registry.register(run.run_id, "churn")
            promotion = engine.registry.promote("churn", 1, force=True, reason="benchmark")
            assert promotion.export is not None
            onnx_path = promotion.export.path
            engine.deployments.deploy("churn-predictor", "churn@champion")
            tracking_uri = engine.tracking_uri
            columns, rows = engine.datasets.head("churn", 0, 1)
        row = dict(zip(columns, rows[0], strict=True))
        instance = {feature: row[feature] for feature in run.features}
        token = (root / ".mlops" / "token").read_text().strip()
        environment = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # MLflow execs `uvicorn`
        }
        processes = []
        try:
            ours_port, mlflow_port, bare_port = free_port(), free_port(), free_port()
            ours = subprocess.Popen(
                [
                    str(bin_dir / "mlops"),
                    "serve",
                    "--port",
                    str(ours_port),
                    "--workers",
                    "1",
                    "-w",
                    str(root),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=environment,
            )
            processes.append(ours)
            mlflow = subprocess.Popen(
                [str(bin_dir / "mlflow"), "models", "serve", "-m", f"runs:/{run.run_id}/model",
                 "--env-manager", "local", "--host", "127.0.0.1", "-p", str(mlflow_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
            )  # fmt: skip
            processes.append(mlflow)
            bare = subprocess.Popen(
                [python, "-m", "benchmarks.bare_handler", onnx_path, str(bare_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parents[1],
            )  # fmt: skip
            processes.append(bare)
            authorization = {"Authorization": f"Bearer {token}"}
            wait_ready(f"http://127.0.0.1:{ours_port}/v1/models/churn-predictor", authorization)
            wait_ready(f"http://127.0.0.1:{mlflow_port}/ping")
            wait_ready(f"http://127.0.0.1:{bare_port}/health")

            ours_body = json.dumps({"instances": [instance]})
            targets = {
                "ours": (
                    f"http://127.0.0.1:{ours_port}/v1/models/churn-predictor:predict",
                    ours_body,
                    authorization,
                ),
                "mlflow": (
                    f"http://127.0.0.1:{mlflow_port}/invocations",
                    json.dumps({"dataframe_records": [instance]}),
                    {},
                ),
                "bare": (f"http://127.0.0.1:{bare_port}/predict", ours_body, {}),
            }
            single = {
                name: latency(*target, MLFLOW_LATENCY_REQUESTS if name == "mlflow" else LATENCY_REQUESTS)
                for name, target in targets.items()
            }
            loaded: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
            loaded["mlflow"].append(hey(*targets["mlflow"], MLFLOW_THROUGHPUT_REQUESTS, CONCURRENCY))
            for _ in range(ROUNDS):  # alternating, so a change in the machine's load hits both alike
                for name in ("ours", "bare"):
                    loaded[name].append(hey(*targets[name], THROUGHPUT_REQUESTS, CONCURRENCY))
            measured_ours, measured_mlflow, measured_bare = (
                measured(single[name], loaded[name]) for name in ("ours", "mlflow", "bare")
            )
            ours.send_signal(signal.SIGTERM)
            ours.wait(60)
            answered = 200 + LATENCY_REQUESTS + ROUNDS * THROUGHPUT_REQUESTS - measured_ours.errors
            with Engine.open(root, command="benchmark") as engine:
                logged = engine.predictions.count("churn-predictor")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()

    print("### Serving: one row per request, 200-tree forest (depth 10), 1 server process each\n")
    print(
        f"`hey`, {LATENCY_REQUESTS:,} requests at concurrency 1 for latency (after 200 to warm up) and "
        f"throughput at concurrency {CONCURRENCY}: the median of {ROUNDS} rounds of {THROUGHPUT_REQUESTS:,}, "
        f"this server's and the bare handler's alternating (MLflow: {MLFLOW_LATENCY_REQUESTS} requests for "
        f"latency, one round of {MLFLOW_THROUGHPUT_REQUESTS}).\n"
    )
    print("| server | p50 | p95 | p99 | req/s at c=1 | req/s at c=8 | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, result in (
        ("`mlops serve` (auth, checks, prediction log)", measured_ours),
        ("`mlflow models serve --env-manager local`", measured_mlflow),
        ("bare FastAPI + ONNX Runtime", measured_bare),
    ):
        print(
            f"| {name} | {result.p50_ms:.2f} ms | {result.p95_ms:.2f} ms | {result.p99_ms:.2f} ms | "
            f"{result.single_rate:,.0f} | {result.rate:,.0f} | {result.errors} |"
        )
    print()
    print(
        f"Throughput at c={CONCURRENCY}: {measured_ours.rate / measured_mlflow.rate:,.0f}x MLflow's server, "
        f"{measured_ours.rate / measured_bare.rate:.0%} of the bare handler. Prediction log after a graceful "
        f"stop: {logged:,} rows for {answered:,} answered requests.\n"
    )
