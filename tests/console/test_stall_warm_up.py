"""The console imports the training libraries in a worker once the workspace is open, so the
first run or sweep does not import them while the user waits (engine/training/warm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import MlopsApp
from engine.facade import Engine
from engine.training import warm
from tests.console.conftest import until


@pytest.mark.parametrize("warm_up", [True, False])
async def test_the_console_warms_up_after_opening_the_workspace(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(warm, "import_training_libraries", lambda: calls.append(True))
    app = MlopsApp(Engine.claim(workspace, command="mlops console"), warm_up=warm_up)
    try:
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.engine is not None, what="the engine to open")
            await until(pilot, lambda: not any(w.group == "warm up" for w in app.workers), what="the warm-up")
            assert calls == ([True] if warm_up else [])
            await app.workers.wait_for_complete()  # the first refresh may still hold the database
    finally:
        app.close_engine()
