"""What changed between two dataset versions: schema, row count, per-column profile deltas."""

from __future__ import annotations

from engine.types.data import ColumnDelta, ColumnProfile, DatasetVersion, VersionDiff

COMPARED_STATISTICS = ("null_share", "approx_distinct", "mean", "std", "min", "max")


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
