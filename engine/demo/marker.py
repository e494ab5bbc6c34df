"""Whether a workspace is the demo's, and what a finished demo left: the marker that makes a
second ``mlops demo`` add nothing.

The marker is two events in the activity log (``demo``: started, finished), so the console's
Home screen shows them like any other; the finished demo's report is kept beside the catalogue
(``.mlops/demo.json``) and shown again by a second run. A workspace holding anything else
(datasets, runs, models, deployments) and no demo event is a user's: the demo refuses it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from engine.errors import InvalidInput
from engine.events import EventLog
from engine.types.demo import DemoReport
from engine.types.workspace import Counts, Workspace

KIND = "demo"
STARTED = "demo started"
FINISHED = "demo finished"

State = Literal["fresh", "finished", "unfinished", "foreign"]


def state(events: EventLog, counts: Counts) -> State:
    said = {event.message for event in events.recent(1000, KIND) if event.kind == KIND}
    if FINISHED in said:
        return "finished"
    if STARTED in said:
        return "unfinished"
    held = [counts.datasets, counts.runs or 0, counts.models or 0, counts.deployments]
    return "foreign" if any(held) else "fresh"


def refuse(found: State, workspace: Workspace, counts: Counts) -> None:
    """Raise the one-line error for a workspace the demo cannot run in."""
    if found == "foreign":
        raise InvalidInput(
            f"{workspace.root} is a workspace with work of its own ({counts.datasets} datasets, "
            f"{counts.runs or 0} runs, {counts.models or 0} models): the demo runs only in a new "
            "workspace or its own; choose another --workspace"
        )
    if found == "unfinished":
        raise InvalidInput(
            f"a demo started in {workspace.root} and did not finish (interrupted?): remove the folder "
            "and run the demo again (`mlops demo`, or `make run` for ./demo-workspace)"
        )


def report_path(workspace: Workspace) -> Path:
    return workspace.mlops_dir / "demo.json"


def keep(report: DemoReport, workspace: Workspace) -> None:
    """Store the report, private like every file the engine keeps in ``.mlops/``."""
    descriptor = os.open(report_path(workspace), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(report.to_dict(), file, indent=1, default=str)


def kept(workspace: Workspace) -> DemoReport:
    """The finished demo's report, marked as adding nothing this time."""
    try:
        with report_path(workspace).open(encoding="utf-8") as file:
            return DemoReport.from_dict(json.load(file), added=False)
    except (OSError, ValueError, TypeError) as error:
        raise InvalidInput(
            f"the demo in {workspace.root} finished but its report cannot be read ({error}); "
            "`mlops status` and the console show what it made"
        ) from None
