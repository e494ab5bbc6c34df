"""What serving hands back to faces: deployments, the plan the serving processes load, and
bearer tokens (as listed, and one just made)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    name: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "active": self.active}


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the only time its secret is shown."""

    name: str
    token: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Variant:
    """One model a deployment routes to: its role in the strategy and the registry reference it
    follows (``churn@champion`` follows the alias; ``churn@v3`` stays on version 3)."""

    role: str  # primary (the only role of a single deployment; the strategies add theirs)
    reference: str


@dataclass(frozen=True)
class Deployment:
    """An endpoint as stored: what it routes to and how. ``revision`` grows with every change
    of any deployment, so a serving process knows when to reload."""

    endpoint: str
    strategy: str  # single
    variants: list[Variant]
    settings: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat()
        document["updated_at"] = self.updated_at.isoformat()
        return document


@dataclass(frozen=True)
class ServedVariant:
    """A variant resolved for serving: the version its reference names now and its ONNX file,
    with the sha256 the registry recorded (the serving process checks the file against it)."""

    role: str
    reference: str
    model: str
    version: int
    onnx_path: str
    sha256: str


@dataclass(frozen=True)
class ServedEndpoint:
    endpoint: str
    strategy: str
    variants: list[ServedVariant]
    settings: dict[str, Any]


@dataclass(frozen=True)
class ServingPlan:
    """Everything the serving processes serve, resolved at one revision."""

    revision: int
    endpoints: list[ServedEndpoint]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
