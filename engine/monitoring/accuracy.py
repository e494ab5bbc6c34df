"""``engine.accuracy``: how an endpoint's models score on live traffic once late labels arrive
(the seed's ModelMonitor, done properly).

The prediction log joined with its labels (engine/serving/labels.py) is cut into windows of
event time (``window``, e.g. 7 days) counted back from the newest labelled event, so a replayed
week is a week whatever day it is replayed on. Each variant's labelled predictions in each
window get accuracy, precision, recall and f1 (the served label against the truth, the
model's positive class as positive) and ROC AUC (its logged score; where both classes occur).

The newest window of each variant is checked against its model's own evaluation on its
held-out rows (the newest stored one; evaluated once if there is none): when the window holds
at least ``min_labelled`` labelled predictions and its metric is below the evaluation's minus
``tolerance``, that is an alert (when the caller asks for alerts: the scheduled monitors do,
`mlops accuracy` only reads).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from engine.config import AccuracyConfig
from engine.db import Database
from engine.errors import InvalidInput
from engine.monitoring.alerts import Alerts
from engine.monitoring.sources import seconds
from engine.serving.labels import label_text_sql
from engine.types.monitoring import AccuracyCheck, AccuracyReport, WindowMetrics
from engine.types.serving import ServedEndpoint

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")

# The endpoint's variants as served now (None: not deployed).
Served = Callable[[str], ServedEndpoint | None]
# A model version's positive class and its evaluation's value of a metric.
ModelFigures = Callable[[str, int, str], tuple[str | None, float | None]]


class LiveAccuracy:
    def __init__(
        self, db: Database, served: Served, figures: ModelFigures, alerts: Alerts, config: AccuracyConfig
    ) -> None:
        self._db = db
        self._served = served
        self._figures = figures
        self._alerts = alerts
        self._config = config

    def check(
        self, endpoint: str, window: str | None = None, metric: str | None = None, alert: bool = False
    ) -> AccuracyReport:
        """Every window of the endpoint's labelled traffic, and each variant's newest one checked
        against its evaluation (an alert raised where it falls short, if ``alert``)."""
        window = window or self._config.window
        metric = metric or self._config.metric
        if metric not in METRICS:
            raise InvalidInput(f"--metric {metric}: expected one of {', '.join(METRICS)}")
        served = self._served(endpoint)
        if served is None:
            raise InvalidInput(f"no deployment named {endpoint!r}; `mlops deploy list` shows them")
        length = seconds(window)
        windows: list[WindowMetrics] = []
        checks: list[AccuracyCheck] = []
        for variant in served.variants:
            positive, baseline = self._figures(variant.model, variant.version, metric)
            rows = self._labelled(endpoint, variant.role, variant.model, variant.version, length)
            measured = _windows(variant.role, variant.model, variant.version, rows, positive, length)
            windows.extend(measured)
            newest = measured[-1] if measured else None
            checks.append(
                self._checked(
                    endpoint,
                    variant.role,
                    variant.model,
                    variant.version,
                    metric,
                    newest,
                    baseline,
                    window,
                    alert,
                )
            )
        windows.sort(key=lambda item: (item.window_start, item.variant))
        return AccuracyReport(endpoint, window, windows, checks)

    def _labelled(
        self, endpoint: str, variant: str, model: str, version: int, length: int
    ) -> list[tuple[Any, ...]]:
        """(window number back from the newest labelled event, start, predicted, truth, score)."""
        with self._db.cursor() as cursor:
            return cursor.execute(
                "WITH labelled AS ("
                f" SELECT p.event_time, {label_text_sql('p.label')} AS predicted,"
                f" {label_text_sql('l.label')} AS truth, p.score"
                " FROM prediction_log p JOIN prediction_labels l"
                ' ON l.request_id = p.request_id AND l."row" = p."row"'
                " WHERE p.endpoint = ? AND p.variant = ? AND p.model = ? AND p.version = ?"
                " AND p.status = 200),"
                " newest AS (SELECT max(event_time) AS at FROM labelled)"
                " SELECT CAST(floor(epoch(newest.at - event_time) / ?) AS BIGINT) AS back, newest.at,"
                " predicted, truth, score FROM labelled, newest ORDER BY back DESC",
                [endpoint, variant, model, version, length],
            ).fetchall()

    def _checked(
        self,
        endpoint: str,
        variant: str,
        model: str,
        version: int,
        metric: str,
        newest: WindowMetrics | None,
        baseline: float | None,
        window: str,
        alert: bool,
    ) -> AccuracyCheck:
        value = None if newest is None else getattr(newest, metric)
        labelled = 0 if newest is None else newest.labelled
        floor = None if baseline is None else baseline - self._config.tolerance
        below = None
        if value is not None and floor is not None and labelled >= self._config.min_labelled:
            below = value < floor
        alert_id = None
        if alert and below:
            raised = self._alerts.raise_alert(
                f"accuracy:{endpoint}",
                "critical",
                f"{variant} ({model} v{version}) {metric} {value:.3f} over the newest {window} of labelled "
                f"traffic, below {floor:.3f} (its evaluation {baseline:.3f} - {self._config.tolerance:g})",
                {"variant": variant, "model": model, "version": version, "metric": metric, "value": value,
                 "baseline": baseline, "labelled": labelled},
                key=f"accuracy:{endpoint}:{variant}:{metric}",
            )  # fmt: skip
            alert_id = None if raised is None else raised.id
        return AccuracyCheck(
            variant, model, version, metric, value, baseline, floor, labelled, below, alert_id
        )


def _windows(
    variant: str, model: str, version: int, rows: list[tuple[Any, ...]], positive: str | None, length: int
) -> list[WindowMetrics]:
    """Each window's metrics, oldest first."""
    import numpy as np
    from sklearn import metrics

    by_window: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_window.setdefault(int(row[0]), []).append(row)
    measured = []
    for back in sorted(by_window, reverse=True):
        chunk = by_window[back]
        newest: datetime = chunk[0][1]
        end = newest - timedelta(seconds=back * length)
        start = end - timedelta(seconds=length)
        predicted = np.array([row[2] for row in chunk], dtype=object)
        truth = np.array([row[3] for row in chunk], dtype=object)
        chosen = positive if positive is not None else sorted(set(truth.tolist()))[-1]
        is_true, said = truth == chosen, predicted == chosen
        scores = np.array([row[4] for row in chunk], dtype=float)
        both = bool(is_true.any()) and not bool(is_true.all())
        measured.append(
            WindowMetrics(
                variant,
                model,
                version,
                start.isoformat(timespec="seconds"),
                end.isoformat(timespec="seconds"),
                len(chunk),
                float(np.mean(predicted == truth)),
                float(metrics.precision_score(is_true, said, zero_division=0)),
                float(metrics.recall_score(is_true, said, zero_division=0)),
                float(metrics.f1_score(is_true, said, zero_division=0)),
                float(metrics.roc_auc_score(is_true, scores)) if both else None,
            )
        )
    return measured
