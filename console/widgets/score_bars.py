"""Two distributions over the same bins drawn side by side as vertical bars of eighth blocks:
the reference and the live window's scores, bin by bin, so a shift is seen at a glance."""

from __future__ import annotations

from rich.text import Text

EIGHTHS = " ▁▂▃▄▅▆▇█"
REFERENCE_STYLE = "steel_blue1"
CURRENT_STYLE = "yellow"


def paired_bars(reference: list[float], current: list[float], height: int) -> Text:
    """A bar pair per bin (reference left, live right), scaled so the tallest share fills
    ``height`` rows; the axis under them runs from 0 to 1."""
    tallest = max([*reference, *current, 1e-9])
    text = Text()
    for row in range(height, 0, -1):
        for left, right in zip(reference, current, strict=True):
            text.append(_cell(left / tallest * height, row), style=REFERENCE_STYLE)
            text.append(_cell(right / tallest * height, row), style=CURRENT_STYLE)
            text.append(" ")
        text.append("\n")
    width = len(reference) * 3 - 1
    text.append("─" * width + "\n", style="dim")
    text.append(f"0{'score':^{width - 2}}1\n", style="dim")
    text.append("█", style=REFERENCE_STYLE)
    text.append(" reference  ")
    text.append("█", style=CURRENT_STYLE)
    text.append(" live")
    return text


def _cell(level: float, row: int) -> str:
    """The block in ``row`` (1 is the bottom) of a bar ``level`` rows tall."""
    filled = level - (row - 1)
    if filled <= 0:
        return " "
    return EIGHTHS[min(8, max(1, round(filled * 8)))]
