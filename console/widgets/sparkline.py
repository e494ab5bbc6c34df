"""A sparkline as text, for a table cell: one block character per value, scaled between the
smallest and largest shown (a flat series is a flat line)."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None], width: int = 16) -> str:
    """The newest ``width`` values, oldest first; a missing value is a space."""
    shown = list(values)[-width:]
    present = [value for value in shown if value is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = high - low
    return "".join(
        " "
        if value is None
        else BLOCKS[0 if span == 0 else min(len(BLOCKS) - 1, int((value - low) / span * len(BLOCKS)))]
        for value in shown
    )
