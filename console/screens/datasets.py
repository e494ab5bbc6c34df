"""Datasets: versions, their profiles and rows (paged from DuckDB), ingest and diff.

The live loop keeps the dataset list and the selected dataset's versions fresh; a selected
version's profile and pages of rows are fetched on demand in their own workers. Rows come
a page at a time (LIMIT/OFFSET in DuckDB), so a 1M-row version costs what one page costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, RichLog, Static, TabbedContent, TabPane

from console.messages import (
    DatasetIngested,
    DiffComputed,
    RowsPageLoaded,
    SuiteRequired,
    VersionDetailsLoaded,
    VersionValidated,
    WorkProgressed,
)
from console.screens.base import ConsoleScreen
from console.screens.dataset_diff import DiffScreen
from console.widgets.dialogs import Field, FormDialog
from console.widgets.filter_table import FilterableTable
from engine.data.datasets import DatasetSummary, DatasetVersion
from engine.data.profile import ColumnProfile
from engine.facade import Engine
from engine.formatting import cell, number, sparkline
from engine.status import WorkspaceStatus

PAGE_SIZE = 50


@dataclass(frozen=True)
class DatasetsData:
    summaries: list[DatasetSummary]
    selected: str | None  # the dataset whose versions are listed
    versions: list[DatasetVersion]


class DatasetsScreen(ConsoleScreen):
    MODE: ClassVar[str] = "datasets"
    TITLE: ClassVar[str] = "Datasets"
    CSS_PATH = "datasets.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("i", "ingest", "Ingest file"),
        Binding("d", "diff", "Diff versions"),
        Binding("v", "validate", "Validate"),
        Binding("R", "require", "Require suite"),
        Binding("left_square_bracket", "page(-1)", "Previous page"),
        Binding("right_square_bracket", "page(1)", "Next page"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected_dataset: str | None = None
        self.selected_version: DatasetVersion | None = None
        self.row_offset = 0
        self._versions: list[DatasetVersion] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="datasets-body"):
            with Vertical(id="catalogue"):
                with Vertical(classes="panel", id="datasets-panel"):
                    yield Static("Datasets", classes="panel-title")
                    yield FilterableTable(id="datasets", placeholder="filter datasets by name…")
                with Vertical(classes="panel", id="versions-panel"):
                    yield Static("Versions", classes="panel-title")
                    yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
            with Vertical(id="details", classes="panel"):
                yield Static("Select a dataset version", id="version-title", classes="panel-title")
                with TabbedContent(id="version-tabs"):
                    with TabPane("Profile", id="profile-tab"):
                        yield DataTable(id="profile", zebra_stripes=True)
                    with TabPane("Rows", id="rows-tab"):
                        yield Static("", id="page-info")
                        yield DataTable(id="rows", zebra_stripes=True)
                    with TabPane("Validation", id="validation-tab"):
                        yield Static("not validated yet: press v", id="validation-summary")
                        yield DataTable(id="validation", zebra_stripes=True)
                with Vertical(id="work"):
                    yield ProgressBar(id="work-progress", total=1.0, show_eta=False)
                    yield RichLog(id="work-log", max_lines=200, wrap=True)

    def on_mount(self) -> None:
        self.query_one("#datasets", FilterableTable).table.add_columns(
            "dataset", "versions", "latest", "rows"
        )
        self.query_one("#versions", DataTable).add_columns("version", "rows", "cols", "status", "created")
        self.query_one("#profile", DataTable).add_columns(
            "column", "type", "nulls", "distinct~", "min", "max", "mean", "top / histogram"
        )
        self.query_one("#validation", DataTable).add_columns(
            "", "expectation", "column", "unexpected", "%", "examples", "ran in"
        )

    # -- live list of datasets and versions -------------------------------------------------

    def load_live_data(self, engine: Engine) -> DatasetsData:
        summaries = engine.datasets.summaries(contains=self.filters.get("datasets", ""))
        names = [summary.name for summary in summaries]
        selected = self.selected_dataset if self.selected_dataset in names else (names[0] if names else None)
        return DatasetsData(summaries, selected, engine.datasets.versions(selected) if selected else [])

    def show_live_data(self, status: WorkspaceStatus, data: DatasetsData) -> None:
        if data.selected != self.selected_dataset:
            self.selected_dataset, self.selected_version = data.selected, None
        table = self.query_one("#datasets", FilterableTable).table
        wanted = [(s.name, s.versions, s.latest.ref, s.latest.row_count) for s in data.summaries]
        shown = [tuple(table.get_row(row.key)) for row in table.ordered_rows]
        if [(n, str(v), r, f"{rows:,}") for n, v, r, rows in wanted] != shown:
            _refill(
                table,
                [[n, str(v), r, f"{rows:,}"] for n, v, r, rows in wanted],
                keys=[w[0] for w in wanted],
                keep=self.selected_dataset,
            )
        if data.versions != self._versions:
            self._versions = data.versions
            versions = self.query_one("#versions", DataTable)
            rows = [
                [
                    v.ref,
                    f"{v.row_count:,}",
                    str(v.column_count),
                    _status_text(v.status),
                    v.created_at.strftime("%Y-%m-%d %H:%M"),
                ]
                for v in reversed(data.versions)
            ]
            _refill(
                versions,
                rows,
                keys=[v.ref for v in reversed(data.versions)],
                keep=self.selected_version.ref if self.selected_version else None,
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None:
            return
        if event.data_table.id == "versions":
            version = next((v for v in self._versions if v.ref == key), None)
            if version is not None and version != self.selected_version:
                self.selected_version = version
                self.row_offset = 0
                self._load_details(version.ref)
        elif (
            event.data_table.parent is self.query_one("#datasets", FilterableTable)
            and key != self.selected_dataset
        ):
            self.selected_dataset = key
            self.selected_version = None
            self.refresh_now()

    # -- one version: profile and rows ------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="version details")
    def _load_details(self, ref: str) -> None:
        engine = self.engine
        version = engine.datasets.resolve(ref)
        profiles = engine.datasets.profile(ref)
        self.post_message(VersionDetailsLoaded(version, profiles, engine.quality.latest_report(ref)))
        columns, rows = engine.datasets.head(ref, 0, PAGE_SIZE)
        self.post_message(RowsPageLoaded(ref, 0, columns, rows))

    def on_version_details_loaded(self, message: VersionDetailsLoaded) -> None:
        version = message.version
        self.query_one("#version-title", Static).update(
            Text.assemble(
                (version.ref, "bold"),
                f"  {version.row_count:,} rows x {version.column_count} columns  ",
                _status_text(version.status),
                f"  hash {version.content_hash[:12]}  from {version.source_path}",
            )
        )
        table = self.query_one("#profile", DataTable)
        table.clear()
        for profile in message.profiles:
            table.add_row(*_profile_row(profile))
        self._show_validation(*(message.validation or (None, None)))

    def _show_validation(self, suite: str | None, report: dict[str, Any] | None) -> None:
        summary = self.query_one("#validation-summary", Static)
        table = self.query_one("#validation", DataTable)
        table.clear()
        if suite is None or report is None:
            summary.update("not validated yet: press v")
            return
        verdict = (
            Text("passed", style="bold green") if report["success"] else Text("failed", style="bold red")
        )
        failed = sum(not result["success"] for result in report["results"])
        summary.update(
            Text.assemble(f"suite {suite}: ", verdict, f"  {failed} of {len(report['results'])} failed")
        )
        for result in report["results"]:
            table.add_row(*_validation_row(result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rows page")
    def _load_page(self, ref: str, offset: int) -> None:
        engine = self.engine
        columns, rows = engine.datasets.head(ref, offset, PAGE_SIZE)
        self.post_message(RowsPageLoaded(ref, offset, columns, rows))

    def on_rows_page_loaded(self, message: RowsPageLoaded) -> None:
        if self.selected_version is None or message.ref != self.selected_version.ref:
            return
        self.row_offset = message.offset
        table = self.query_one("#rows", DataTable)
        table.clear(columns=True)
        table.add_columns(*message.columns)
        for row in message.rows:
            table.add_row(*(cell(value) for value in row))
        total = self.selected_version.row_count
        last = message.offset + len(message.rows)
        self.query_one("#page-info", Static).update(
            f"rows {message.offset + 1:,} to {last:,} of {total:,}   [ previous page   ] next page"
        )

    def action_page(self, step: int) -> None:
        version = self.selected_version
        if version is None:
            return
        offset = self.row_offset + step * PAGE_SIZE
        if 0 <= offset < version.row_count:
            self.query_one("#version-tabs", TabbedContent).active = "rows-tab"
            self._load_page(version.ref, offset)

    # -- ingest --------------------------------------------------------------------------------

    def action_ingest(self) -> None:
        fields = [
            Field("path", "File (.csv or .parquet)", placeholder="sample_data/churn_reference.csv"),
            Field("name", "Dataset name", value=self.selected_dataset or ""),
            Field(
                "schema", "Type overrides (optional)", placeholder="age=INTEGER,zip=VARCHAR", required=False
            ),
        ]
        self.app.push_screen(
            FormDialog("Ingest a file as a new version", fields, "Ingest"), self._start_ingest
        )

    def _start_ingest(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        self.query_one("#work").add_class("-active")
        self.query_one("#work-log", RichLog).write(f"ingesting {values['path']} as {values['name']}")
        self._ingest(values["path"], values["name"], values["schema"] or None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ingest")
    def _ingest(self, path: str, name: str, schema: str | None) -> None:
        engine = self.engine

        self.post_message(
            DatasetIngested(engine.datasets.ingest(path, name, schema, progress=self.report_progress))
        )

    def on_work_progressed(self, message: WorkProgressed) -> None:
        if message.fraction is not None:
            self.query_one("#work-progress", ProgressBar).update(progress=message.fraction)
        log = self.query_one("#work-log", RichLog)
        if log.lines and str(log.lines[-1].text).startswith(message.stage):
            return
        log.write(message.stage)

    def on_dataset_ingested(self, message: DatasetIngested) -> None:
        version = message.result.version
        text = (
            f"created {version.ref}" if message.result.created else f"identical content: {version.ref} kept"
        )
        self.query_one("#work-log", RichLog).write(text)
        self.app.notify(text, title="Ingest finished")
        self.selected_dataset = version.name
        self.selected_version = None
        self.refresh_now()

    def worker_failed(self, worker: Any) -> None:
        super().worker_failed(worker)
        if worker.group == "ingest":
            self.query_one("#work-log", RichLog).write(Text(f"failed: {worker.error}", style="red"))

    # -- validation ---------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self.selected_version is None:
            self.app.notify("Select a dataset version first", severity="warning")
            return
        fields = [Field("suite", "Suite", placeholder="churn_suite")]
        title = f"Validate {self.selected_version.ref} against a stored suite"
        self.app.push_screen(FormDialog(title, fields, "Validate"), self._start_validation)

    def _start_validation(self, values: dict[str, str] | None) -> None:
        if values is not None and self.selected_version is not None:
            self._validate(self.selected_version.ref, values["suite"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate")
    def _validate(self, ref: str, suite: str) -> None:
        engine = self.engine
        report = engine.quality.validate(ref, suite)
        self.post_message(VersionValidated(ref, suite, report.to_dict()))

    def on_version_validated(self, message: VersionValidated) -> None:
        verdict = "passed" if message.report["success"] else "failed"
        self.app.notify(
            f"{message.ref} {verdict} suite {message.suite}",
            title="Validation",
            severity="information" if message.report["success"] else "warning",
        )
        if self.selected_version is not None and self.selected_version.ref == message.ref:
            self._show_validation(message.suite, message.report)
            self.query_one("#version-tabs", TabbedContent).active = "validation-tab"
        self._versions = []
        self.refresh_now()

    def action_require(self) -> None:
        if self.selected_dataset is None:
            return
        fields = [Field("suite", "Suite every new version must pass", placeholder="churn_suite")]
        title = f"Require a suite for {self.selected_dataset}"
        self.app.push_screen(FormDialog(title, fields, "Require"), self._start_require)

    def _start_require(self, values: dict[str, str] | None) -> None:
        if values is not None and self.selected_dataset is not None:
            self._require(self.selected_dataset, values["suite"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="require")
    def _require(self, dataset: str, suite: str) -> None:
        engine = self.engine
        engine.quality.require(dataset, suite)
        self.post_message(SuiteRequired(dataset, suite))

    def on_suite_required(self, message: SuiteRequired) -> None:
        self.app.notify(
            f"new versions of {message.dataset} must pass {message.suite}", title="Suite required"
        )

    # -- diff ----------------------------------------------------------------------------------

    def action_diff(self) -> None:
        version = self.selected_version
        after = version.ref if version else ""
        before = f"{version.name}@v{version.parent_version}" if version and version.parent_version else ""
        fields = [
            Field("before", "Before (NAME@vA)", value=before),
            Field("after", "After (NAME@vB)", value=after),
        ]
        self.app.push_screen(FormDialog("Compare two versions", fields, "Diff"), self._start_diff)

    def _start_diff(self, values: dict[str, str] | None) -> None:
        if values is not None:
            self._diff(values["before"], values["after"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff")
    def _diff(self, before: str, after: str) -> None:
        engine = self.engine
        self.post_message(DiffComputed(engine.datasets.diff(before, after)))

    def on_diff_computed(self, message: DiffComputed) -> None:
        self.app.push_screen(DiffScreen(message.diff))


def _refill(table: DataTable[Any], rows: list[list[Any]], keys: list[str], keep: str | None) -> None:
    """Replace a table's rows, keeping the cursor on the row with key ``keep`` if it is still there."""
    table.clear()
    for key, row in zip(keys, rows, strict=True):
        table.add_row(*row, key=key)
    if keep in keys:
        table.move_cursor(row=keys.index(keep))


