"""Registered models and versions, promotion gates and their verdicts, alias moves, exports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

CHAMPION = "champion"
"""The alias serving follows; promotion to it also exports and checks the ONNX file."""


@dataclass(frozen=True)
class Verdict:
    """One check of a gate: what was required, what was found, and whether it held."""

    check: str
    passed: bool
    detail: str
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VersionRef:
    """A registered model version, as an alias or a ``NAME@vN`` reference names it."""

    name: str
    version: int
    run_id: str


@dataclass(frozen=True)
class VersionSummary:
    model: str
    version: int
    run_id: str
    run_name: str
    dataset: str
    metrics: dict[str, float]
    aliases: list[str]
    onnx_sha256: str | None
    created_at: int  # ms since the epoch, as MLflow keeps it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelSummary:
    name: str
    versions: list[VersionSummary]  # newest first
    aliases: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "aliases": self.aliases, "versions": [v.to_dict() for v in self.versions]}


# What an exported graph carries besides its inputs (engine/registry/onnx_export.py writes it,
# engine/serving reads it): its columns in input order, its classes' text in the order of the
# probabilities' columns, a binary model's positive class; and the tensor type of text inputs.
ONNX_COLUMNS_PROPERTY = "mlops.columns"
ONNX_CLASSES_PROPERTY = "mlops.classes"
ONNX_POSITIVE_CLASS_PROPERTY = "mlops.positive_class"
ONNX_STRING_TENSOR = "tensor(string)"


@dataclass(frozen=True)
class OnnxInput:
    """One input of an exported graph: the column it reads, the graph's own name for it (ONNX
    names are identifiers, so ``plan type`` becomes ``plan_type``), and its tensor type."""

    column: str
    name: str
    type: str  # tensor(float) or tensor(string)


@dataclass(frozen=True)
class OnnxExportRecord:
    """A version's ONNX file and the proof it answers like the scikit-learn model."""

    path: str
    sha256: str  # serving checks the file against this before loading it
    size_bytes: int
    max_abs_difference: float  # largest probability difference over the rows checked
    labels_identical: bool
    rows_checked: int
    inputs: list[OnnxInput]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> OnnxExportRecord:
        return cls(**{**document, "inputs": [OnnxInput(**item) for item in document["inputs"]]})


@dataclass(frozen=True)
class AliasMove:
    id: int
    model: str
    alias: str
    from_version: int | None
    to_version: int
    action: str  # promote, forced promote, rollback
    user: str
    reason: str | None
    verdicts: list[Verdict]
    moved_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "moved_at": self.moved_at.isoformat()}


@dataclass(frozen=True)
class Promotion:
    model: str
    version: int
    alias: str
    promoted: bool
    verdicts: list[Verdict]
    move: AliasMove | None = None
    export: OnnxExportRecord | None = None
    evaluation_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if not verdict.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "promoted": self.promoted,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "move": self.move.to_dict() if self.move else None,
            "export": self.export.to_dict() if self.export else None,
            "evaluation_id": self.evaluation_id,
        }
