"""Curves drawn in braille characters: each cell holds 2 x 4 dots, so a 40 x 10 cell plot has
80 x 40 points of resolution, enough for ROC, precision-recall and calibration curves in a
terminal without a plotting library."""

from __future__ import annotations

from itertools import pairwise

from rich.text import Text

BRAILLE = 0x2800
# The dot bit of column x (0-1), row y (0-3) in a braille cell.
DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille_plot(
    series: list[tuple[list[tuple[float, float]], str]],
    width: int,
    height: int,
    x_label: str,
    y_label: str,
    x_ends: tuple[str, str] = ("0", "1"),
    y_ends: tuple[str, str] = ("1.0", "0.0"),
) -> Text:
    """Lines through each series' (x, y) points in [0, 1] x [0, 1], each in its own style;
    ``x_ends`` and ``y_ends`` label the axes' ends (left, right; top, bottom) where the points
    were scaled from other ranges."""
    cells: dict[tuple[int, int], tuple[int, str]] = {}
    for points, style in series:
        for (x0, y0), (x1, y1) in pairwise(points):
            steps = max(2, int(max(abs(x1 - x0) * width * 2, abs(y1 - y0) * height * 4)) + 1)
            for i in range(steps + 1):
                x = x0 + (x1 - x0) * i / steps
                y = y0 + (y1 - y0) * i / steps
                dot_x = min(int(x * (width * 2 - 1) + 0.5), width * 2 - 1)
                dot_y = min(int((1 - y) * (height * 4 - 1) + 0.5), height * 4 - 1)
                cell = (dot_y // 4, dot_x // 2)
                bits, _ = cells.get(cell, (0, style))
                cells[cell] = (bits | DOT[dot_y % 4][dot_x % 2], style)
    text = Text()
    for row in range(height):
        label = f"{y_ends[0]:<4}" if row == 0 else (f"{y_ends[1]:<4}" if row == height - 1 else "    ")
        text.append(label, style="dim")
        text.append("│", style="dim")
        for column in range(width):
            bits, style = cells.get((row, column), (0, ""))
            text.append(chr(BRAILLE + bits) if bits else " ", style=style)
        text.append("\n")
    text.append("    └" + "─" * width + "\n", style="dim")
    left, right = x_ends
    middle = width - len(left) - len(right)
    text.append(f"     {left}{x_label:^{middle}}{right}\n", style="dim")
    text.append(f"     y: {y_label}", style="dim")
    return text
