"""How long work reports progress: a callback the CLI turns into a Rich progress bar and the
console into messages. ``fraction`` runs from 0 to 1, or is None while unknown."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, "float | None"], None]


def no_progress(stage: str, fraction: float | None) -> None:
    """The default when nobody is watching."""
