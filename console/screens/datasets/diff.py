"""The diff of two dataset versions, over the Datasets screen: schema, rows, profile deltas."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.widgets.table_rows import show_rows
from engine.formatting import number
from engine.types.data import VersionDiff


class DiffScreen(ModalScreen[None]):
    CSS_PATH = "diff.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q", "dismiss", "Close"),
    ]

    def __init__(self, diff: VersionDiff) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        diff = self.diff
        change = diff.row_count_after - diff.row_count_before
        summary = Text.assemble(
            (f"{diff.before} → {diff.after}", "bold"),
            ("  identical content" if diff.same_content else ""),
            f"\nrows {diff.row_count_before:,} → {diff.row_count_after:,} ({change:+,})",
        )
        for name, kind in diff.added_columns:
            summary.append(f"\n+ column {name} {kind}", style="green")
        for name, kind in diff.removed_columns:
            summary.append(f"\n- column {name} {kind}", style="red")
        for name, before, after in diff.retyped_columns:
            summary.append(f"\n~ column {name}: {before} → {after}", style="yellow")
        with Vertical(id="diff-dialog"):
            yield Static(summary, id="diff-summary")
            table: DataTable[Text] = DataTable(zebra_stripes=True)
            table.add_columns("column", "statistic", "before", "after", "change")
            show_rows(
                table,
                [
                    (
                        f"{delta.column}/{delta.statistic}",
                        [
                            delta.column,
                            delta.statistic,
                            number(delta.before),
                            number(delta.after),
                            "" if delta.change is None else number(delta.change, signed=True),
                        ],
                    )
                    for delta in diff.column_deltas
                ],
            )
            yield table
            yield Static("esc closes", id="diff-help")
