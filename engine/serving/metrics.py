"""Prometheus metrics of the serving processes, summed over all of them at ``/metrics``.

prometheus_client's multi-process mode: each serving process writes its values to files in
one folder (``PROMETHEUS_MULTIPROC_DIR``, set by the owner before it starts them, emptied at
every start), and ``/metrics`` in any process reads them all. The names follow Prometheus'
conventions (``_total`` counters, ``_seconds`` durations).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from engine.serving.model import Prediction

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
SCORE_BUCKETS = tuple(step / 10 for step in range(1, 11))

REQUESTS = Counter("mlops_requests", "Prediction requests answered", ["endpoint", "protocol", "status"])
LATENCY = Histogram(
    "mlops_request_seconds", "Time to answer a prediction request", ["endpoint"], buckets=LATENCY_BUCKETS
)
IN_FLIGHT = Gauge(
    "mlops_requests_in_flight", "Prediction requests being answered", multiprocess_mode="livesum"
)
SCORES = Histogram(
    "mlops_prediction_score",
    "Positive-class probability of each prediction",
    ["endpoint"],
    buckets=SCORE_BUCKETS,
)


def observed(
    endpoint: str, protocol: str, status: int, seconds: float, predictions: list[Prediction]
) -> None:
    REQUESTS.labels(endpoint, protocol, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)
    scores = SCORES.labels(endpoint)
    for prediction in predictions:
        scores.observe(prediction.score)


def exposition() -> bytes:
    """Every serving process's values, summed (read from the multi-process folder); this
    process's alone where there is no such folder (the server run in-process, by a test)."""
    if not os.environ.get(MULTIPROCESS_FOLDER):
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
