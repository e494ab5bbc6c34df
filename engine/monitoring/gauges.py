"""``engine.gauges``: what the monitors found, as Prometheus metrics, so that a real Prometheus
scraping the inference server's ``/metrics`` sees what the console shows.

The serving processes never open the workspace (engine/serving), so on each scrape they ask
the owner for this text and put it after their own metrics. Everything here is read from the
workspace's tables: the newest drift check per endpoint (``drift_checks``), the newest accuracy
figures per endpoint and variant, realised and estimated (``accuracy_checks``), the open alerts,
the scheduled jobs' runs and the automatic loop's turns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from engine.db import Database

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc")


class Gauges:
    def __init__(self, db: Database) -> None:
        self._db = db

    def exposition(self) -> str:
        """The monitors' metrics in Prometheus' text format (version 0.0.4)."""
        from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry()
        registry.register(_Collector(self._db))
        return generate_latest(registry).decode()


class _Collector:
    """Reads the tables on each collection (a scrape), one query per table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Any]:
        with self._db.cursor() as cursor:
            drift = cursor.execute(
                "SELECT endpoint, epoch(checked_at), dataset_drift, share_drifted, report_json"
                " FROM drift_checks"
                " QUALIFY row_number() OVER (PARTITION BY endpoint ORDER BY checked_at DESC) = 1"
            ).fetchall()
            accuracy = cursor.execute(
                'SELECT endpoint, variant, estimated, accuracy, "precision", recall, f1, roc_auc'
                " FROM accuracy_checks QUALIFY row_number() OVER"
                " (PARTITION BY endpoint, variant, estimated ORDER BY checked_at DESC) = 1"
            ).fetchall()
            alerts = cursor.execute(
                "SELECT severity, count(*) FROM alerts WHERE status = 'open' GROUP BY ALL"
            ).fetchall()
            jobs = cursor.execute(
                "SELECT job, status, count(*), max(epoch(started_at)),"
                " arg_max(epoch(finished_at) - epoch(started_at), started_at)"
                " FROM job_runs WHERE status <> 'running' GROUP BY ALL"
            ).fetchall()
            last_jobs = cursor.execute(
                "SELECT job, status FROM job_runs WHERE status <> 'running'"
                " QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1"
            ).fetchall()
            loops = cursor.execute("SELECT outcome, count(*) FROM loop_runs GROUP BY ALL").fetchall()
        yield from _drift(drift)
        yield from _accuracy(accuracy)
        yield from _alerts(alerts)
        yield from _jobs(jobs, last_jobs)
        yield _family(
            "mlops_loop_runs",
            "Turns of the automatic retrain loop by outcome",
            ["outcome"],
            loops,
            counter=True,
        )


def _family(
    name: str, documentation: str, labels: list[str], rows: Iterable[Iterable[Any]], counter: bool = False
) -> Any:
    """A metric family from (label values..., value) rows."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    family = (CounterMetricFamily if counter else GaugeMetricFamily)(name, documentation, labels=labels)
    for row in rows:
        *values, value = row
        family.add_metric([str(v) for v in values], float(value))
    return family


def _drift(checks: list[tuple[Any, ...]]) -> Iterator[Any]:
    statistics, drifted, shares, datasets, times = [], [], [], [], []
    for endpoint, checked, dataset_drift, share, report_json in checks:
        report = json.loads(report_json)
        for column, result in report.get("columns", {}).items():
            statistics.append((endpoint, column, result["method"], result["statistic"]))
            drifted.append((endpoint, column, int(result["drifted"])))
        prediction = report.get("prediction")
        if prediction:
            statistics.append((endpoint, "(prediction)", prediction["method"], prediction["statistic"]))
            drifted.append((endpoint, "(prediction)", int(prediction["drifted"])))
        shares.append((endpoint, share))
        datasets.append((endpoint, int(dataset_drift)))
        times.append((endpoint, checked))
    yield _family(
        "mlops_drift_statistic",
        "The newest drift check's statistic per column (a p value for ks, chisquare and z, else a distance)",
        ["endpoint", "column", "method"],
        statistics,
    )
    yield _family(
        "mlops_drift_column_drifted",
        "1 where the newest check found a column drifted",
        ["endpoint", "column"],
        drifted,
    )
    yield _family(
        "mlops_dataset_drift_share",
        "Share of the columns tested that drifted",
        ["endpoint"],
        shares,
    )
    yield _family("mlops_dataset_drift", "1 where the newest check found drift", ["endpoint"], datasets)
    yield _family(
        "mlops_drift_checked_timestamp_seconds", "When the newest drift check ran", ["endpoint"], times
    )


def _accuracy(rows: list[tuple[Any, ...]]) -> Iterator[Any]:
    figures = []
    for endpoint, variant, estimated, *values in rows:
        for metric, value in zip(METRIC_NAMES, values, strict=True):
            if value is not None:
                source = "estimated" if estimated else "realised"
                figures.append((endpoint, variant, metric, source, value))
    yield _family(
        "mlops_live_performance",
        "The newest accuracy check per endpoint and variant: realised from late labels, or estimated (CBPE)",
        ["endpoint", "variant", "metric", "source"],
        figures,
    )


def _alerts(rows: list[tuple[Any, ...]]) -> Iterator[Any]:
    found = dict(rows)
    yield _family(
        "mlops_alerts_open",
        "Alerts not acknowledged yet, by severity",
        ["severity"],
        [(severity, found.get(severity, 0)) for severity in ("info", "warning", "critical")],
    )


def _jobs(rows: list[tuple[Any, ...]], last: list[tuple[Any, ...]]) -> Iterator[Any]:
    yield _family(
        "mlops_job_runs",
        "Finished runs of each scheduled job by status",
        ["job", "status"],
        [(job, status, count) for job, status, count, _, _ in rows],
        counter=True,
    )
    newest: dict[str, tuple[float, float]] = {}
    for job, _, _, started, seconds in rows:
        if job not in newest or started > newest[job][0]:
            newest[job] = (started, seconds or 0.0)
    yield _family(
        "mlops_job_last_run_timestamp_seconds",
        "When each job last started (runs that finished)",
        ["job"],
        [(job, started) for job, (started, _) in newest.items()],
    )
    yield _family(
        "mlops_job_last_duration_seconds",
        "How long each job's newest finished run took",
        ["job"],
        [(job, seconds) for job, (_, seconds) in newest.items()],
    )
    yield _family(
        "mlops_job_last_success",
        "1 where each job's newest finished run succeeded",
        ["job"],
        [(job, int(status == "ok")) for job, status in last],
    )
