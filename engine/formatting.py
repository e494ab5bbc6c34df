"""Plain-text formatting of values, shared by the CLI's tables and the console's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

SPARK_BARS = " ▁▂▃▄▅▆▇█"


def number(value: Any, signed: bool = False) -> str:
    """Numbers short and readable (4 significant digits, thousands separators); others as text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:+.4g}" if signed else f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:+,}" if signed else f"{value:,}"
    return str(value)


def cell(value: Any) -> str:
    """A table cell: NULL shown as such, so it is not confused with an empty string."""
    return "NULL" if value is None else str(value)


def sparkline(counts: list[int]) -> str:
    """A histogram in one line of block characters."""
    peak = max(counts, default=0)
    return "".join(SPARK_BARS[round(count / peak * 8)] for count in counts) if peak else ""


def duration(span: timedelta | None) -> str:
    """A span the way TTLs are written in definitions: ``30d``, ``12h``, ``1d12h``, ``90s``."""
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
