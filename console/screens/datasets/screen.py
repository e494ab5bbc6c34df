"""Datasets: versions, their profiles and rows (paged from DuckDB), ingest, validation and diff.

The live loop keeps the dataset list and the selected dataset's versions fresh; a selected
version's details (``VersionDetails``) and pages of rows are fetched on demand in their own
workers. Rows come a page at a time (LIMIT/OFFSET in DuckDB), so a 1M-row version costs what
one page costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker

from console.messages import (
    DatasetIngested,
    DiffComputed,
    FormChoicesLoaded,
    RowsPageLoaded,
    SuiteRequired,
    VersionDetailsLoaded,
    VersionValidated,
)
from console.screens.base import WorkScreen
from console.screens.datasets.diff import DiffScreen
from console.screens.datasets.version_details import VersionDetails, status_text
from console.widgets.dialogs import Field, FormDialog, absolute_path
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work, showing_work
from engine.facade import Facade
from engine.types.data import DatasetSummary, DatasetVersion
from engine.types.workspace import WorkspaceStatus

PAGE_SIZE = 50

VALIDATE_FORM, REQUIRE_FORM = "validate", "require"  # which form a FormChoicesLoaded is for


@dataclass(frozen=True)
class DatasetsData:
    summaries: list[DatasetSummary]
    selected: str | None  # the dataset whose versions are listed
    versions: list[DatasetVersion]


class DatasetsScreen(WorkScreen):
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
        # The datasets and their versions in a band above the selected version's details, which
        # take the whole width at every size: a profile's eight columns need it.
        with Vertical(id="datasets-body"):
            with Horizontal(id="catalogue"):
                with Vertical(classes="panel", id="datasets-panel"):
                    yield Static("Datasets", classes="panel-title")
                    yield FilterableTable(id="datasets", placeholder="filter datasets by name…")
                with Vertical(classes="panel", id="versions-panel"):
                    yield Static("Versions", classes="panel-title")
                    yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
            with Vertical(id="details", classes="panel"):
                yield VersionDetails(id="version-details")
                yield WorkPanel(id="work")

    def on_mount(self) -> None:
        self.query_one("#datasets", FilterableTable).table.add_columns(
            "dataset", "versions", "latest", "rows"
        )
        self.query_one("#versions", DataTable).add_columns("version", "rows", "cols", "status", "created")

    @property
    def details(self) -> VersionDetails:
        return self.query_one(VersionDetails)

    # -- live list of datasets and versions -------------------------------------------------

    def load_live_data(self, engine: Facade) -> DatasetsData:
        summaries = engine.datasets.summaries(contains=self.filters.get("datasets", ""))
        names = [summary.name for summary in summaries]
        selected = self.selected_dataset if self.selected_dataset in names else (names[0] if names else None)
        return DatasetsData(summaries, selected, engine.datasets.versions(selected) if selected else [])

    def show_live_data(self, status: WorkspaceStatus, data: DatasetsData) -> None:
        if data.selected != self.selected_dataset:
            self.selected_dataset, self.selected_version = data.selected, None
        show_rows(
            self.query_one("#datasets", FilterableTable).table,
            [
                (s.name, [s.name, str(s.versions), s.latest.ref, f"{s.latest.row_count:,}"])
                for s in data.summaries
            ],
            select=self.selected_dataset,
        )
        self._versions = data.versions
        current = {version.ref: version for version in data.versions}
        selected = self.selected_version
        wanted = (
            selected.ref
            if selected and selected.ref in current
            else (data.versions[-1].ref if data.versions else None)
        )
        show_rows(
            self.query_one("#versions", DataTable),
            [
                (
                    v.ref,
                    [
                        v.ref,
                        f"{v.row_count:,}",
                        str(v.column_count),
                        status_text(v.status),
                        v.created_at.strftime("%Y-%m-%d %H:%M"),
                    ],
                )
                for v in reversed(data.versions)
            ],
            select=wanted,
        )
        if wanted is None:
            return
        if selected is None or selected.ref != wanted:
            self._select_version(current[wanted])
        elif selected != current[wanted]:  # validated since: its status changed
            self.selected_version = current[wanted]
            self.details.show_title(current[wanted])

    def _select_version(self, version: DatasetVersion) -> None:
        self.selected_version = version
        self.row_offset = 0
        self._load_details(version.ref)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None:
            return
        if event.data_table.id == "versions":
            version = next((v for v in self._versions if v.ref == key), None)
            if version is not None and (
                self.selected_version is None or version.ref != self.selected_version.ref
            ):
                self._select_version(version)
        elif (
            event.data_table.parent is self.query_one("#datasets", FilterableTable)
            and key != self.selected_dataset
        ):
            self.selected_dataset = key
            self.selected_version = None
            self.refresh_now()

    # -- one version: details and rows --------------------------------------------------------

    @showing_work("version details")
    def _load_details(self, ref: str) -> None:
        engine = self.engine
        version = engine.datasets.resolve(ref)
        profiles = engine.datasets.profile(ref)
        self.post_message(VersionDetailsLoaded(version, profiles, engine.quality.latest_report(ref)))
        columns, rows = engine.datasets.head(ref, 0, PAGE_SIZE)
        self.post_message(RowsPageLoaded(ref, 0, columns, rows))

    def on_version_details_loaded(self, message: VersionDetailsLoaded) -> None:
        self.details.show_version(message.version, message.profiles, message.validation)

    @showing_work("rows page")
    def _load_page(self, ref: str, offset: int) -> None:
        columns, rows = self.engine.datasets.head(ref, offset, PAGE_SIZE)
        self.post_message(RowsPageLoaded(ref, offset, columns, rows))

    def on_rows_page_loaded(self, message: RowsPageLoaded) -> None:
        if self.selected_version is None or message.ref != self.selected_version.ref:
            return
        self.row_offset = message.offset
        self.details.show_page(message.offset, self.selected_version.row_count, message.columns, message.rows)

    def action_page(self, step: int) -> None:
        version = self.selected_version
        if version is None:
            return
        offset = self.row_offset + step * PAGE_SIZE
        if 0 <= offset < version.row_count:
            self.details.show_tab("rows")
            self._load_page(version.ref, offset)

    # -- ingest --------------------------------------------------------------------------------

    def action_ingest(self) -> None:
        fields = [
            Field("path", "File (.csv or .parquet)", placeholder="sample_data/churn_reference.csv"),
            Field("name", "Dataset name", value=self.selected_dataset or ""),
            Field(
                "schema", "Type overrides (optional)", placeholder="age=INTEGER,zip=VARCHAR", required=False
            ),
            Field(
                "null_tokens",
                "Missing-value tokens (optional; replace pandas' NA, N/A, NaN...)",
                placeholder="NA, -999   ('' alone: only empty fields)",
                required=False,
            ),
        ]
        self.app.push_screen(
            FormDialog("Ingest a file as a new version", fields, "Ingest"), self._start_ingest
        )

    def _start_ingest(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        self.work_panel.start(f"ingesting {values['path']} as {values['name']}")
        self._ingest(
            values["path"], values["name"], values["schema"] or None, null_tokens(values["null_tokens"])
        )

    @blocking_work("ingest")
    def _ingest(self, path: str, name: str, schema: str | None, tokens: list[str] | None) -> None:
        result = self.engine.datasets.ingest(
            absolute_path(path), name, schema, progress=self.report_progress, null_tokens=tokens
        )
        self.post_message(DatasetIngested(result))

    def on_dataset_ingested(self, message: DatasetIngested) -> None:
        version = message.result.version
        text = (
            f"created {version.ref}" if message.result.created else f"identical content: {version.ref} kept"
        )
        self.work_panel.succeeded(text)
        notes = [note.text for note in message.result.nulls_from_tokens]
        if notes:
            text += "\nmissing-value tokens read as null:\n" + "\n".join(notes)
        self.app.notify(text, title="Ingest finished", markup=False)
        self.selected_dataset = version.name
        self.selected_version = None
        self.refresh_now()

    def worker_failed(self, worker: Worker[object]) -> None:
        super().worker_failed(worker)
        if worker.group == "ingest":
            self.work_panel.failed(f"failed: {worker.error}")

    # -- validation ---------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self.selected_version is None:
            self.app.notify("Select a dataset version first", severity="warning")
            return
        self._load_suites(VALIDATE_FORM)

    @blocking_work("validate")
    def _load_suites(self, form: str) -> None:
        suites = tuple(suite.name for suite in self.engine.suites.all())
        self.post_message(FormChoicesLoaded(form, {}, {"suites": suites}))

    def on_form_choices_loaded(self, message: FormChoicesLoaded) -> None:
        """The validate or require form, once the stored suites are known."""
        suites = message.choices["suites"]
        if not suites:
            self.app.notify("No suite stored yet: `mlops suite add FILE.json` stores one", severity="warning")
        elif message.form == VALIDATE_FORM and self.selected_version is not None:
            fields = [Field("suite", "Suite", choices=suites, value=suites[0])]
            title = f"Validate {self.selected_version.ref} against a stored suite"
            self.app.push_screen(FormDialog(title, fields, "Validate"), self._start_validation)
        elif message.form == REQUIRE_FORM and self.selected_dataset is not None:
            fields = [Field("suite", "Suite every new version must pass", choices=suites, value=suites[0])]
            title = f"Require a suite for {self.selected_dataset}"
            self.app.push_screen(FormDialog(title, fields, "Require"), self._start_require)

    def _start_validation(self, values: dict[str, str] | None) -> None:
        if values is not None and self.selected_version is not None:
            self._validate(self.selected_version.ref, values["suite"])

    @blocking_work("validate")
    def _validate(self, ref: str, suite: str) -> None:
        self.post_message(VersionValidated(ref, self.engine.quality.validate(ref, suite)))

    def on_version_validated(self, message: VersionValidated) -> None:
        report = message.report
        verdict = "passed" if report.success else "failed"
        self.app.notify(
            f"{message.ref} {verdict} suite {report.suite_name}",
            title="Validation",
            severity="information" if report.success else "warning",
        )
        if self.selected_version is not None and self.selected_version.ref == message.ref:
            self.details.show_validation(report)
            self.details.show_tab("validation")
        self.refresh_now()

    def action_require(self) -> None:
        if self.selected_dataset is not None:
            self._load_suites(REQUIRE_FORM)

    def _start_require(self, values: dict[str, str] | None) -> None:
        if values is not None and self.selected_dataset is not None:
            self._require(self.selected_dataset, values["suite"])

    @blocking_work("require")
    def _require(self, dataset: str, suite: str) -> None:
        self.engine.quality.require(dataset, suite)
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
        versions = tuple(version.ref for version in self._versions)  # any other can be typed
        fields = [
            Field("before", "Before (NAME@vA; → completes)", value=before, choices=versions, typed=True),
            Field("after", "After (NAME@vB; → completes)", value=after, choices=versions, typed=True),
        ]
        self.app.push_screen(FormDialog("Compare two versions", fields, "Diff"), self._start_diff)

    def _start_diff(self, values: dict[str, str] | None) -> None:
        if values is not None:
            self._diff(values["before"], values["after"])

    @blocking_work("diff")
    def _diff(self, before: str, after: str) -> None:
        self.post_message(DiffComputed(self.engine.datasets.diff(before, after)))

    def on_diff_computed(self, message: DiffComputed) -> None:
        self.app.push_screen(DiffScreen(message.diff))


def null_tokens(text: str) -> list[str] | None:
    """The form's comma-separated tokens (``''`` is the empty field); blank keeps pandas' list."""
    if not text.strip():
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    return ["" if item in ("''", '""') else item for item in items]
