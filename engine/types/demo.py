"""What ``mlops demo`` did: one document the CLI prints (``--json``) and the console shows.

Plain lists of dicts rather than nested dataclasses: every entry is a row of the summary a
person reads, and the same document is stored in the workspace so a second run can show it
again without redoing anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DemoReport:
    """The demo's outcome. ``added`` is False when the workspace held a finished demo already
    and nothing was done (the stored report is shown again)."""

    workspace: str
    added: bool
    seconds: float
    fairness: str  # how the sample's planted bias was handled, said plainly
    versions: list[dict[str, Any]]  # ref, source, rows, status
    runs: list[dict[str, Any]]  # name, model, f1, run_id, how (train, sweep, pipeline)
    pipeline: dict[str, Any]  # id, status, reason, registered
    best: dict[str, Any]  # the run evaluated and promoted: name, f1, fairness violations
    champion_before: str | None  # "churn v2" before the loop turned
    champion_after: str | None
    alerts: list[dict[str, Any]]  # when (week N, late labels, retrain loop), source, severity, message
    checks: list[dict[str, Any]]  # what the drift and accuracy monitors said after each week
    loop: dict[str, Any]  # trigger, outcome, reason, challenger
    next_steps: list[str] = field(default_factory=list)
    drift: str = ""  # where the drift alert's line is, said plainly (absent from older reports)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict[str, Any], added: bool) -> DemoReport:
        return cls(**{**document, "added": added})
