"""What changed between two dataset versions: schema, row count, per-column profile deltas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.data.profile import ColumnProfile

if TYPE_CHECKING:
    from engine.data.datasets import DatasetVersion

COMPARED_STATISTICS = ("null_share", "approx_distinct", "mean", "std", "min", "max")


@dataclass(frozen=True)
class ColumnDelta:
    column: str
    statistic: str
    before: Any
    after: Any

    @property
    def change(self) -> float | None:
        numeric = (int, float)
        if isinstance(self.before, numeric) and isinstance(self.after, numeric):
            return float(self.after) - float(self.before)
        return None


@dataclass(frozen=True)
class VersionDiff:
    before: str
    after: str
    added_columns: list[tuple[str, str]]
    removed_columns: list[tuple[str, str]]
    retyped_columns: list[tuple[str, str, str]]  # column, type before, type after
    row_count_before: int
    row_count_after: int
    same_content: bool
    column_deltas: list[ColumnDelta]

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "same_content": self.same_content,
            "schema": {
                "added": [{"name": n, "type": t} for n, t in self.added_columns],
                "removed": [{"name": n, "type": t} for n, t in self.removed_columns],
                "retyped": [{"name": n, "before": b, "after": a} for n, b, a in self.retyped_columns],
            },
            "rows": {
                "before": self.row_count_before,
                "after": self.row_count_after,
                "change": self.row_count_after - self.row_count_before,
            },
            "columns": [
                {
                    "column": d.column,
                    "statistic": d.statistic,
                    "before": _plain(d.before),
                    "after": _plain(d.after),
                    "change": d.change,
                }
                for d in self.column_deltas
            ],
        }


def diff_versions(
    before: DatasetVersion,
    after: DatasetVersion,
    profile_before: list[ColumnProfile],
    profile_after: list[ColumnProfile],
) -> VersionDiff:
    types_before, types_after = dict(before.schema), dict(after.schema)
    profiles_before = {p.name: p for p in profile_before}
    profiles_after = {p.name: p for p in profile_after}
    deltas = [
        ColumnDelta(
            name,
            statistic,
            getattr(profiles_before[name], statistic),
            getattr(profiles_after[name], statistic),
        )
        for name, _ in after.schema
        if name in profiles_before
        for statistic in COMPARED_STATISTICS
        if getattr(profiles_before[name], statistic) != getattr(profiles_after[name], statistic)
    ]
    return VersionDiff(
        before=before.ref,
        after=after.ref,
        added_columns=[(n, t) for n, t in after.schema if n not in types_before],
        removed_columns=[(n, t) for n, t in before.schema if n not in types_after],
        retyped_columns=[
            (n, types_before[n], t) for n, t in after.schema if n in types_before and types_before[n] != t
        ],
        row_count_before=before.row_count,
        row_count_after=after.row_count,
        same_content=before.content_hash == after.content_hash,
        column_deltas=deltas,
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
