"""The live side of serving, as a user drives it beside `mlops up`: the server started on demand,
a production week replayed as traffic, late labels joined, the variants compared, and a
blue/green switch under load that no request notices."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.facade import Engine
from tests.conftest import ENV, MLOPS, SAMPLE, run_mlops, start_owner, wait_until

pytestmark = pytest.mark.slow


def cli(workspace: Path, *args: str) -> dict[str, Any]:
    done = run_mlops(*args, "--json", "-w", str(workspace), env=ENV, timeout=180)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_replayed_traffic_late_labels_compare_and_a_switch_under_load(registry_workspace: Path) -> None:
    workspace = registry_workspace
    with Engine.open(workspace, command="pytest") as engine:
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
        engine.registry.promote("churn", 2, "champion")
        engine.deployments.deploy("churn-predictor", "churn@champion", canary="churn@v1", percent=30)
    owner = start_owner(workspace)
    try:
        assert cli(workspace, "server", "status")["running"] is False
        started = cli(workspace, "server", "start", "--port", "0", "--workers", "2")
        assert started["running"] and len(started["pids"]) == 2
        refused = run_mlops("server", "start", "-w", str(workspace), env=ENV)
        assert refused.returncode == 2 and "already runs at" in refused.stderr

        sent = cli(
            workspace, "traffic", "--endpoint", "churn-predictor", "--dataset", "week1@v1",
            "--rate", "400", "--duration", "2", "--entity", "customer_id",
        )  # fmt: skip
        assert sent["sent"] == 800 and sent["by_status"] == {"200": 800} and sent["failed"] == 0

        cli(workspace, "deploy", "bg", "--model", "churn@v1", "--staged", "churn@v2")
        replay = subprocess.Popen(
            [str(MLOPS), "traffic", "--endpoint", "bg", "--dataset", "week1@v1", "--rate", "300",
             "--duration", "4", "--json", "-w", str(workspace)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        wait_until(
            lambda: bool(cli(workspace, "predictions", "--endpoint", "bg", "--limit", "1")["predictions"]),
            what="blue answering the replay",
        )
        switched = cli(workspace, "deploy", "switch", "bg")  # while the replay runs
        assert switched["settings"] == {"live": "green"}
        out, err = replay.communicate(timeout=120)
        assert replay.returncode == 0, err
        under_load = json.loads(out)
        assert under_load["failed"] == 0 and under_load["by_status"] == {"200": under_load["sent"]}

        stopped = cli(workspace, "server", "stop")
        assert stopped["running"] is False
        logged = cli(workspace, "predictions", "--endpoint", "churn-predictor", "--limit", "10000")
        rows = logged["predictions"]
        assert len(rows) == 800  # every request, handed over before the server stopped
        assert {row["variant"] for row in rows} == {"primary", "canary"}
        assert all(row["entity_key"] == "customer_id" for row in rows)
        assert min(row["event_time"] for row in rows).startswith("2026-06-29")  # the week's own times
        colours = {
            row["variant"]
            for row in cli(workspace, "predictions", "--endpoint", "bg", "--limit", "10000")["predictions"]
        }
        assert colours == {"blue", "green"}

        joined = cli(workspace, "labels", "ingest", str(SAMPLE / "churn_labels.csv"))
        assert joined["joined_by"] == "customer_id + event_timestamp"
        assert 0.9 * 800 < joined["matched"] <= 800  # 95% of the week's rows get a label
        compared = cli(workspace, "deploy", "compare", "churn-predictor")
        primary, canary = compared["variants"]
        assert primary["labelled"] + canary["labelled"] == joined["matched"]
        assert 0.7 < primary["accuracy"]["value"] < 1.0
        assert compared["verdict"]
    finally:
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(60) == 0
