"""A Rich progress bar on stderr fed by the engine's progress callback (engine/progress.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from engine.cli.output import Output
from engine.cli.streams import streams
from engine.types.progress import Progress, no_progress


@contextmanager
def progress_bar(out: Output) -> Iterator[Progress]:
    """Silent with --json or when stderr is not a terminal, so pipes and logs stay clean."""
    target = streams()
    if out.as_json or not target.stderr.isatty():
        yield no_progress
        return
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=target.console(stderr=True),
        transient=True,
        redirect_stdout=False,  # a client's command runs in the owner: its sys.stdout is not ours
        redirect_stderr=False,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def report(stage: str, fraction: float | None) -> None:
            bar.update(task, description=stage, completed=fraction if fraction is not None else 0.0)

        yield report
