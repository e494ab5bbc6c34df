"""Monitoring: the live drift panel, live accuracy (realised and estimated) and the alert feed.

The drift panel shows the newest scheduled check of the endpoint chosen (``e`` cycles through
the endpoints checked): per feature its method, statistic, threshold and verdict, and a
sparkline of the statistic over the past checks; the title says the dataset-drift share. The
accuracy panel shows, per variant, the newest realised and estimated figures with the f1
sparkline over past checks. ``c`` runs the drift monitor now, ``h`` writes Evidently's own
HTML report of the same comparison and says where, ``a`` acknowledges the alert under the
cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from console.messages import AlertAcknowledged, DriftChecked, DriftReportWritten
from console.screens.base import WorkScreen
from console.widgets.filter_table import FilterableTable
from console.widgets.sparkline import sparkline
from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.facade import Facade
from engine.formatting import number
from engine.types.monitoring import AccuracyRecord, Alert, DriftCheckRecord
from engine.types.workspace import WorkspaceStatus

CHECKS_SHOWN = 20
ACCURACY_ROWS = 200
ALERTS_SHOWN = 200
SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


@dataclass(frozen=True)
class MonitoringData:
    endpoints: list[str]
    endpoint: str | None
    checks: list[DriftCheckRecord]  # of ``endpoint``, newest first
    accuracy: list[AccuracyRecord]  # of ``endpoint``, newest first
    alerts: list[Alert]


class MonitoringScreen(WorkScreen):
    WORK_GROUPS: ClassVar[frozenset[str]] = frozenset({"monitoring"})
    MODE: ClassVar[str] = "monitoring"
    TITLE: ClassVar[str] = "Monitoring"
    CSS_PATH = "monitoring.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("a", "acknowledge", "Acknowledge alert"),
        Binding("c", "check_drift", "Check drift now"),
        Binding("h", "html_report", "Evidently report"),
        Binding("e", "next_endpoint", "Next endpoint"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.endpoint: str | None = None
        self._data: MonitoringData | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="monitoring-body"):
            with Horizontal(id="monitoring-upper", classes="panes"):
                with Vertical(classes="panel", id="drift-panel"):
                    yield Static("Drift", id="drift-title", classes="panel-title")
                    yield DataTable(id="drift", cursor_type="row", zebra_stripes=True)
                with Vertical(classes="panel", id="accuracy-panel"):
                    yield Static("Live accuracy", id="accuracy-title", classes="panel-title")
                    yield DataTable(id="accuracy", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="panel", id="alerts-panel"):
                yield Static("Open alerts", classes="panel-title")
                yield FilterableTable(id="alerts", placeholder="filter alerts (source, severity, message)…")
            yield WorkPanel(id="monitoring-work", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#drift", DataTable).add_columns(
            "column", "method", "statistic", "threshold", "drift", "past checks"
        )
        self.query_one("#accuracy", DataTable).add_columns(
            "variant", "source", "rows", "accuracy", "f1", "roc_auc", "f1 over checks"
        )
        self.query_one("#alerts", FilterableTable).table.add_columns(
            "id", "raised", "severity", "source", "message", "repeats"
        )

    # -- live data ------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> MonitoringData:
        endpoints = sorted(
            {d.endpoint for d in engine.deployments.all()}
            | {c.endpoint for c in engine.monitors.drift_checks()}
        )
        endpoint = self.endpoint if self.endpoint in endpoints else (endpoints[0] if endpoints else None)
        wanted = self.filters.get("alerts", "").lower()
        alerts = [
            alert
            for alert in engine.alerts.all(False, ALERTS_SHOWN)
            if wanted in f"{alert.source} {alert.severity} {alert.message}".lower()
        ]
        if endpoint is None:
            return MonitoringData([], None, [], [], alerts)
        return MonitoringData(
            endpoints,
            endpoint,
            engine.monitors.drift_checks(endpoint, CHECKS_SHOWN),
            engine.monitors.accuracy_checks(endpoint, ACCURACY_ROWS),
            alerts,
        )

    def show_live_data(self, status: WorkspaceStatus, data: MonitoringData) -> None:
        if data == self._data:
            return
        self._data = data
        self.endpoint = data.endpoint
        self._show_drift(data)
        self._show_accuracy(data)
        show_rows(
            self.query_one("#alerts", FilterableTable).table,
            [(str(alert.id), _alert_row(alert)) for alert in data.alerts],
        )

    def _show_drift(self, data: MonitoringData) -> None:
        newest = data.checks[0] if data.checks else None
        title = self.query_one("#drift-title", Static)
        if newest is None:
            title.update(
                Text(f"Drift of {data.endpoint}: no check yet (c checks now)")
                if data.endpoint
                else "Drift: nothing deployed yet (`mlops deploy`)"
            )
        else:
            verdict = "DATASET DRIFT" if newest.dataset_drift else "no dataset drift"
            title.update(
                Text.assemble(
                    f"Drift of {newest.endpoint} at {newest.checked_at[:16].replace('T', ' ')}: ",
                    (
                        f"{newest.share_drifted:.0%} of columns, {verdict}",
                        "bold red" if newest.dataset_drift else "green",
                    ),
                    f"  ({len(data.endpoints)} endpoint(s), e for next)" if len(data.endpoints) > 1 else "",
                )
            )
        history = list(reversed(data.checks))
        rows = []
        for name, column in newest.columns.items() if newest else []:
            past = [check.columns[name].statistic if name in check.columns else None for check in history]
            rows.append(
                (
                    name,
                    [
                        name,
                        column.method,
                        number(column.statistic),
                        number(column.threshold),
                        Text("DRIFT", style="bold red") if column.drifted else Text("ok", style="green"),
                        sparkline(past),
                    ],
                )
            )
        for name, reason in newest.skipped.items() if newest else []:
            rows.append((name, [name, "", "", "", Text("skipped", style="dim"), reason]))
        show_rows(self.query_one("#drift", DataTable), rows)

    def _show_accuracy(self, data: MonitoringData) -> None:
        newest: dict[tuple[str, bool], AccuracyRecord] = {}
        for record in data.accuracy:
            newest.setdefault((record.variant, record.estimated), record)
        rows = []
        for (variant, estimated), record in sorted(newest.items()):
            past = [r.f1 for r in reversed(data.accuracy) if (r.variant, r.estimated) == (variant, estimated)]
            rows.append(
                (
                    f"{variant}:{estimated}",
                    [
                        variant,
                        "estimated" if estimated else "realised",
                        f"{record.rows:,}",
                        number(record.accuracy),
                        number(record.f1),
                        number(record.roc_auc),
                        sparkline(past),
                    ],
                )
            )
        self.query_one("#accuracy-title", Static).update(
            "Live accuracy (the accuracy job's checks)" if rows else "Live accuracy: no accuracy check yet"
        )
        show_rows(self.query_one("#accuracy", DataTable), rows)

    # -- actions --------------------------------------------------------------------------------

    def action_next_endpoint(self) -> None:
        endpoints = self._data.endpoints if self._data else []
        if len(endpoints) > 1 and self.endpoint in endpoints:
            self.endpoint = endpoints[(endpoints.index(self.endpoint) + 1) % len(endpoints)]
            self.refresh_now()

    def action_acknowledge(self) -> None:
        key = selected_key(self.query_one("#alerts", FilterableTable).table)
        if key is None:
            self.app.notify("No alert selected", severity="warning")
            return
        self._acknowledge(int(key))

    @blocking_work("monitoring")
    def _acknowledge(self, alert_id: int) -> None:
        self.post_message(AlertAcknowledged(self.engine.alerts.acknowledge(alert_id)))

    def on_alert_acknowledged(self, message: AlertAcknowledged) -> None:
        self.app.notify(f"alert {message.alert.id}: {message.alert.message}", title="Alert acknowledged")
        self.refresh_now()

    def action_check_drift(self) -> None:
        self.work_panel.start("checking every deployment's live traffic for drift")
        self._check_drift()

    @blocking_work("monitoring")
    def _check_drift(self) -> None:
        self.post_message(DriftChecked(self.engine.monitors.drift()))

    def on_drift_checked(self, message: DriftChecked) -> None:
        self.work_panel.succeeded(message.summary)
        self.refresh_now()

    def action_html_report(self) -> None:
        newest = self._data.checks[0] if self._data and self._data.checks else None
        if newest is None:
            self.app.notify("No drift check to report on yet (c checks now)", severity="warning")
            return
        path = Path(self.host.workspace_label) / "reports" / f"drift-{newest.endpoint}.html"
        self.work_panel.start(f"writing Evidently's report of {newest.current} to {path}")
        self._html(newest, str(path))

    @blocking_work("monitoring")
    def _html(self, check: DriftCheckRecord, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        current, _, window = check.current.partition(" (last ")
        report = self.engine.drift.check(
            check.reference.split(" ")[0], current, since=window.rstrip(")") or None, html=path
        )
        self.post_message(DriftReportWritten(report.html or path))

    def on_drift_report_written(self, message: DriftReportWritten) -> None:
        self.work_panel.succeeded(f"Evidently's report written to {message.path}")
        self.app.notify(message.path, title="Drift report written")


def _alert_row(alert: Alert) -> list[object]:
    return [
        str(alert.id),
        alert.raised_at[:16].replace("T", " "),
        Text(alert.severity, style=SEVERITY_STYLES.get(alert.severity, "")),
        alert.source,
        alert.message,
        str(alert.repeats),
    ]
