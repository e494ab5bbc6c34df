"""One dataset version in detail: its title line and three tabs, the column profile, a page of
rows (fetched from DuckDB by the screen) and its newest validation report."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from console.widgets.table_rows import show_rows
from engine.formatting import cell, number, sparkline
from engine.types.data import ColumnProfile, DatasetVersion, ExpectationResult, ValidationReport

STATUS_STYLES = {"passed": "green", "failed": "red", "quarantined": "bold red", "pending": "yellow"}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, "dim"))


class VersionDetails(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("Select a dataset version", id="version-title", classes="panel-title")
        with TabbedContent(id="version-tabs"):
            with TabPane("Profile", id="profile-tab"):
                # The column's name stays in view while a narrow terminal scrolls the rest.
                yield DataTable(id="profile", zebra_stripes=True, fixed_columns=1)
            with TabPane("Rows", id="rows-tab"):
                yield Static("", id="page-info")
                yield DataTable(id="rows", zebra_stripes=True)
            with TabPane("Validation", id="validation-tab"):
                yield Static("not validated yet: press v", id="validation-summary")
                yield DataTable(id="validation", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#profile", DataTable).add_columns(
            "column", "type", "nulls", "distinct~", "min", "max", "mean", "top / histogram"
        )
        self.query_one("#validation", DataTable).add_columns(
            "", "expectation", "column", "unexpected", "%", "examples", "ran in"
        )

    def show_version(
        self, version: DatasetVersion, profiles: list[ColumnProfile], report: ValidationReport | None
    ) -> None:
        self.show_title(version)
        show_rows(
            self.query_one("#profile", DataTable),
            [(profile.name, _profile_row(profile)) for profile in profiles],
        )
        self.show_validation(report)

    def show_title(self, version: DatasetVersion) -> None:
        self.query_one("#version-title", Static).update(
            Text.assemble(
                (version.ref, "bold"),
                f"  {version.row_count:,} rows x {version.column_count} columns  ",
                status_text(version.status),
                f"  hash {version.content_hash[:12]}  from {version.source_path}",
            )
        )

    def show_validation(self, report: ValidationReport | None) -> None:
        summary = self.query_one("#validation-summary", Static)
        table = self.query_one("#validation", DataTable)
        if report is None:
            show_rows(table, [])
            summary.update("not validated yet: press v")
            return
        verdict = Text("passed", style="bold green") if report.success else Text("failed", style="bold red")
        summary.update(
            Text.assemble(
                f"suite {report.suite_name}: ",
                verdict,
                f"  {len(report.failures)} of {len(report.results)} failed",
            )
        )
        show_rows(
            table, [(str(index), _validation_row(result)) for index, result in enumerate(report.results)]
        )

    def show_page(self, offset: int, total: int, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        table = self.query_one("#rows", DataTable)
        if [column.label.plain for column in table.ordered_columns] != columns:
            table.clear(columns=True)
            table.add_columns(*(Text(name) for name in columns))
        show_rows(
            table, [(str(offset + index), [cell(value) for value in row]) for index, row in enumerate(rows)]
        )
        last = offset + len(rows)
        self.query_one("#page-info", Static).update(  # Text: the keys' brackets are not markup
            Text(f"rows {offset + 1:,} to {last:,} of {total:,}   [ previous page   ] next page")
        )

    def show_tab(self, tab: str) -> None:
        self.query_one("#version-tabs", TabbedContent).active = f"{tab}-tab"


def _validation_row(result: ExpectationResult) -> list[Any]:
    mark = Text("✓", style="green") if result.success else Text("✗", style="bold red")
    count = result.unexpected_count
    percent = result.unexpected_percent
    return [
        mark,
        Text(result.type.removeprefix("expect_"), style="" if result.success else "red"),
        Text(result.column or ""),
        "" if count is None else f"{count:,}",
        "" if percent is None else f"{percent:.2f}",
        Text(", ".join(cell(value) for value in result.partial_unexpected[:3])),
        result.path,
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
        Text(profile.name),
        profile.type,
        nulls,
        f"{profile.approx_distinct:,}",
        Text(number(profile.min)),
        Text(number(profile.max)),
        number(profile.mean),
        Text(shape),
    ]
