"""``engine.accuracy``: how an endpoint's models score on live traffic: realised once late labels
arrive (the seed's ModelMonitor, done properly), and estimated from the scores before they do
(estimation.py, NannyML's CBPE).

The prediction log, joined with its labels (engine/serving/labels.py) where they have come, is
cut into windows of event time (``window``, e.g. 7 days) counted back from the endpoint's
newest prediction, so a replayed week is a week whatever day it is replayed on. Each variant's
predictions in each window get accuracy, precision, recall and f1 (the served label against the
truth, the model's positive class as positive) and ROC AUC (its logged score; where both
classes occur) over the labelled ones, and the same five estimated over all of them.

Each variant is checked against its model's own evaluation on its held-out rows (the newest
stored one; evaluated once if there is none), twice: the realised metric of the newest window
with at least ``min_labelled`` labels, and the estimate of the newest window once it holds that
many predictions. Either below the evaluation's minus ``tolerance`` is an alert (when the caller
asks for alerts: the scheduled monitors do, `mlops accuracy` only reads); an estimate's alert
says it is estimated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.config import AccuracyConfig
from engine.db import Database
from engine.errors import InvalidInput
from engine.monitoring.alerts import Alerts
from engine.monitoring.estimation import Calibration, calibration, estimate
from engine.monitoring.sources import seconds
from engine.serving.labels import label_text_sql
from engine.types.monitoring import AccuracyCheck, AccuracyReport, WindowMetrics
from engine.types.serving import ServedEndpoint

if TYPE_CHECKING:
    import numpy as np

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")

# The endpoint's variants as served now (None: not deployed).
Served = Callable[[str], ServedEndpoint | None]
# A model version's positive class and its evaluation's value of a metric.
ModelFigures = Callable[[str, int, str], tuple[str | None, float | None]]
# A model version's held-out rows as it scores them: truth (1: positive) and probabilities.
HoldoutScores = Callable[[str, int], tuple["np.ndarray", "np.ndarray"]]


class LiveAccuracy:
    def __init__(
        self,
        db: Database,
        served: Served,
        figures: ModelFigures,
        holdout: HoldoutScores,
        alerts: Alerts,
        config: AccuracyConfig,
    ) -> None:
        self._db = db
        self._served = served
        self._figures = figures
        self._holdout = holdout
        self._alerts = alerts
        self._config = config
        self._calibrations: dict[tuple[str, int], Calibration | None] = {}

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
            rows = self._predictions(endpoint, variant.role, variant.model, variant.version, length)
            calibrated = self._calibration(variant.model, variant.version)
            measured = _windows(
                variant.role, variant.model, variant.version, rows, positive, length, calibrated
            )
            windows.extend(measured)
            enough = [w for w in measured if w.labelled >= self._config.min_labelled]
            labelled = enough or [w for w in measured if w.labelled]
            subject = (
                endpoint,
                variant.role,
                variant.model,
                variant.version,
                metric,
                baseline,
                window,
                alert,
            )
            checks.append(self._checked(*subject, labelled[-1] if labelled else None, estimated=False))
            if calibrated is not None:
                checks.append(self._checked(*subject, measured[-1] if measured else None, estimated=True))
        windows.sort(key=lambda item: (item.window_start, item.variant))
        return AccuracyReport(endpoint, window, windows, checks)

    def _calibration(self, model: str, version: int) -> Calibration | None:
        """The model version's CBPE calibration, fitted once on its held-out rows; None when it
        has none to fit on (trained outside mlops, or no labelled held-out rows)."""
        key = (model, version)
        if key not in self._calibrations:
            try:
                truth, scores = self._holdout(model, version)
            except InvalidInput:
                self._calibrations[key] = None
            else:
                self._calibrations[key] = calibration(truth, scores)
        return self._calibrations[key]

    def _predictions(
        self, endpoint: str, variant: str, model: str, version: int, length: int
    ) -> dict[str, Any]:
        """Each answered prediction: its window (counted back from the endpoint's newest
        prediction), the window's end, the label answered, the truth (None until it lands) and
        the score; as columns, oldest window first."""
        with self._db.cursor() as cursor:
            return cursor.execute(
                "WITH newest AS (SELECT max(event_time) AS at FROM prediction_log"
                " WHERE endpoint = ? AND status = 200)"
                " SELECT CAST(floor(epoch(newest.at - p.event_time) / ?) AS BIGINT) AS back,"
                " newest.at AS newest,"
                f" {label_text_sql('p.label')} AS predicted, {label_text_sql('l.label')} AS truth, p.score"
                " FROM prediction_log p CROSS JOIN newest LEFT JOIN prediction_labels l"
                ' ON l.request_id = p.request_id AND l."row" = p."row"'
                " WHERE p.endpoint = ? AND p.variant = ? AND p.model = ? AND p.version = ?"
                ' AND p.status = 200 AND p."row" IS NOT NULL AND p.score IS NOT NULL'
                " ORDER BY back DESC",
                [endpoint, length, endpoint, variant, model, version],
            ).fetchnumpy()

    def _checked(
        self,
        endpoint: str,
        variant: str,
        model: str,
        version: int,
        metric: str,
        baseline: float | None,
        window: str,
        alert: bool,
        chosen: WindowMetrics | None,
        estimated: bool,
    ) -> AccuracyCheck:
        value = None if chosen is None else chosen.value(metric, estimated)
        rows = 0 if chosen is None else chosen.predictions if estimated else chosen.labelled
        floor = None if baseline is None else baseline - self._config.tolerance
        below = None
        if value is not None and floor is not None and rows >= self._config.min_labelled:
            below = value < floor
        alert_id = None
        if alert and below:
            assert chosen is not None and value is not None and floor is not None and baseline is not None
            how = "estimated (CBPE) from the scores of the" if estimated else "over the labelled"
            raised = self._alerts.raise_alert(
                f"accuracy:{endpoint}",
                "warning" if estimated else "critical",
                f"{variant} ({model} v{version}) {metric} {value:.3f} {how} predictions of"
                f" {chosen.window_start[:10]}..{chosen.window_end[:10]}, below {floor:.3f}"
                f" (its evaluation {baseline:.3f} - {self._config.tolerance:g})",
                {"variant": variant, "model": model, "version": version, "metric": metric, "value": value,
                 "baseline": baseline, "rows": rows, "estimated": estimated,
                 "window_end": chosen.window_end},
                key=f"accuracy:{endpoint}:{variant}:{metric}" + (":estimated" if estimated else ""),
            )  # fmt: skip
            alert_id = None if raised is None else raised.id
        return AccuracyCheck(
            variant,
            model,
            version,
            metric,
            value,
            baseline,
            floor,
            rows,
            below,
            alert_id,
            estimated,
            None if chosen is None else chosen.window_end,
        )


def _windows(
    variant: str,
    model: str,
    version: int,
    rows: dict[str, Any],
    positive: str | None,
    length: int,
    calibrated: Calibration | None,
) -> list[WindowMetrics]:
    """Each window's realised and estimated metrics, oldest first."""
    import numpy as np
    from sklearn import metrics

    measured = []
    backs = np.asarray(rows["back"])
    for back in np.unique(backs)[::-1]:
        inside = backs == back
        newest: datetime = rows["newest"][0]
        end = newest - timedelta(seconds=int(back) * length)
        start = end - timedelta(seconds=length)
        predicted = _texts(rows["predicted"][inside])
        truth = _texts(rows["truth"][inside])
        scores = np.asarray(rows["score"][inside], dtype=float)
        known = np.array([value is not None for value in truth], dtype=bool)
        chosen = positive if positive is not None else max(set(truth[known].tolist()), default=None)
        realised: list[float | None] = [None] * 5
        if known.any():
            is_true, said = truth[known] == chosen, predicted[known] == chosen
            both = bool(is_true.any()) and not bool(is_true.all())
            realised = [
                float(np.mean(predicted[known] == truth[known])),
                float(metrics.precision_score(is_true, said, zero_division=0)),
                float(metrics.recall_score(is_true, said, zero_division=0)),
                float(metrics.f1_score(is_true, said, zero_division=0)),
                float(metrics.roc_auc_score(is_true, scores[known])) if both else None,
            ]
        expected = None
        if calibrated is not None and chosen is not None:
            expected = estimate(predicted == chosen, scores, calibrated)
        measured.append(
            WindowMetrics(
                variant,
                model,
                version,
                start.isoformat(timespec="seconds"),
                end.isoformat(timespec="seconds"),
                len(predicted),
                int(known.sum()),
                realised[0],
                realised[1],
                realised[2],
                realised[3],
                realised[4],
                expected,
            )
        )
    return measured


def _texts(column: Any) -> np.ndarray:
    """A text column as fetched (a masked array where it has nulls) as objects, None for null."""
    import numpy as np

    values = np.array(getattr(column, "data", column), dtype=object)
    values[np.ma.getmaskarray(column)] = None
    return values
