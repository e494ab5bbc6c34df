"""The feature store's objects (Feast's model): entities, feature views, on-demand views, and
what applying, materializing and listing them returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal


@dataclass(frozen=True)
class Entity:
    name: str
    join_keys: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Feature:
    name: str
    dtype: str


@dataclass(frozen=True)
class FeatureRef:
    """One feature named as ``view:feature``."""

    view: str
    feature: str

    def __str__(self) -> str:
        return f"{self.view}:{self.feature}"


@dataclass(frozen=True)
class FeatureView:
    """Features read from one dataset, each valid for ``ttl`` after its timestamp."""

    name: str
    entities: tuple[str, ...]
    join_keys: tuple[str, ...]
    source: str
    timestamp_column: str
    ttl: timedelta | None
    online: bool
    features: tuple[Feature, ...]
    description: str = ""

    @property
    def ttl_ns(self) -> int | None:
        """The TTL in nanoseconds, the unit timestamps are compared in; None when values never expire."""
        return None if self.ttl is None else self.ttl // timedelta(microseconds=1) * 1000


@dataclass(frozen=True)
class OnDemandView:
    """Features computed from other views' features at request time, by a Python function."""

    name: str
    sources: tuple[FeatureRef, ...]
    function: str
    features: tuple[Feature, ...]
    description: str = ""


@dataclass(frozen=True)
class FeatureDefinitions:
    entities: tuple[Entity, ...] = ()
    feature_views: tuple[FeatureView, ...] = ()
    on_demand_views: tuple[OnDemandView, ...] = ()

    @property
    def views(self) -> list[FeatureView | OnDemandView]:
        """Feature views then on-demand views: one namespace for ``view:feature`` references."""
        return [*self.feature_views, *self.on_demand_views]


@dataclass(frozen=True)
class ApplyResult:
    """What applying a definitions file changed; items are named ``kind:name``."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "unchanged": list(self.unchanged),
        }


@dataclass(frozen=True)
class Materialization:
    view: str
    relation: str
    materialized_until: datetime
    rows_written: int
    incremental: bool


@dataclass(frozen=True)
class ViewStatus:
    """A view as applied, with when its online values were last materialized (None: never)."""

    view: FeatureView | OnDemandView
    materialized_until: datetime | None
    materialized_at: datetime | None
    online_rows: int | None


OnlineStatus = Literal["present", "expired", "not_found"]
"""Why an online value is what it is, as Feast's field statuses say it (PRESENT,
OUTSIDE_MAX_AGE, NOT_FOUND): a None value that is ``expired`` had a row older than the view's
TTL, one that is ``not_found`` had no row for the entity at all."""


@dataclass(frozen=True)
class OnlineFeatures:
    """One entity's online features: each value, and whether it was found and fresh."""

    values: dict[str, Any]
    statuses: dict[str, OnlineStatus]

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.values, "statuses": self.statuses}


@dataclass(frozen=True)
class HistoricalExport:
    """A point-in-time retrieval written to a file."""

    path: str
    rows: int
    columns: list[str]
