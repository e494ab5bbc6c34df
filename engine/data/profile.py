"""Per-column profiles of a dataset version, computed in DuckDB.

One aggregate query gives every column's counts, nulls, approximate distinct count,
min/max/mean/std and exact quantiles; then one small GROUP BY per column gives top values
(text-like columns) or a 10-bin histogram (numeric columns). Distinct counts are
approximate (HyperLogLog: exact counting costs several times more on wide tables) and are
labelled so in every view; quantiles are exact, as they cost no more than approximate ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.data.hashing import type_family
from engine.identifiers import quote
from engine.types.data import ColumnProfile

if TYPE_CHECKING:
    import duckdb

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 10
TOP_VALUES = 5
NUMERIC = {"integer", "float"} | {"DECIMAL"}
ORDERED = NUMERIC | {"timestamp", "timestamptz", "date"}


def profile(
    cursor: duckdb.DuckDBPyConnection, relation: str, schema: list[tuple[str, str]]
) -> list[ColumnProfile]:
    """Profile every column of ``relation`` (whose columns are ``schema``)."""
    row_count = _scalar(cursor, f"SELECT count(*) FROM {relation}")
    stats = _column_stats(cursor, relation, schema)
    profiles = []
    for name, kind in schema:
        family = _family(kind)
        column = stats[name]
        null_count = row_count - column["count"]
        profiles.append(
            ColumnProfile(
                name=name,
                type=kind,
                count=row_count,
                null_count=null_count,
                null_share=null_count / row_count if row_count else 0.0,
                approx_distinct=min(column["distinct"], column["count"]),
                min=column.get("min"),
                max=column.get("max"),
                mean=column.get("mean"),
                std=column.get("std"),
                quantiles=column.get("quantiles", {}),
                top_values=[] if family in ORDERED else _top_values(cursor, relation, name),
                histogram=_histogram(cursor, relation, name, column) if family in NUMERIC else [],
            )
        )
    return profiles


def _family(kind: str) -> str:
    return "DECIMAL" if kind.startswith("DECIMAL") else type_family(kind)


def _column_stats(
    cursor: duckdb.DuckDBPyConnection, relation: str, schema: list[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    expressions: list[str] = []
    layout: list[tuple[str, str]] = []
    for index, (name, kind) in enumerate(schema):
        column, family = quote(name), _family(kind)
        wanted = {"count": f"count({column})", "distinct": f"approx_count_distinct({column})"}
        if family in ORDERED:
            wanted |= {"min": f"min({column})", "max": f"max({column})"}
        if family in NUMERIC:
            wanted |= {
                "mean": f"avg({column})::DOUBLE",
                "std": f"stddev_samp({column})::DOUBLE",
                "quantiles": f"quantile_cont({column}::DOUBLE, {list(QUANTILES)})",
            }
        for key, expression in wanted.items():
            expressions.append(f"{expression} AS c{index}_{key}")
            layout.append((name, key))
    row = cursor.execute(f"SELECT {', '.join(expressions)} FROM {relation}").fetchone()
    assert row is not None
    stats: dict[str, dict[str, Any]] = {name: {} for name, _ in schema}
    for (name, key), value in zip(layout, row, strict=True):
        if key == "quantiles":
            value = {f"p{round(q * 100):02d}": v for q, v in zip(QUANTILES, value or [], strict=False)}
        stats[name][key] = value
    return stats


def _top_values(cursor: duckdb.DuckDBPyConnection, relation: str, name: str) -> list[tuple[Any, int]]:
    column = quote(name)
    rows = cursor.execute(
        f"SELECT {column}, count(*) AS n FROM {relation} WHERE {column} IS NOT NULL"
        f" GROUP BY ALL ORDER BY n DESC, {column} LIMIT {TOP_VALUES}"
    ).fetchall()
    return [(value, count) for value, count in rows]


def _histogram(
    cursor: duckdb.DuckDBPyConnection, relation: str, name: str, stats: dict[str, Any]
) -> list[tuple[float, float, int]]:
    low, high = stats.get("min"), stats.get("max")
    if low is None or high is None:
        return []
    low, high = float(low), float(high)
    width = (high - low) / HISTOGRAM_BINS or 1.0
    column = quote(name)
    counts = dict(
        cursor.execute(
            f"SELECT least(floor(({column} - $low) / $width), {HISTOGRAM_BINS - 1})::INTEGER AS bin, count(*)"
            f" FROM {relation} WHERE {column} IS NOT NULL GROUP BY bin",
            {"low": low, "width": width},
        ).fetchall()
    )
    bins = HISTOGRAM_BINS if high > low else 1
    return [
        (low + i * width, low + (i + 1) * width if bins > 1 else high, counts.get(i, 0)) for i in range(bins)
    ]


def _scalar(cursor: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = cursor.execute(sql).fetchone()
    assert row is not None
    return int(row[0])
