"""Replayed traffic's refusals, each one line, before a request is sent (the replay itself runs
against a real server in tests/e2e/test_serve_live.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import run_mlops


def test_bad_replays_are_refused_in_one_line(registry_workspace: Path) -> None:
    with Engine.open(registry_workspace, command="pytest") as engine:
        for rate, duration, message in [
            (0.0, None, "--rate 0: expected a number of requests per second above 0"),
            (math.nan, None, "--rate nan"),
            (10.0, -1.0, "--duration -1: expected seconds above 0"),
            (10.0, None, "no inference server runs in this workspace"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                engine.traffic.replay("churn-predictor", "churn@v1", rate, duration)
        engine.traffic._server_url = lambda: "http://127.0.0.1:9"  # a server that has just died
        with pytest.raises(InvalidInput, match=r"cannot reach the inference server at http://127\.0\.0\.1:9"):
            engine.traffic.replay("churn-predictor", "churn@v1", 10.0)
        with pytest.raises(InvalidInput, match="no replay is running to 'churn-predictor'"):
            engine.traffic.stop("churn-predictor")
    started = run_mlops("server", "start", "-w", str(registry_workspace))
    assert started.returncode == 2
    assert started.stderr.startswith("error: no long-lived owner runs this workspace: start `mlops up`")
