"""``engine.monitors``: what the scheduled jobs do, each callable once (``mlops monitor run``).

- drift: each deployment's live traffic of the last ``drift_window`` against its primary
  model's training data (``model:`` the primary's reference); a dataset drift or a prediction
  drift is an alert (``drift:ENDPOINT``, warning), and every check is kept (``drift_checks``);
- accuracy: each deployment's newest window of labelled traffic against its models'
  evaluations (engine/monitoring/accuracy.py), alerts raised;
- validation: dataset versions waiting for their dataset's required suite get validated;
- retention: prediction-log rows older than ``log_retention_days`` are deleted (and job runs).

A dataset drift and a metric below its floor are also the automatic loop's triggers (loop.py).

Each returns a one-line summary of what it found, which the job run keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from engine.config import MonitorsConfig
from engine.data.quality import DataQuality
from engine.db import Database
from engine.identifiers import check_limit
from engine.monitoring.accuracy import METRICS, LiveAccuracy
from engine.monitoring.alerts import Alerts
from engine.monitoring.drift import Drift
from engine.monitoring.loop import RetrainLoop
from engine.types.monitoring import (
    AccuracyRecord,
    AccuracyReport,
    ColumnDrift,
    DriftCheckRecord,
    ScoreHistogram,
)
from engine.types.serving import ServingPlan


class Monitors:
    def __init__(
        self,
        db: Database,
        plan: Callable[[], ServingPlan],
        drift: Drift,
        accuracy: LiveAccuracy,
        quality: DataQuality,
        alerts: Alerts,
        loop: RetrainLoop,
        config: MonitorsConfig,
    ) -> None:
        self._db = db
        self._plan = plan
        self._drift = drift
        self._accuracy = accuracy
        self._quality = quality
        self._alerts = alerts
        self._loop = loop
        self._config = config

    def run_all(self) -> dict[str, str]:
        """Every monitor once, now: what each found."""
        return {
            "drift": self.drift(),
            "accuracy": self.accuracy(),
            "validation": self.validation(),
            "retention": self.retention(),
        }

    def drift(self) -> str:
        said = []
        for endpoint in self._plan().endpoints:
            primary = endpoint.variants[0]
            report = self._drift.check(
                f"model:{primary.reference}",
                f"live:{endpoint.endpoint}",
                since=self._config.drift_window,
                drift_share=self._config.drift_share,
            )
            with self._db.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO drift_checks (endpoint, reference, current, dataset_drift, share_drifted,"
                    " report_json) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        endpoint.endpoint,
                        report.reference,
                        report.current,
                        report.dataset_drift,
                        report.share_drifted,
                        json.dumps(report.to_dict(), default=str),
                    ],
                )
            drifted = [name for name, column in report.columns.items() if column.drifted]
            prediction = report.prediction is not None and report.prediction.drifted
            if report.dataset_drift or prediction:
                what = []
                if report.dataset_drift:
                    what.append(
                        f"{len(drifted)} of {len(report.columns)} columns drifted ({', '.join(drifted)})"
                    )
                if prediction:
                    what.append("the predictions drifted")
                self._alerts.raise_alert(
                    f"drift:{endpoint.endpoint}",
                    "warning",
                    f"{'; '.join(what)} in the last {self._config.drift_window} against {report.reference}",
                    {"share_drifted": report.share_drifted, "columns": drifted, "prediction": prediction},
                    key=f"drift:{endpoint.endpoint}",
                )
            if report.dataset_drift:
                self._loop.triggered(
                    endpoint.endpoint,
                    "drift",
                    {"said": f"{len(drifted)} of {len(report.columns)} columns drifted",
                     "share_drifted": report.share_drifted, "columns": drifted},
                )  # fmt: skip
            tested = len(report.columns)
            said.append(
                f"{endpoint.endpoint}: {len(drifted)} of {tested} drifted"
                if tested
                else f"{endpoint.endpoint}: no traffic"
            )
        return "; ".join(said) or "no deployments"

    def accuracy(self) -> str:
        said = []
        for endpoint in self._plan().endpoints:
            report = self._accuracy.check(endpoint.endpoint, alert=True)
            self._keep_accuracy(report)
            below = [check for check in report.checks if check.below]
            if below:
                how = "estimated" if below[0].estimated else "realised"
                self._loop.triggered(
                    endpoint.endpoint,
                    "accuracy",
                    {"said": f"{below[0].variant} {below[0].metric} {below[0].value:.3f} {how},"
                             f" below {below[0].floor:.3f}",
                     "checks": [check.metric for check in below]},
                )  # fmt: skip
            for check in report.checks:
                if check.value is None:
                    said.append(f"{endpoint.endpoint}/{check.variant}: no labels")
                else:
                    state = {True: "BELOW", False: "ok", None: "too few labels"}[check.below]
                    said.append(
                        f"{endpoint.endpoint}/{check.variant}: {check.metric} {check.value:.3f} {state}"
                    )
        return "; ".join(said) or "no deployments"

    def _keep_accuracy(self, report: AccuracyReport) -> None:
        """The checked windows' five metrics, realised or estimated, for /metrics and the console."""
        windows = {(w.variant, w.window_end): w for w in report.windows}
        rows = []
        for check in report.checks:
            window = windows.get((check.variant, check.window_end or ""))
            if window is None:
                continue
            figures = [window.value(metric, check.estimated) for metric in METRICS]
            rows.append(
                [report.endpoint, check.variant, check.model, check.version, check.estimated,
                 window.window_end, check.labelled, *figures, check.metric, check.baseline, check.floor]
            )  # fmt: skip
        if rows:
            with self._db.transaction() as cursor:
                cursor.executemany(
                    "INSERT INTO accuracy_checks (endpoint, variant, model, version, estimated, window_end,"
                    ' "rows", accuracy, "precision", recall, f1, roc_auc, metric, baseline, floor)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

    def drift_checks(self, endpoint: str | None = None, limit: int = 20) -> list[DriftCheckRecord]:
        """The newest scheduled drift checks first, of one endpoint or all."""
        check_limit(limit)
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT checked_at, endpoint, reference, current, dataset_drift, share_drifted, report_json"
                " FROM drift_checks WHERE ? IS NULL OR endpoint = ? ORDER BY checked_at DESC LIMIT ?",
                [endpoint, endpoint, limit],
            ).fetchall()
        return [_drift_record(*row) for row in rows]

    def accuracy_checks(self, endpoint: str | None = None, limit: int = 100) -> list[AccuracyRecord]:
        """The newest scheduled accuracy figures first (one row per variant, realised or estimated)."""
        check_limit(limit)
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                'SELECT checked_at, endpoint, variant, model, version, estimated, window_end, "rows",'
                ' accuracy, "precision", recall, f1, roc_auc, metric, baseline, floor FROM accuracy_checks'
                " WHERE ? IS NULL OR endpoint = ? ORDER BY checked_at DESC LIMIT ?",
                [endpoint, endpoint, limit],
            ).fetchall()
        return [AccuracyRecord(row[0].isoformat(timespec="seconds"), *row[1:]) for row in rows]

    def validation(self) -> str:
        reports = self._quality.validate_waiting()
        failed = [report for report in reports if not report.success]
        return f"{len(reports)} version(s) validated, {len(failed)} failed" if reports else "nothing waiting"

    def retention(self) -> str:
        with self._db.transaction() as cursor:
            deleted = cursor.execute(
                "DELETE FROM prediction_log WHERE logged_at < now() - to_days(CAST(? AS INTEGER))",
                [round(self._config.log_retention_days)],
            ).fetchone()
            cursor.execute(
                "DELETE FROM prediction_labels l WHERE NOT EXISTS (SELECT 1 FROM prediction_log p"
                ' WHERE p.request_id = l.request_id AND p."row" = l."row")'
            )
            cursor.execute(  # the jobs' own records age out with the log
                "DELETE FROM job_runs WHERE started_at < now() - to_days(CAST(? AS INTEGER))",
                [round(self._config.log_retention_days)],
            )
        removed = int(deleted[0]) if deleted else 0
        return f"{removed:,} prediction-log rows older than {self._config.log_retention_days:g} days deleted"


def _drift_record(
    checked_at: datetime,
    endpoint: str,
    reference: str,
    current: str,
    dataset_drift: bool,
    share: float,
    report_json: str,
) -> DriftCheckRecord:
    report = json.loads(report_json)
    columns = {name: ColumnDrift(**column) for name, column in report.get("columns", {}).items()}
    if report.get("prediction"):
        columns["(prediction)"] = ColumnDrift(**report["prediction"])
    return DriftCheckRecord(
        checked_at.isoformat(timespec="seconds"),
        endpoint,
        reference,
        current,
        dataset_drift,
        share,
        columns,
        dict(report.get("skipped", {})),
        ScoreHistogram(**report["scores"]) if report.get("scores") else None,
    )
