"""The demo's live part: the weeks replayed through the inference server, the monitors run
after each, the late labels ingested and the accuracy monitor run on them.

Each alert raised is attributed to the week whose replay and checks raised it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.demo.data import DATASET, WEEKS
from engine.demo.models import ENDPOINT
from engine.demo.services import DemoServices
from engine.demo.settings import REPLAY_RATE, WEEK_ROWS
from engine.errors import MlopsError
from engine.types.progress import Progress
from engine.types.serving import TrafficReport

FLUSH_SECONDS = 30.0
"""How long a replay's log rows may take to reach the workspace (handed over every 0.5 s)."""


def week_ref(week: int) -> str:
    """Week N is churn@v(N+1): v1 is the reference period."""
    return f"{DATASET}@v{week + 1}"


def replay(engine: DemoServices, dataset: str, rows: int) -> TrafficReport:
    """``rows`` of ``dataset`` as requests to the endpoint, returned once their log has landed
    (the drift monitor reads the log, not the server)."""
    before = engine.predictions.count(ENDPOINT)
    sent = engine.traffic.replay(ENDPOINT, dataset, REPLAY_RATE, rows / REPLAY_RATE, entity="customer_id")
    wait_until(lambda: engine.predictions.count(ENDPOINT) >= before + sent.sent, FLUSH_SECONDS, "the log")
    return sent


def weeks(engine: DemoServices, sample_labels: str, progress: Progress) -> dict[str, Any]:
    """Replay every week and run the drift and accuracy monitors after each; then ingest the
    late labels and run the accuracy monitor on them (week 4's concept drift shows only there)."""
    alerts: list[dict[str, Any]] = []
    replays: list[dict[str, Any]] = []
    seen = _newest_alert(engine)
    checks: list[dict[str, Any]] = []
    for index, week in enumerate(WEEKS):
        progress(f"replaying week {week} ({WEEK_ROWS:,} requests)", index / (len(WEEKS) + 1))
        sent = replay(engine, week_ref(week), WEEK_ROWS)
        replays.append({"week": week, "sent": sent.sent, "by_status": sent.by_status, "rate": sent.rate})
        progress(f"week {week}: the drift and accuracy monitors", (index + 0.8) / (len(WEEKS) + 1))
        checks.append(
            {"week": week, "drift": engine.monitors.drift(), "accuracy": engine.monitors.accuracy()}
        )
        seen = collect(engine, seen, f"week {week}", alerts)
    progress("ingesting the late labels; the accuracy monitor on them", len(WEEKS) / (len(WEEKS) + 1))
    joined = engine.labels.ingest(sample_labels)
    checks.append({"week": "labels", "accuracy": engine.monitors.accuracy()})
    collect(engine, seen, "late labels (week 4)", alerts)
    return {
        "replays": replays,
        "checks": checks,
        "labels": {"rows": joined.rows, "matched": joined.matched, "joined_by": joined.joined_by},
        "alerts": alerts,
    }


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
