"""Monitoring: the live drift panel, live accuracy (realised and estimated) and the alert feed.

The drift panel shows the newest scheduled check of the endpoint chosen (``e`` cycles through
the endpoints checked): per feature its method, statistic, threshold and verdict, and a
sparkline of the statistic over the past checks; the title says the dataset-drift share. Beside
it, the model's scores on its reference data against the live window's, bin by bin (the check's
prediction drift). The accuracy panel shows, per variant, the newest realised and estimated
figures, and a chart of the checked metric per window over time against the model's evaluation
and the alert line. ``c`` runs the drift monitor now, ``h`` writes Evidently's own
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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, Static

from console.messages import AlertAcknowledged, DriftChecked, DriftReportWritten
from console.screens.base import WorkScreen
from console.widgets.curve_plot import braille_plot
from console.widgets.filter_table import FilterableTable
from console.widgets.score_bars import paired_bars
from console.widgets.sparkline import sparkline
from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.facade import Facade
from engine.formatting import number
from engine.types.monitoring import AccuracyRecord, Alert, DriftCheckRecord
from engine.types.workspace import WorkspaceStatus

CHECKS_SHOWN = 20
SCORE_BAR_ROWS = 6
CHART_ROWS = 4
CHART_MIN_WIDTH = 20
CHART_MARGIN = 6  # the y axis's labels and line
CHART_PAD = 0.02  # above and below the values drawn, so a line at the edge stays visible
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
        with VerticalScroll(id="monitoring-body"):
            with Horizontal(id="monitoring-upper", classes="panes"):
                with Vertical(classes="panel", id="drift-panel"):
                    yield Static("Drift", id="drift-title", classes="panel-title")
                    yield DataTable(id="drift", cursor_type="row", zebra_stripes=True)
                with Vertical(classes="panel", id="scores-panel"):
                    yield Static("Scores, reference against live", classes="panel-title")
                    yield Static(id="scores")
            with Horizontal(id="monitoring-lower", classes="panes"):
                with Vertical(classes="panel", id="accuracy-panel"):
                    yield Static("Live accuracy", id="accuracy-title", classes="panel-title")
                    yield DataTable(id="accuracy", cursor_type="row", zebra_stripes=True)
                    yield AccuracyChart(id="accuracy-chart")
                with Vertical(classes="panel", id="alerts-panel"):
                    yield Static("Open alerts", classes="panel-title")
                    yield FilterableTable(
                        id="alerts", placeholder="filter alerts (source, severity, message)…"
                    )
            yield WorkPanel(id="monitoring-work", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#drift", DataTable).add_columns(
            "column", "method", "statistic", "threshold", "drift", "past checks"
        )
        self.query_one("#accuracy", DataTable).add_columns(
            "variant", "source", "rows", "accuracy", "f1", "roc_auc"
        )
        self.query_one("#alerts", FilterableTable).table.add_columns(
            "id", "severity", "message", "source", "raised", "repeats"
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
        self._show_scores(data)
        self._show_accuracy(data)
        self.query_one(AccuracyChart).records = data.accuracy
        show_rows(
            self.query_one("#alerts", FilterableTable).table,
            [(str(alert.id), _alert_row(alert)) for alert in data.alerts],
            feed=True,
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
                    ],
                )
            )
        self.query_one("#accuracy-title", Static).update(
            "Live accuracy (the accuracy job's checks)" if rows else "Live accuracy: no accuracy check yet"
        )
        show_rows(self.query_one("#accuracy", DataTable), rows)

    def _show_scores(self, data: MonitoringData) -> None:
        newest = data.checks[0] if data.checks else None
        scores = self.query_one("#scores", Static)
        if newest is None or newest.scores is None:
            scores.update(
                Text("no scores yet: a drift check of a model's live traffic draws them", style="dim")
            )
            return
        drift = newest.columns.get("(prediction)")
        verdict = (
            Text(" (no test)", style="dim")
            if drift is None
            else Text(f" {drift.method} {number(drift.statistic)}: ")
            + (Text("DRIFT", style="bold red") if drift.drifted else Text("ok", style="green"))
        )
        scores.update(
            Text.assemble(
                paired_bars(newest.scores.reference, newest.scores.current, SCORE_BAR_ROWS),
                "\n",
                f"{newest.scores.reference_rows:,} reference rows, {newest.scores.current_rows:,} live;",
                verdict,
            )
        )

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
        Text(alert.severity, style=SEVERITY_STYLES.get(alert.severity, "")),
        alert.message,
        alert.source,
        alert.raised_at[:16].replace("T", " "),
        str(alert.repeats),
    ]


class AccuracyChart(Widget):
    """The accuracy chart, drawn at render time to the width it has (so a resize redraws it)."""

    records: reactive[list[AccuracyRecord]] = reactive(list, layout=True)

    def render(self) -> Text:
        return accuracy_chart(self.records, max(CHART_MIN_WIDTH, self.size.width - CHART_MARGIN), CHART_ROWS)


def accuracy_chart(records: list[AccuracyRecord], width: int, height: int) -> Text:
    """The first variant's checked metric per window over time, realised and estimated, against
    its evaluation and the alert line (the newest check's); each window's newest check counts."""
    newest = next((record for record in records if record.metric is not None), None)
    if newest is None or newest.metric is None:
        return Text("no accuracy check yet: the accuracy job draws it once labels land", style="dim")
    metric, variant = newest.metric, newest.variant
    series: dict[bool, dict[str, float]] = {False: {}, True: {}}
    for record in reversed(records):  # oldest first: a window's newest check is written last
        value = getattr(record, metric)
        if record.variant == variant and record.metric == metric and value is not None:
            series[record.estimated][record.window_end] = value
    windows = sorted(set(series[False]) | set(series[True]))
    if not windows:
        return Text(f"{variant}: no {metric} measured yet", style="dim")
    lines = [value for value in (newest.baseline, newest.floor) if value is not None]
    values = [*series[False].values(), *series[True].values(), *lines]
    low, high = max(0.0, min(values) - CHART_PAD), min(1.0, max(values) + CHART_PAD)
    span = max(high - low, 1e-9)
    place = {window: index / max(1, len(windows) - 1) for index, window in enumerate(windows)}

    def points(by_window: dict[str, float]) -> list[tuple[float, float]]:
        found = [(place[window], (value - low) / span) for window, value in sorted(by_window.items())]
        return found * 2 if len(found) == 1 else found  # one window: a dot

    def level(value: float) -> list[tuple[float, float]]:
        return [(0.0, (value - low) / span), (1.0, (value - low) / span)]

    drawn = [(points(series[estimated]), style) for estimated, style in ((True, "magenta"), (False, "cyan"))]
    legend = Text.assemble(("━", "cyan"), " realised  ", ("━", "magenta"), " estimated (CBPE)\n")
    if newest.baseline is not None:
        drawn.insert(0, (level(newest.baseline), "green"))
        legend.append_text(Text.assemble(("━", "green"), f" evaluation {newest.baseline:.3f}  "))
    if newest.floor is not None:
        drawn.insert(0, (level(newest.floor), "red"))
        legend.append_text(Text.assemble(("━", "red"), f" alert line {newest.floor:.3f}"))
    plot = braille_plot(
        drawn,
        width,
        height,
        "window",
        f"{variant} {metric}",
        (windows[0][5:10], windows[-1][5:10]),
        (f"{high:.2f}", f"{low:.2f}"),
    )
    return Text.assemble(plot, "\n", legend)
