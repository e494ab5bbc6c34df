"""``engine.alerts``: what monitors raise, kept in the workspace and handed to sinks.

An alert has a time, a source (``drift:churn-api``), a severity, a message and its data. It is
kept whatever happens to its sinks. Raising one whose key (by default its source and message's
subject) matches an open alert raised within the cool-down only counts a repeat on that one,
so a monitor checking every five minutes says a thing once an hour, not twelve times.
``mlops alerts ack ID`` closes it; the next occurrence is a new alert.

Sinks come from ``[alerts]`` in the config: a log file (one JSON line per alert), the owner's
standard output, and a webhook taking Slack's incoming-webhook JSON (``{"text": ...}``, the
seed's ``alert_team``). Deliveries run on a thread of their own: a sink that fails is retried
with doubling waits, each attempt recorded (``alert_deliveries``), and a failure never
reaches the monitor that raised the alert.
"""

from __future__ import annotations

import getpass
import json
import queue
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.config import AlertsConfig
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import check_limit
from engine.types.monitoring import Alert

SEVERITIES = ("info", "warning", "critical")
WEBHOOK_SECONDS = 10.0

# One sink: delivers an alert or raises.
Sink = Callable[[Alert], None]


class Alerts:
    def __init__(self, db: Database, events: EventLog, config: AlertsConfig, mlops_dir: Path) -> None:
        self._db = db
        self._events = events
        self._config = config
        self._sinks = _sinks(config, mlops_dir)
        self._outbox: queue.Queue[Alert | threading.Event] = queue.Queue()  # an Event: set when reached
        self._sender: threading.Thread | None = None
        self._lock = threading.Lock()

    def raise_alert(
        self,
        source: str,
        severity: str,
        message: str,
        data: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Alert | None:
        """Keep an alert and hand it to the sinks; None when an open one with the same ``key``
        (default: source and message) was raised within the cool-down (a repeat is counted)."""
        if severity not in SEVERITIES:
            raise InvalidInput(f"severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
        dedupe_key = key or f"{source}\0{message}"
        document = json.dumps(data or {}, default=str)
        with self._db.transaction() as cursor:
            repeated = cursor.execute(
                "UPDATE alerts SET repeats = repeats + 1, last_seen_at = now() WHERE id = ("
                " SELECT max(id) FROM alerts WHERE dedupe_key = ? AND status = 'open'"
                " AND raised_at >= now() - to_microseconds(CAST(? * 60000000 AS BIGINT))) RETURNING id",
                [dedupe_key, self._config.cooldown_minutes],
            ).fetchone()
            if repeated is not None:
                return None
            row = cursor.execute(
                "INSERT INTO alerts (source, severity, message, data_json, dedupe_key)"
                f" VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                [source, severity, message, document, dedupe_key],
            ).fetchone()
        alert = _alert(row)
        self._events.record("alert", source, f"{severity}: {message}")
        if self._sinks:
            self._start_sender()
            self._outbox.put(alert)
        return alert

    def all(self, include_acknowledged: bool = False, limit: int = 100) -> list[Alert]:
        check_limit(limit)
        where = "" if include_acknowledged else " WHERE status = 'open'"
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {_COLUMNS} FROM alerts{where} ORDER BY id DESC LIMIT ?", [max(1, min(limit, 10_000))]
            ).fetchall()
        return [_alert(row) for row in rows]

    def acknowledge(self, alert_id: int) -> Alert:
        with self._db.transaction() as cursor:
            row = cursor.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if row is None:
                raise InvalidInput(f"no alert {alert_id}; `mlops alerts list` shows the open ones")
            if row[7] != "open":
                raise InvalidInput(f"alert {alert_id} is already acknowledged")
            updated = cursor.execute(
                "UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = ?"
                f" WHERE id = ? RETURNING {_COLUMNS}",
                [getpass.getuser(), alert_id],
            ).fetchone()
        acknowledged = _alert(updated)
        self._events.record("alert", acknowledged.source, f"alert {alert_id} acknowledged")
        return acknowledged

    def deliveries(self, alert_id: int) -> list[tuple[str, int, bool, str | None]]:
        """Each attempt to deliver the alert: (sink, attempt, ok, error)."""
        with self._db.cursor() as cursor:
            return [
                (str(sink), int(attempt), bool(ok), error)
                for sink, attempt, ok, error in cursor.execute(
                    "SELECT sink, attempt, ok, error FROM alert_deliveries WHERE alert_id = ?"
                    " ORDER BY attempted_at, sink, attempt",
                    [alert_id],
                ).fetchall()
            ]

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until every alert raised so far has been delivered or given up on (at once when
        none was handed to a sink)."""
        with self._lock:
            if self._sender is None:
                return True
        reached = threading.Event()
        self._start_sender()
        self._outbox.put(reached)
        return reached.wait(timeout)

    def _start_sender(self) -> None:
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_all, name="mlops-alerts", daemon=True)
                self._sender.start()

    def _send_all(self) -> None:
        while True:
            alert = self._outbox.get()
            if isinstance(alert, threading.Event):
                alert.set()
                continue
            for name, sink in self._sinks.items():
                self._deliver(alert, name, sink)

    def _deliver(self, alert: Alert, name: str, sink: Sink) -> None:
        wait = self._config.retry_seconds
        for attempt in range(1, max(1, self._config.attempts) + 1):
            try:
                sink(alert)
            except Exception as error:  # a sink's failure is recorded, never raised to a monitor
                self._record(alert.id, name, attempt, False, f"{type(error).__name__}: {error}"[:500])
                if attempt < self._config.attempts:
                    time.sleep(wait)  # back-off before the next attempt
                    wait *= 2
                continue
            self._record(alert.id, name, attempt, True, None)
            return

    def _record(self, alert_id: int, sink: str, attempt: int, ok: bool, error: str | None) -> None:
        try:
            with self._db.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO alert_deliveries (alert_id, sink, attempt, ok, error)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [alert_id, sink, attempt, ok, error],
                )
        except Exception:  # the workspace is closing: the delivery itself happened or not
            return


def _sinks(config: AlertsConfig, mlops_dir: Path) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {}
    if config.log_file:
        path = mlops_dir / config.log_file

        def to_file(alert: Alert) -> None:
            with path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(alert.to_dict(), default=str) + "\n")

        sinks["log_file"] = to_file
    if config.stdout:

        def to_stdout(alert: Alert) -> None:
            sys.stdout.write(f"ALERT {alert.id} [{alert.severity}] {alert.source}: {alert.message}\n")
            sys.stdout.flush()

        sinks["stdout"] = to_stdout
    if config.webhook_url:
        url = config.webhook_url

        def to_webhook(alert: Alert) -> None:
            text = f"[{alert.severity}] {alert.source}: {alert.message} (alert {alert.id})"
            request = urllib.request.Request(
                url,
                data=json.dumps({"text": text}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=WEBHOOK_SECONDS) as answer:
                answer.read()

        sinks["webhook"] = to_webhook
    return sinks


_COLUMNS = (
    "id, raised_at, source, severity, message, data_json, repeats, status, acknowledged_at, acknowledged_by,"
    " last_seen_at"
)


def _alert(row: Any) -> Alert:
    (alert_id, raised, source, severity, message, data, repeats, status, acknowledged, by, seen) = row
    return Alert(
        int(alert_id),
        _when(raised),
        source,
        severity,
        message,
        json.loads(data),
        int(repeats),
        status,
        _when(acknowledged) if acknowledged is not None else None,
        by,
        _when(seen),
    )


def _when(value: datetime) -> str:
    return value.isoformat(timespec="seconds")
