"""A Rich progress bar on stderr fed by the engine's progress callback (engine/progress.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from engine.cli.output import Output
from engine.types.progress import Progress, no_progress


@contextmanager
def progress_bar(out: Output) -> Iterator[Progress]:
    """Silent with --json or when stderr is not a terminal, so pipes and logs stay clean."""
    if out.as_json or not sys.stderr.isatty():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def report(stage: str, fraction: float | None) -> None:
            bar.update(task, description=stage, completed=fraction if fraction is not None else 0.0)

        yield report
