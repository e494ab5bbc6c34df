"""What serving hands back to faces: its bearer tokens as listed, and one just made."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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
