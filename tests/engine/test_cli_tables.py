"""The CLI's tables in a narrow terminal: listings drop the columns that do not fit and say
which, rows of data become one block per row, and cells are shown as written."""

from __future__ import annotations

import io

from rich.console import Console

from engine.cli.common import styled, table


def printed(width: int, *args: object, **kwargs: object) -> list[str]:
    console = Console(width=width, file=io.StringIO(), force_terminal=False, color_system=None)
    table(console, *args, **kwargs)  # type: ignore[arg-type]
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output).splitlines()


HEADERS = ["run", "model", "data", "status", "f1", "roc_auc", "accuracy", "log_loss", "id"]
ROW = [
    "bold-moth-123",
    "hist_gradient_boosting",
    "churn@v12",
    "FINISHED",
    "0.8421",
    "0.9351",
    "0.9024",
    "0.3491",
    "3f2a9c1d",
]


def test_a_listing_keeps_the_columns_that_fit_and_names_the_rest() -> None:
    lines = printed(80, HEADERS, [ROW, ROW])
    assert all(len(line) <= 80 for line in lines)
    assert "bold-moth-123" in lines[3] and "hist_gradient_boosting" in lines[3]
    note = " ".join(
        " ".join(lines[lines.index(next(line for line in lines if line.startswith("("))) :]).split()
    )
    assert "f1" in lines[1] and note.endswith(
        "more columns not shown: roc_auc, accuracy, log_loss, id; widen the terminal or add --json)"
    )
    assert printed(200, HEADERS, [ROW])[1].split("┃")[1:-1][-1].strip() == "id"


def test_rows_of_data_become_one_block_per_row() -> None:
    headers = [f"measurement_{number:02d}" for number in range(31)]
    lines = printed(80, headers, [[str(n) for n in range(31)]] * 2, overflow="records")
    assert [line.split()[0] for line in lines if line.startswith("row")] == ["row", "row"]
    assert lines[-1].split() == ["measurement_30", "30"]


def test_cells_are_literal_and_styled_cells_are_styled() -> None:
    lines = printed(80, ["note", "mark"], [["[bold]x[/bold] and [/oops]", styled("[green]✓[/]")]])
    assert "[bold]x[/bold] and [/oops]" in lines[3] and "✓" in lines[3] and "[green]" not in lines[3]
    assert printed(80, ["a"], [], empty="nothing yet") == ["nothing yet"]
