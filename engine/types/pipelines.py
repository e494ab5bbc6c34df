"""Pipeline runs and their steps as the workspace records them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from engine.types.registry import Verdict

STATUS_MARKS = {
    "pending": "·",
    "running": "…",
    "succeeded": "✓",
    "cached": "↺",
    "failed": "✗",
    "skipped": "⊘",
}
"""How a step's status reads in a table or on the DAG."""


@dataclass(frozen=True)
class StepRecord:
    name: str
    kind: str
    needs: list[str]
    status: str
    cache_key: str | None
    started_at: datetime | None
    duration_seconds: float | None
    output: dict[str, Any]  # what the step produced, by kind (a dataset, a run, verdicts)
    verdicts: list[Verdict]
    reason: str | None

    @property
    def summary(self) -> str:
        """One line on what the step did or why it stopped."""
        return self.reason or str(self.output.get("summary", ""))

    @property
    def mark(self) -> str:
        return STATUS_MARKS.get(self.status, "?")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PipelineRunRecord:
    id: int
    pipeline: str
    path: str
    forced: bool
    status: str
    reason: str | None
    started_at: datetime
    finished_at: datetime | None
    steps: list[StepRecord]

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @property
    def cache_hits(self) -> int:
        return sum(step.status == "cached" for step in self.steps)

    @property
    def ran(self) -> int:
        return sum(step.status in ("succeeded", "failed") for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "path": self.path,
            "forced": self.forced,
            "status": self.status,
            "reason": self.reason,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": self.duration_seconds,
            "cache_hits": self.cache_hits,
            "steps": [step.to_dict() for step in self.steps],
        }
