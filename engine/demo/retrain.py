"""The loop's turn to its end: the accuracy alert started it (``[loop] triggers``); the demo
replays requests until its canary has had ``canary_requests`` of them, then lets the loop
judge it (``engine.loop.advance``, what the ``canary`` job does on its schedule)."""

from __future__ import annotations

from typing import Any

from engine.demo.live import replay, week_ref
from engine.demo.models import ENDPOINT, MODEL_NAME
from engine.demo.services import DemoServices
from engine.demo.settings import CANARY_PERCENT, CANARY_REQUESTS
from engine.types.monitoring import LoopRun
from engine.types.progress import Progress
from engine.types.registry import CHAMPION

ROUNDS = 4
"""Replays at most before giving up on the canary (each is expected to give it twice its count)."""


def finish_turn(engine: DemoServices, progress: Progress) -> dict[str, Any]:
    turns = engine.loop.history(5, ENDPOINT)
    turn = next((t for t in turns if t.trigger != "manual"), None)
    if turn is None:  # the alert did not start one (a policy said no): start it by hand
        progress("no turn yet: running one by hand", 0.0)
        turn = engine.loop.run(ENDPOINT)
    said = ""
    rows = round(2 * CANARY_REQUESTS * 100 / CANARY_PERCENT)
    for attempt in range(ROUNDS):
        if turn.outcome != "canary":
            break
        progress(f"replaying {rows} requests for the canary", (attempt + 1) / (ROUNDS + 1))
        replay(engine, week_ref(4), rows)
        said = engine.loop.advance()
        turn = _turn(engine, turn.id)
    return {
        "id": turn.id,
        "trigger": turn.trigger,
        "outcome": turn.outcome,
        "reason": turn.reason,
        "champion": f"{MODEL_NAME} v{turn.champion_version}",
        "challenger": f"{MODEL_NAME} v{turn.challenger_version}" if turn.challenger_version else None,
        "steps": [{"step": s.step, "status": s.status, "detail": s.detail} for s in turn.steps],
        "said": said,
    }


def champion(engine: DemoServices) -> str:
    found = engine.registry.resolve(f"{MODEL_NAME}@{CHAMPION}")
    return f"{found.name} v{found.version}"


def _turn(engine: DemoServices, turn_id: int) -> LoopRun:
    return next(t for t in engine.loop.history(20, ENDPOINT) if t.id == turn_id)
