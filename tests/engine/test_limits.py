"""Every listing's ``--limit`` is 1 or more, said in one line: DuckDB would refuse a negative
LIMIT with an internal error, and a Python slice would count it from the other end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine

LISTINGS: dict[str, Callable[[Engine, int], Any]] = {
    "loop history": lambda engine, limit: engine.loop.history(limit),
    "jobs history": lambda engine, limit: engine.scheduler.history(None, limit),
    "alerts list": lambda engine, limit: engine.alerts.all(False, limit),
    "predictions": lambda engine, limit: engine.predictions.recent(None, limit),
    "pipeline runs": lambda engine, limit: engine.pipelines.runs(limit),
    "data sql": lambda engine, limit: engine.datasets.query("SELECT 1", limit),
}


@pytest.mark.parametrize("listing", sorted(LISTINGS))
@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(engine: Engine, listing: str, limit: int) -> None:
    with pytest.raises(InvalidInput, match=rf"^--limit {limit}: expected at least 1$"):
        LISTINGS[listing](engine, limit)
    assert LISTINGS[listing](engine, 1) is not None