def _status_text(status: str) -> Text:
    style = {"passed": "green", "failed": "red", "quarantined": "bold red"}.get(status, "dim")
    return Text(status, style=style)


def _validation_row(result: dict[str, Any]) -> list[Any]:
    mark = Text("✓", style="green") if result["success"] else Text("✗", style="bold red")
    count = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    style = "" if result["success"] else "red"
    return [
        mark,
        Text(result["type"].removeprefix("expect_"), style=style),
        str(result["kwargs"].get("column", "")),
        "" if count is None else f"{count:,}",
        "" if percent is None else f"{percent:.2f}",
        ", ".join(cell(value) for value in result.get("partial_unexpected", [])[:3]),
        result.get("path", ""),
    ]


def _profile_row(profile: ColumnProfile) -> list[Any]:
    nulls = Text(
        f"{profile.null_count:,} ({profile.null_share:.1%})", style="yellow" if profile.null_count else ""
    )
    shape = (
        sparkline([count for _, _, count in profile.histogram])
        if profile.histogram
        else ", ".join(f"{value} ({count:,})" for value, count in profile.top_values[:3])
    )
    return [
        profile.name,
        profile.type,
        nulls,
        f"{profile.approx_distinct:,}",
        number(profile.min),
        number(profile.max),
        number(profile.mean),
        shape,
    ]
