"""``engine.traffic``: a dataset's rows replayed as prediction requests, so demos and monitors
have live traffic.

Each row becomes one KServe V1 request to the workspace's running server (only its own: the
requests carry the workspace's default token, which no other server should see), with the
model's features as the instance and two headers the prediction log keeps: ``X-Event-Time``,
the row's own timestamp (so the sample's production weeks replay as weeks, and late labels
meet their predictions), and ``X-Entity``, the row's entity key (``customer_id=42``: labels
join by it, an A/B test splits by it).

Requests go out at ``rate`` per second on a schedule (request i at start + i/rate), from a few
threads each holding one keep-alive connection; a slow server lowers the rate kept, which the
report says, instead of piling requests up. Rows are read from DuckDB a page at a time.

``stop(endpoint)`` ends the replays to an endpoint early, from any thread (the console's stop
key, forwarded to the owner running the replay when the console is attached): requests not
yet sent are dropped, and the report says how many were.
"""

from __future__ import annotations

import http.client
import json
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from engine.data.datasets import Datasets
from engine.errors import InvalidInput
from engine.types.progress import Progress, no_progress
from engine.types.serving import TrafficReport

PAGE_ROWS = 2_000
SENDERS = 4
TIMEOUT_SECONDS = 10.0


class Traffic:
    def __init__(
        self,
        datasets: Datasets,
        server_url: Callable[[], str | None],
        wait_served: Callable[[], bool],
        token: Callable[[], str],
        entity_keys: Callable[[], set[str]],
    ) -> None:
        self._datasets = datasets
        self._server_url = server_url
        self._wait_served = wait_served
        self._token = token
        self._entity_keys = entity_keys
        self._running: dict[str, list[threading.Event]] = {}  # each replay's stop, by endpoint
        self._registering = threading.Lock()

    def stop(self, endpoint: str) -> int:
        """Stop every replay running to ``endpoint``; how many were stopped."""
        with self._registering:
            stops = list(self._running.get(endpoint, []))
        if not stops:
            raise InvalidInput(f"no replay is running to {endpoint!r}")
        for stopping in stops:
            stopping.set()
        return len(stops)

    def _register(self, endpoint: str) -> threading.Event:
        stopping = threading.Event()
        with self._registering:
            self._running.setdefault(endpoint, []).append(stopping)
        return stopping

    def _unregister(self, endpoint: str, stopping: threading.Event) -> None:
        with self._registering:
            self._running[endpoint].remove(stopping)
            if not self._running[endpoint]:
                del self._running[endpoint]

    def replay(
        self,
        endpoint: str,
        dataset: str,
        rate: float,
        duration: float | None = None,
        *,
        entity: str | None = None,
        time_column: str | None = None,
        progress: Progress | None = None,
    ) -> TrafficReport:
        """Send ``dataset``'s rows to ``endpoint`` at ``rate`` requests a second, for ``duration``
        seconds at most (None: until the rows run out)."""
        if not (math.isfinite(rate) and rate > 0):
            raise InvalidInput(f"--rate {rate:g}: expected a number of requests per second above 0")
        if duration is not None and not (math.isfinite(duration) and duration > 0):
            raise InvalidInput(f"--duration {duration:g}: expected seconds above 0")
        target = self._server_url()
        if target is None:
            raise InvalidInput(
                "no inference server runs in this workspace: start one (`mlops serve`, or "
                "`mlops server start` beside `mlops up` or the console)"
            )
        self._wait_served()  # every serving process serves the newest deployments (else some 404)
        version = self._datasets.resolve(dataset)
        columns, first_rows = self._datasets.head(version.ref, 0, PAGE_ROWS)
        features = self._features(target, endpoint)
        missing = [feature for feature in features if feature not in columns]
        if missing:
            raise InvalidInput(
                f"{dataset} has no column {', '.join(missing)}, which {endpoint} takes; "
                f"it has {', '.join(columns)}"
            )
        entity_column = self._entity_column(columns, entity, dataset)
        time_at = _time_column(version.schema, time_column, dataset)
        total = version.row_count if duration is None else min(version.row_count, math.ceil(rate * duration))
        report = progress or no_progress
        path = f"/v1/models/{endpoint}:predict"
        positions = [columns.index(feature) for feature in features]
        entity_at = columns.index(entity_column) if entity_column else None
        work: queue.Queue[tuple[float, bytes, dict[str, str]] | None] = queue.Queue(maxsize=PAGE_ROWS)
        statuses: Counter[str] = Counter()
        errors: list[str] = []
        counting = threading.Lock()
        headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
        stopping = self._register(endpoint)

        def send() -> None:
            connection = _connection(target)
            while (item := work.get()) is not None:
                due, body, extra = item
                wait = due - time.monotonic()
                if wait > 0:
                    stopping.wait(wait)  # keeping the schedule: the request's time has not come
                if stopping.is_set():
                    continue  # stopped: what is queued is dropped
                try:
                    connection.request("POST", path, body, {**headers, **extra})
                    answer = connection.getresponse()
                    answer.read()
                    outcome = str(answer.status)
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    connection = _connection(target)
                    outcome = "failed"
                    with counting:
                        errors.append(f"{type(error).__name__}: {error}")
                with counting:
                    statuses[outcome] += 1
            connection.close()

        senders = [
            threading.Thread(target=send, name=f"mlops-traffic-{i}", daemon=True) for i in range(SENDERS)
        ]
        started = time.monotonic()
        queued = 0
        try:
            for sender in senders:
                sender.start()
            offset, rows = 0, first_rows
            while rows and queued < total and not stopping.is_set():
                for row in rows[: total - queued]:
                    if stopping.is_set():
                        break
                    instance = {
                        feature: _json_value(row[at]) for feature, at in zip(features, positions, strict=True)
                    }
                    extra = {}
                    if time_at is not None and row[time_at] is not None:
                        extra["X-Event-Time"] = _iso(row[time_at])
                    if entity_at is not None and row[entity_at] is not None:
                        extra["X-Entity"] = f"{entity_column}={_json_value(row[entity_at])}"
                    work.put((started + queued / rate, json.dumps({"instances": [instance]}).encode(), extra))
                    queued += 1
                    if queued % 100 == 0:
                        report(f"{queued:,} of {total:,} requests to {endpoint}", queued / total)
                offset += len(rows)
                rows = self._datasets.head(version.ref, offset, PAGE_ROWS)[1] if queued < total else []
        finally:
            for _ in senders:
                work.put(None)
            for sender in senders:
                if sender.ident is not None:  # started
                    sender.join()
            self._unregister(endpoint, stopping)
        seconds = time.monotonic() - started
        sent = sum(statuses.values())  # a stopped replay drops what it had queued
        report(f"{sent:,} requests to {endpoint}" + (", stopped" if stopping.is_set() else ""), 1.0)
        failed = statuses.pop("failed", 0)
        return TrafficReport(
            endpoint,
            version.ref,
            sent,
            dict(sorted(statuses.items())),
            failed,
            seconds,
            sent / seconds if seconds > 0 else 0.0,
            errors[0] if errors else None,
            stopping.is_set(),
        )

    def send(self, endpoint: str, instance: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One V1 request of one instance to ``endpoint`` on this workspace's server (the
        console's test request): the status and the answer, as a client would get them."""
        target = self._server_url()
        if target is None:
            raise InvalidInput("no inference server runs in this workspace: start one first")
        connection = _connection(target)
        headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
        try:
            body = json.dumps({"instances": [instance]})
            connection.request("POST", f"/v1/models/{endpoint}:predict", body, headers)
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise InvalidInput(f"cannot reach the inference server at {target}: {error}") from None
        finally:
            connection.close()

    def _features(self, target: str, endpoint: str) -> list[str]:
        """The endpoint's features, as the server says (its V1 metadata)."""
        status, body = self._metadata(target, endpoint)
        if status != 200:
            raise InvalidInput(f"{target}: {body.get('error', f'status {status}')}")
        return [str(feature["name"]) for feature in body["features"]]

    def _metadata(self, target: str, endpoint: str) -> tuple[int, dict[str, Any]]:
        connection = _connection(target)
        try:
            authorization = {"Authorization": f"Bearer {self._token()}"}
            connection.request("GET", f"/v1/models/{endpoint}", headers=authorization)
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise InvalidInput(f"cannot reach the inference server at {target}: {error}") from None
        finally:
            connection.close()

    def _entity_column(self, columns: list[str], entity: str | None, dataset: str) -> str | None:
        if entity is not None:
            if entity not in columns:
                raise InvalidInput(
                    f"--entity {entity}: {dataset} has no such column; it has {', '.join(columns)}"
                )
            return entity
        known = [column for column in columns if column in self._entity_keys()]
        return known[0] if len(known) == 1 else None


def _time_column(schema: list[tuple[str, str]], chosen: str | None, dataset: str) -> int | None:
    """The column whose values are each row's time: ``chosen``, else the one timestamp column."""
    columns = [name for name, _ in schema]
    if chosen is not None:
        if chosen not in columns:
            raise InvalidInput(f"--time {chosen}: {dataset} has no such column; it has {', '.join(columns)}")
        return columns.index(chosen)
    timed = [i for i, (_, kind) in enumerate(schema) if kind.upper().startswith(("TIMESTAMP", "DATE"))]
    return timed[0] if len(timed) == 1 else None


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT_SECONDS)


def _json_value(value: Any) -> Any:
    """A DuckDB value as JSON takes it (a decimal as a float, a time as ISO text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return None if isinstance(value, float) and not math.isfinite(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)
