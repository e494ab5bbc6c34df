"""Evaluation: a run or a registered alias scored on labelled rows, as `mlops eval` does it.

The stored evaluations are listed; the selected one shows its metrics, confusion matrix,
business impact, ROC and precision-recall curves, calibration, and a fairness table per
sensitive attribute with violations in red. ``e`` evaluates something new in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from console.choices import dataset_columns, model_references
from console.messages import EvaluationFinished, FormChoicesLoaded, WorkProgressed
from console.screens.base import ConsoleScreen
from console.widgets.curve_plot import braille_plot
from console.widgets.dialogs import Field, FormDialog
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import show_rows
from console.workers import blocking_work
from engine.facade import Facade
from engine.formatting import number
from engine.types.evaluation import AttributeFairness, Evaluation
from engine.types.workspace import WorkspaceStatus

SHOWN_EVALUATIONS = 50
PLOT_WIDTH, PLOT_HEIGHT = 36, 9  # the widest a plot is drawn, and its height (in cells)
MIN_PLOT_WIDTH = 16
PLOT_MARGIN = 5  # the y axis's labels and line left of a plot
METRICS_GAP = 4  # between the metrics and the confusion matrix where they stand side by side

RUNS_OFFERED = 100  # the newest runs the evaluate form completes, after the models


class EvaluationScreen(ConsoleScreen):
    MODE: ClassVar[str] = "evaluation"
    TITLE: ClassVar[str] = "Evaluation"
    CSS_PATH = "evaluation.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("e", "evaluate", "Evaluate run or alias"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._evaluations: list[Evaluation] | None = None  # None until the first refresh
        self.selected_evaluation: int | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="evaluation-body"):
            with Vertical(classes="panel", id="evaluations-panel"):
                yield Static("Evaluations (e evaluates a run or MODEL@ALIAS)", classes="panel-title")
                yield FilterableTable(id="evaluations", placeholder="filter by subject or dataset…")
            yield Static("", id="evaluate-status")
            with VerticalScroll(classes="panel", id="report-panel"):
                yield Static("", id="report-title", classes="panel-title")
                with Horizontal(id="report-upper", classes="panes"):
                    yield Static("", id="report-metrics")
                    with Horizontal(id="report-charts"):
                        yield Static("", id="report-curves")
                        yield Static("", id="report-calibration")
                yield Static("", id="report-fairness")

    def on_mount(self) -> None:
        self.query_one("#evaluations", FilterableTable).table.add_columns(
            "id", "subject", "data", "rows", "f1", "roc_auc", "cheapest cost", "violations", "when"
        )

    # -- the list -------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> list[Evaluation]:
        return engine.evaluation.recent(SHOWN_EVALUATIONS, self.filters.get("evaluations", ""))

    def show_live_data(self, status: WorkspaceStatus, evaluations: list[Evaluation]) -> None:
        if self._evaluations is not None and [e.id for e in evaluations] == [e.id for e in self._evaluations]:
            return
        self._evaluations = evaluations
        ids = [item.id for item in evaluations]
        show_rows(
            self.query_one("#evaluations", FilterableTable).table,
            [(str(item.id), _evaluation_row(item)) for item in evaluations],
            select=str(self.selected_evaluation) if self.selected_evaluation in ids else None,
        )
        self._show_selected()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and event.data_table.parent is self.query_one("#evaluations"):
            self.selected_evaluation = int(event.row_key.value)
            self._show_selected()

    def _show_selected(self) -> None:
        evaluations = self._evaluations or []
        found = {item.id: item for item in evaluations}
        if self.selected_evaluation not in found:
            self.selected_evaluation = evaluations[0].id if evaluations else None
        item = found.get(self.selected_evaluation) if self.selected_evaluation else None
        if item is None:
            self.query_one("#report-title", Static).update("No evaluation yet: press e to evaluate a run")
            for part in ("metrics", "curves", "calibration", "fairness"):
                self.query_one(f"#report-{part}", Static).update("")
            return
        skipped = f", {item.unlabelled_rows:,} unlabelled skipped" if item.unlabelled_rows else ""
        self.query_one("#report-title", Static).update(
            Text(f"{item.subject} on {item.dataset}: {item.scope}, {item.rows:,} rows{skipped}")
        )
        self.query_one("#report-metrics", Static).update(Metrics(item))
        self.query_one("#report-curves", Static).update(Curves(item))
        self.query_one("#report-calibration", Static).update(Calibration(item))
        self.query_one("#report-fairness", Static).update(Group(*(_fairness(f) for f in item.fairness)))

    # -- evaluating -----------------------------------------------------------------------------

    def action_evaluate(self) -> None:
        self._load_choices()

    @blocking_work("evaluate")
    def _load_choices(self) -> None:
        engine = self.engine
        runs = tuple(dict.fromkeys(run.run_name for run in engine.runs.search(limit=RUNS_OFFERED)))
        self.post_message(
            FormChoicesLoaded(
                "evaluate", dataset_columns(engine), {"subjects": model_references(engine) + runs}
            )
        )

    def on_form_choices_loaded(self, message: FormChoicesLoaded) -> None:
        """The evaluate form, once the models, runs and datasets to offer are known."""
        subjects = message.choices["subjects"]
        if not subjects:
            self.app.notify("Nothing to evaluate yet: train a run first (Experiments, n)", severity="warning")
            return
        fields = [
            Field(
                "subject",
                "Run (id, prefix or name) or MODEL@ALIAS (→ completes)",
                value=subjects[0],
                choices=subjects,
                typed=True,
            ),
            Field(
                "dataset",
                "Labelled dataset (optional; none: the held-out rows)",
                choices=tuple(message.datasets),
                required=False,
            ),
        ]
        self.app.push_screen(FormDialog("Evaluate", fields, "Evaluate"), self._start)

    def _start(self, values: dict[str, str] | None) -> None:
        if values is not None:
            self.notify(f"evaluating {values['subject']}…")
            self._evaluate(values["subject"], values["dataset"] or None)

    @blocking_work("evaluate")
    def _evaluate(self, subject: str, dataset: str | None) -> None:
        self.post_message(
            EvaluationFinished(
                self.engine.evaluation.evaluate(subject, dataset, progress=self.report_progress)
            )
        )

    def on_work_progressed(self, message: WorkProgressed) -> None:
        status = self.query_one("#evaluate-status", Static)
        status.update(Text(f"evaluating: {message.stage}", style="yellow"))
        status.display = True

    def on_evaluation_finished(self, message: EvaluationFinished) -> None:
        evaluation = message.evaluation
        self.query_one("#evaluate-status", Static).display = False
        self.selected_evaluation = evaluation.id
        self._evaluations = None  # show the list and the new report afresh, whatever loaded before
        violations = len(evaluation.violations)
        self.app.notify(
            f"{evaluation.subject}: f1 {evaluation.scores.metrics['f1']:.4f}, "
            f"{violations} fairness violations",
            title="Evaluated",
            severity="warning" if violations else "information",
        )
        self.refresh_now()

    def worker_failed(self, worker: Any) -> None:
        super().worker_failed(worker)
        if worker.group == "evaluate":
            self.query_one("#evaluate-status", Static).display = False


def _evaluation_row(item: Evaluation) -> list[Any]:
    metrics = item.scores.metrics
    violations = len(item.violations)
    return [
        str(item.id),
        item.subject,
        item.dataset,
        f"{item.rows:,}",
        number(metrics["f1"]),
        number(metrics["roc_auc"]),
        f"{item.scores.business.cost_at_cheapest:,.0f}",
        Text(str(violations), style="bold red" if violations else "green"),
        item.created_at.strftime("%Y-%m-%d %H:%M"),
    ]


class Metrics:
    """The metrics, then the confusion matrix and the business impact: under each other in the
    side pane; the metrics beside the other two where the pane spans a narrow terminal."""

    def __init__(self, item: Evaluation) -> None:
        self.item = item

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        metrics, confusion, business = _metric_tables(self.item)
        right = Group(confusion, Text(""), business)
        beside = Measurement.get(console, options, metrics).maximum + METRICS_GAP
        if beside + Measurement.get(console, options, right).maximum <= options.max_width:
            grid = Table.grid(padding=(0, METRICS_GAP, 0, 0))
            grid.add_row(metrics, right)
            yield grid
        else:
            yield Group(metrics, Text(""), right)


def _metric_tables(item: Evaluation) -> tuple[Table, Table, Table]:
    metrics = Table("metric", "value", box=None, padding=(0, 1), header_style="bold")
    for name, value in item.scores.metrics.items():
        metrics.add_row(name, number(value))
    c = item.scores.confusion
    confusion = Table("", "pred 0", "pred 1", box=None, padding=(0, 1), header_style="bold")
    confusion.add_row("true 0", f"{c.tn:,}", f"{c.fp:,}")
    confusion.add_row("true 1", f"{c.fn:,}", f"{c.tp:,}")
    b = item.scores.business
    business = Table("business impact", "", box=None, padding=(0, 1), header_style="bold")
    business.add_row("cost at 0.5", f"{b.cost_at_0_5:,.0f}")
    business.add_row(
        f"cost at {item.scores.cheapest_threshold.threshold:.2f} (cheapest)", f"{b.cost_at_cheapest:,.0f}"
    )
    business.add_row("acting on nobody", f"{b.cost_acting_on_nobody:,.0f}")
    business.add_row("acting on everybody", f"{b.cost_acting_on_everybody:,.0f}")
    business.add_row("savings", Text(f"{b.savings_vs_best_baseline:,.0f}", style="green"))
    business.add_row(
        f"best f1 at {item.scores.best_f1_threshold.threshold:.2f}", number(item.scores.best_f1_threshold.f1)
    )
    return metrics, confusion, business


class Curves:
    """ROC and precision-recall curves, one above the other, drawn as wide as their pane allows."""

    def __init__(self, item: Evaluation) -> None:
        self.item = item

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        scores = self.item.scores
        width = _plot_width(options.max_width)
        roc = [(fpr, tpr) for fpr, tpr, _ in scores.roc]
        pr = [(recall, precision) for recall, precision, _ in scores.pr]
        yield Text(f"ROC (AUC {scores.metrics['roc_auc']:.3f})", style="bold")
        yield braille_plot([([(0, 0), (1, 1)], "dim"), (roc, "cyan")], width, PLOT_HEIGHT, "FPR", "TPR")
        yield Text(f"Precision-recall (AP {scores.metrics['pr_auc']:.3f})", style="bold")
        yield braille_plot([(pr, "magenta")], width, PLOT_HEIGHT, "recall", "precision")


class Calibration:
    """The calibration curve, drawn as wide as its pane allows, and its bins as a table."""

    def __init__(self, item: Evaluation) -> None:
        self.item = item

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        scores = self.item.scores
        filled = [row for row in scores.calibration if row.count]
        points = [(row.mean_predicted, row.observed_rate) for row in filled]
        table = Table("predicted", "rows", "observed", box=None, padding=(0, 1), header_style="bold")
        for row in filled:
            table.add_row(f"{row.low:.1f}-{row.high:.1f}", f"{row.count:,}", number(row.observed_rate))
        yield Text(f"Calibration (Brier {scores.metrics['brier']:.3f})", style="bold")
        yield braille_plot(
            [([(0, 0), (1, 1)], "dim"), (points, "yellow")],
            _plot_width(options.max_width),
            PLOT_HEIGHT,
            "predicted",
            "observed",
        )
        yield table


def _plot_width(room: int) -> int:
    """A plot's width in cells to fit ``room`` with its axis: never wider than ``PLOT_WIDTH``,
    never so narrow it cannot be read."""
    return max(MIN_PLOT_WIDTH, min(PLOT_WIDTH, room - PLOT_MARGIN))


def _fairness(item: AttributeFairness) -> Group:
    table = Table(
        item.attribute,
        "rows",
        "positive rate",
        "TPR",
        "FPR",
        "precision",
        box=None,
        padding=(0, 2),
        header_style="bold",
    )
    for group in item.groups:
        table.add_row(
            Text(
                group.group + (" (too small)" if group.too_small else ""),
                style="dim" if group.too_small else "",
            ),
            f"{group.rows:,}",
            number(group.positive_rate),
            number(group.tpr),
            number(group.fpr),
            number(group.precision),
        )
    if not item.judged:
        summary = Text("  fewer than two groups large enough to judge", style="dim")
    else:
        summary = Text(
            f"  parity ratio {number(item.demographic_parity_ratio)}   parity difference "
            f"{number(item.demographic_parity_difference)}   equal opportunity difference "
            f"{number(item.equal_opportunity_difference)}   equalised odds difference "
            f"{number(item.equalized_odds_difference)}"
        )
    lines = [Text(f"  ✗ {violation}", style="bold red") for violation in item.violations]
    if item.judged and not item.violations:
        lines = [Text("  ✓ within bounds", style="green")]
    return Group(table, summary, *lines, Text(""))
