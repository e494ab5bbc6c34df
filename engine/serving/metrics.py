"""Prometheus metrics of the serving processes, summed over all of them at ``/metrics``.

prometheus_client's multi-process mode: each serving process writes its values to files in
one folder (``PROMETHEUS_MULTIPROC_DIR``, set by the owner before it starts them, emptied at
every start), and ``/metrics`` in any process reads them all. The names follow Prometheus'
conventions (``_total`` counters, ``_seconds`` durations).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from engine.serving.routing import Routed

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
SCORE_BUCKETS = tuple(step / 10 for step in range(1, 11))

REQUESTS = Counter(
    "mlops_requests", "Prediction requests answered", ["endpoint", "variant", "protocol", "status"]
)
LATENCY = Histogram(
    "mlops_request_seconds", "Time to answer a prediction request", ["endpoint"], buckets=LATENCY_BUCKETS
)
IN_FLIGHT = Gauge(
    "mlops_requests_in_flight", "Prediction requests being answered", multiprocess_mode="livesum"
)
SCORES = Histogram(
    "mlops_prediction_score",
    "Positive-class probability of each prediction",
    ["endpoint", "variant"],
    buckets=SCORE_BUCKETS,
)
PREDICTIONS_LOGGED = Counter("mlops_predictions_logged", "Prediction-log rows handed to the workspace")
PREDICTIONS_DROPPED = Counter(
    "mlops_predictions_dropped", "Prediction-log rows lost (the workspace's owner could not take them)"
)
NO_VARIANT = "(none)"


def observed(endpoint: str, protocol: str, status: int, seconds: float, routed: Routed | None) -> None:
    """A request answered: counted by the variant that answered it (``a+b`` when an A/B split
    a request's rows), timed, and its scores by variant."""
    if routed is None:
        variant = NO_VARIANT
    elif len(routed.arms) == 1:
        variant = routed.arms[0].role
    else:
        variant = "+".join(sorted({arm.role for arm in routed.arms}))
    _child(REQUESTS, endpoint, variant, protocol, str(status)).inc()
    _child(LATENCY, endpoint).observe(seconds)
    if routed is not None:
        for arm, prediction in zip(routed.arms, routed.predictions, strict=True):
            _child(SCORES, endpoint, arm.role).observe(prediction.score)


_CHILDREN: dict[tuple[object, ...], Any] = {}


def _child(metric: Counter | Histogram, *labels: str) -> Any:
    """``metric.labels(*labels)``, kept: the lookup and its lock cost more than the increment."""
    key = (id(metric), *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


def exposition() -> bytes:
    """Every serving process's values, summed (read from the multi-process folder); this
    process's alone where there is no such folder (the server run in-process, by a test)."""
    if not os.environ.get(MULTIPROCESS_FOLDER):
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
