"""The demo's live part: the weeks replayed through the inference server, the monitors run
after each, the late labels ingested and the accuracy monitor run on them.

Each alert raised is attributed to the week whose replay and checks raised it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.demo.data import DATASET, WEEKS
from engine.demo.models import ENDPOINT
from engine.demo.services import DemoServices
from engine.demo.settings import REPLAY_RATE, WEEK_ROWS
from engine.errors import MlopsError
from engine.types.progress import Progress

FLUSH_SECONDS = 30.0
"""How long a replay's log rows may take to reach the workspace (handed over every 0.5 s)."""


def week_ref(week: int) -> str:
    """Week N is churn@v(N+1): v1 is the reference period."""
    return f"{DATASET}@v{week + 1}"


def replay(engine: DemoServices, dataset: str, rows: int) -> None:
    """``rows`` of ``dataset`` as requests to the endpoint, returning once their log has landed
    (the drift monitor reads the log, not the server)."""
    before = engine.predictions.count(ENDPOINT)
    sent = engine.traffic.replay(ENDPOINT, dataset, REPLAY_RATE, rows / REPLAY_RATE, entity="customer_id")
    wait_until(lambda: engine.predictions.count(ENDPOINT) >= before + sent.sent, FLUSH_SECONDS, "the log")


@dataclass
class Watched:
    """What the live part saw: what the monitors said after each week, the alerts raised (each
    marked with the week), and the newest alert id seen so far."""

    checks: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    seen: int = 0


def weeks(engine: DemoServices, progress: Progress) -> Watched:
    """Replay every week and run the drift and accuracy monitors after each."""
    watched = Watched(seen=_newest_alert(engine))
    for index, week in enumerate(WEEKS):
        progress(f"replaying week {week} ({WEEK_ROWS:,} requests)", index / len(WEEKS))
        replay(engine, week_ref(week), WEEK_ROWS)
        progress(f"week {week}: the drift and accuracy monitors", (index + 0.8) / len(WEEKS))
        watched.checks.append(
            {"week": week, "drift": engine.monitors.drift(), "accuracy": engine.monitors.accuracy()}
        )
        watched.seen = collect(engine, watched.seen, f"week {week}", watched.alerts)
    return watched


def late_labels(engine: DemoServices, labels: str, watched: Watched, progress: Progress) -> None:
    """Ingest the late labels and run the accuracy monitor on them: week 4's concept drift
    shows only there, once outcomes are known."""
    progress("ingesting the late labels", 0.0)
    engine.labels.ingest(labels)
    progress("the accuracy monitor on the labelled weeks", 0.5)
    watched.checks.append({"week": "labels", "accuracy": engine.monitors.accuracy()})
    watched.seen = collect(engine, watched.seen, "late labels (week 4)", watched.alerts)


def _newest_alert(engine: DemoServices) -> int:
    return max((alert.id for alert in engine.alerts.all(include_acknowledged=True, limit=1000)), default=0)


def collect(engine: DemoServices, seen: int, when: str, into: list[dict[str, Any]]) -> int:
    """Alerts newer than ``seen``, oldest first, marked with ``when``; the newest id."""
    fresh = [a for a in engine.alerts.all(include_acknowledged=True, limit=1000) if a.id > seen]
    for alert in sorted(fresh, key=lambda a: a.id):
        into.append(
            {"id": alert.id, "when": when, "source": alert.source, "severity": alert.severity,
             "message": alert.message}
        )  # fmt: skip
    return max([seen, *(alert.id for alert in fresh)])


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; an error naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise MlopsError(f"the demo waited {seconds:g} s for {what} and gave up")
        time.sleep(0.05)
