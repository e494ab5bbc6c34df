"""The Wasserstein distance of a large current window from a kept, sorted reference, without
sorting the window (sorting each of a million-row window's columns was most of a check's time).

The distance is the area between the two empirical CDFs. The range of both samples is cut into
equal-width buckets; DuckDB counts and sums the window's values per bucket in one parallel
GROUP BY, and numpy does the same for the reference. In a bucket where one CDF stays at or
above the other (the CDFs' ranges over the bucket do not overlap: the counts say so exactly),
the area is the difference of the two CDFs' integrals, and each integral follows from the
count and sum of the bucket's values: over ``[a, b)``, the integral of F is
``below(a) * (b - a) + sum(b - x for x in the bucket)``, over the sample's size. Only where the
CDFs may cross are the values read and merged, and there are few such buckets: the area is the
same as scipy's to ~1e-12 relative (a bucket's edge is known to a rounding of the bucket
formula, and only moves a value's share of the area by that rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import numpy as np

BUCKETS = 1 << 16
LARGE_WINDOW = 100_000
"""A window with fewer values is read and sorted (cheap at that size, and it keeps one path for
the tests that need every value)."""
DISTINCT_VALUES = BUCKETS // 4
"""A reference with fewer distinct values is tested the usual way: its values fall in few
buckets, where the two CDFs meet in most of them and every value would be read anyway
(measured on the sample's integer columns resampled to 100,000: 0.18 s against 0.14 s)."""


@dataclass(frozen=True)
class WindowRange:
    """A window column's cleaned values as an aggregate: how many, the smallest and largest."""

    count: int
    smallest: float
    largest: float


def window_range(cursor: duckdb.DuckDBPyConnection, relation: str, value: str, where: str) -> WindowRange:
    found = cursor.execute(f"SELECT count({value}), min({value}), max({value}) FROM {relation} WHERE {where}")
    row = found.fetchone()
    assert row is not None
    count, smallest, largest = row
    return WindowRange(int(count), float(smallest or 0.0), float(largest or 0.0))


def distance(
    reference: np.ndarray,
    window: WindowRange,
    cursor: duckdb.DuckDBPyConnection,
    relation: str,
    value: str,
    where: str,
) -> float | None:
    """The area between the CDFs of ``reference`` (sorted) and the window's values (``value``
    of ``relation`` where ``where``); None when the values span fewer than 6 buckets (so may
    have 5 distinct values or fewer, and Evidently would not test them by Wasserstein)."""
    import numpy as np

    n, m = len(reference), window.count
    low = min(float(reference[0]), window.smallest)
    high = max(float(reference[-1]), window.largest)
    if not high > low:
        return None
    scale = BUCKETS / (high - low)
    low_sql, scale_sql = f"CAST({low!r} AS DOUBLE)", f"CAST({scale!r} AS DOUBLE)"
    bucket_sql = f"least({BUCKETS - 1}, CAST(floor(({value} - {low_sql}) * {scale_sql}) AS BIGINT))"
    grouped = cursor.execute(
        f"SELECT {bucket_sql} AS bucket, count(*) AS values, sum({value} - {low_sql}) AS total"
        f" FROM {relation} WHERE {where} GROUP BY bucket"
    ).fetchnumpy()
    if len(grouped["bucket"]) <= 5:
        return None
    window_counts = np.zeros(BUCKETS, dtype=np.int64)
    window_sums = np.zeros(BUCKETS)
    window_counts[grouped["bucket"]] = grouped["values"]
    window_sums[grouped["bucket"]] = grouped["total"]
    reference_buckets = _buckets(reference, low, scale)
    reference_counts = np.bincount(reference_buckets, minlength=BUCKETS)
    reference_sums = np.bincount(reference_buckets, weights=reference - low, minlength=BUCKETS)

    starts = np.arange(BUCKETS) / scale  # each bucket's left edge, from ``low``
    width = 1 / scale
    reference_below = np.cumsum(reference_counts) - reference_counts
    window_below = np.cumsum(window_counts) - window_counts
    # Where one CDF is at or above the other over the whole bucket (compared in integers).
    apart = ((reference_below + reference_counts) * m <= window_below * n) | (
        (window_below + window_counts) * n <= reference_below * m
    )
    reference_area = (reference_below * width + reference_counts * (starts + width) - reference_sums) / n
    window_area = (window_below * width + window_counts * (starts + width) - window_sums) / m
    total = float(np.abs(reference_area - window_area)[apart].sum())
    crossing = np.flatnonzero(~apart)
    if len(crossing):
        total += _crossing_area(
            reference,
            reference_buckets,
            crossing,
            reference_below,
            window_below,
            n,
            m,
            low,
            scale,
            _window_values(cursor, relation, value, where, bucket_sql, crossing),
        )
    return total


def _buckets(values: np.ndarray, low: float, scale: float) -> np.ndarray:
    """The bucket of each value by the same float formula as the SQL (so a value on an edge
    lands in the same bucket on both sides)."""
    import numpy as np

    return np.minimum(BUCKETS - 1, np.floor((values - low) * scale)).astype(np.int64)


def _window_values(
    cursor: duckdb.DuckDBPyConnection,
    relation: str,
    value: str,
    where: str,
    bucket_sql: str,
    crossing: np.ndarray,
) -> np.ndarray:
    """The window's values in the buckets where the CDFs may cross, sorted."""
    import numpy as np

    found = cursor.execute(
        f"SELECT CAST({value} AS DOUBLE) AS v FROM {relation}"
        f" WHERE {where} AND {bucket_sql} IN (SELECT unnest(?::BIGINT[])) ORDER BY v",
        [crossing.tolist()],
    ).fetchnumpy()
    return np.asarray(found["v"], dtype=np.float64)


def _crossing_area(
    reference: np.ndarray,
    reference_buckets: np.ndarray,
    crossing: np.ndarray,
    reference_below: np.ndarray,
    window_below: np.ndarray,
    n: int,
    m: int,
    low: float,
    scale: float,
    window_values: np.ndarray,
) -> float:
    """The area between the CDFs over the buckets where they may cross, by merging the values in
    them: events are each bucket's two edges and every value in it, ordered by bucket and
    position; between neighbouring events of one bucket both CDFs are constant."""
    import numpy as np

    in_crossing = np.isin(reference_buckets, crossing)
    reference_points_buckets = reference_buckets[in_crossing]
    window_points_buckets = _buckets(window_values, low, scale)
    # A value sits in its bucket by the formula; its position is kept within the bucket's
    # edges (which are known only to that formula's rounding).
    reference_points = np.clip(
        reference[in_crossing] - low, reference_points_buckets / scale, (reference_points_buckets + 1) / scale
    )
    window_points = np.clip(
        window_values - low, window_points_buckets / scale, (window_points_buckets + 1) / scale
    )
    edges = crossing / scale
    # Event kinds in order at one position: a bucket's start, a value, the bucket's end.
    positions = np.concatenate([edges, reference_points, window_points, edges + 1 / scale])
    buckets = np.concatenate([crossing, reference_points_buckets, window_points_buckets, crossing])
    kinds = np.concatenate(
        [
            np.zeros(len(crossing)),
            np.ones(len(reference_points) + len(window_points)),
            np.full(len(crossing), 2.0),
        ]
    )
    from_reference = np.concatenate(
        [
            np.zeros(len(crossing)),
            np.ones(len(reference_points)),
            np.zeros(len(window_points) + len(crossing)),
        ]
    )
    from_window = np.concatenate(
        [
            np.zeros(len(crossing) + len(reference_points)),
            np.ones(len(window_points)),
            np.zeros(len(crossing)),
        ]
    )
    base_reference = np.concatenate([reference_below[crossing], np.zeros(len(positions) - len(crossing))])
    base_window = np.concatenate([window_below[crossing], np.zeros(len(positions) - len(crossing))])
    order = np.lexsort((kinds, positions, buckets))
    reference_cdf = np.cumsum(base_reference[order] + from_reference[order])
    window_cdf = np.cumsum(base_window[order] + from_window[order])
    # The running sums restart at each bucket's start event, which carries the counts below it.
    starts = np.flatnonzero(kinds[order] == 0)
    reference_cdf -= np.repeat(
        np.concatenate([[0.0], reference_cdf[starts[1:] - 1]]), np.diff(np.append(starts, len(order)))
    )
    window_cdf -= np.repeat(
        np.concatenate([[0.0], window_cdf[starts[1:] - 1]]), np.diff(np.append(starts, len(order)))
    )
    ordered = positions[order]
    same_bucket = buckets[order][1:] == buckets[order][:-1]
    lengths = np.where(same_bucket, np.diff(ordered), 0.0)
    return float(np.abs(reference_cdf[:-1] / n - window_cdf[:-1] / m) @ lengths)
