"""Runs side by side: params with differences highlighted, metrics with the best marked and
drawn as bars, and the data each run used."""

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
from engine.types.training import Comparison

BAR_WIDTH = 30


class CompareScreen(ModalScreen[None]):
    CSS_PATH = "compare.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q", "dismiss", "Close"),
    ]

    def __init__(self, comparison: Comparison) -> None:
        super().__init__()
        self.comparison = comparison

    def compose(self) -> ComposeResult:
        comparison = self.comparison
        names = [run.run_name for run in comparison.runs]
        with Vertical(id="compare-dialog"):
            yield Static(Text("Compare runs  ", style="bold").append("≠ differs  ★ best", style="dim"))
            # The names stay in view while the runs scroll sideways (more runs than the width holds).
            params: DataTable[str | Text] = DataTable(
                id="compare-params", zebra_stripes=True, fixed_columns=1
            )
            params.add_columns("param", *(Text(name) for name in names))
            show_rows(
                params,
                [(name, _param_row(name, values, comparison)) for name, values in comparison.params.items()],
            )
            yield params
            metrics: DataTable[str | Text] = DataTable(
                id="compare-metrics", zebra_stripes=True, fixed_columns=1
            )
            metrics.add_columns("metric", *(Text(name) for name in names))
            show_rows(
                metrics,
                [
                    (
                        name,
                        [
                            name,
                            *(_metric_cell(v, i == comparison.best.get(name)) for i, v in enumerate(scores)),
                        ],
                    )
                    for name, scores in comparison.metrics.items()
                ],
            )
            yield metrics
            yield Static(_f1_bars(comparison, names), id="compare-chart")


def _param_row(name: str, values: list[str | None], comparison: Comparison) -> list[Text]:
    style = "yellow" if name in comparison.differing_params else ""
    label = f"≠ {name}" if style else f"  {name}"
    return [
        Text(label, style=style),
        *(Text("" if value is None else value, style=style) for value in values),
    ]


def _metric_cell(value: float | None, best: bool) -> Text | str:
    return Text(f"★ {number(value)}", style="bold green") if best else number(value)


def _f1_bars(comparison: Comparison, names: list[str]) -> Text:
    """F1 per run as horizontal bars, scaled between the lowest and highest value."""
    values = comparison.metrics.get("f1", [])
    present = [v for v in values if v is not None]
    chart = Text("f1\n", style="bold")
    if not present:
        return chart
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    width = max(len(name) for name in names)
    for name, value in zip(names, values, strict=True):
        length = 0 if value is None else round(4 + (value - low) / span * (BAR_WIDTH - 4))
        chart.append(f"{name:<{width}} ").append("█" * length, style="green").append(f" {number(value)}\n")
    return chart
