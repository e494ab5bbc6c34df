"""The drift tests, computed as Evidently 0.7.23 computes them (its DataDriftPreset), on
``Sample``s: a column's cleaned values (nulls and infinities dropped, integers kept integers)
as their distinct values with counts, and for a number also all values, sorted. Counts come
from DuckDB (a GROUP BY) without moving the rows; a category's rows never leave it.

Each test returns its statistic; whether it means drift depends on the test: a p value drifts
when it is below the threshold (``ks`` at or below, as Evidently has it), a distance when it is
at or above. Where Evidently's choice of formula changes the last digits (the z test's
``1 - cdf``, Sturges bins on integer data, the zero fill of PSI and KL), the same formula is
used here, so the statistics agree to ~1e-12, not only the verdicts. The source of each rule is
Evidently's ``legacy/calculations/stattests`` package; tests/engine/monitoring checks the
agreement against Evidently itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

Kind = Literal["number", "category"]

SMALL_REFERENCE_ROWS = 1000
"""Up to this many (cleaned) reference values a column gets a p-value test, above it a distance."""
FEW_VALUES = 5
BINNED_VALUES = 20
EXACT_KS_VALUES = 10_000  # scipy's ks_2samp is exact up to this many values a side
"""A numeric column with more distinct reference values than this is binned (Sturges) for the
binned distances; with fewer, each value is its own bin."""


class Sample:
    """One column of one data set, cleaned: its distinct values with their counts, and for a
    number every value, sorted (the tests on numbers need the whole distribution). A number's
    distinct values are counted only when a test asks (Wasserstein and KS never do)."""

    def __init__(self, keys: Sequence[Any], counts: np.ndarray) -> None:
        """A category's sample: its values and how often each occurs."""
        self.__dict__.update(keys=keys, counts=counts)
        self.values: np.ndarray | None = None

    @classmethod
    def of_sorted(cls, ordered: np.ndarray) -> Sample:
        """A number's sample from its values in ascending order (as DuckDB returns them)."""
        import numpy as np

        if len(ordered) > 1 and bool(np.any(ordered[1:] < ordered[:-1])):
            ordered = np.sort(ordered, kind="stable")
        sample = cls.__new__(cls)
        sample.values = ordered
        return sample

    @cached_property
    def keys(self) -> Sequence[Any] | np.ndarray:
        """The distinct values: a list (categories), or a sorted array (numbers)."""
        return self._distinct_values()[0]

    @cached_property
    def counts(self) -> np.ndarray:
        return self._distinct_values()[1]

    def _distinct_values(self) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        ordered = _values(self)
        starts = np.ones(len(ordered), dtype=bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        positions = np.flatnonzero(starts)
        return ordered[positions], np.diff(np.append(positions, len(ordered))).astype(float)

    @property
    def size(self) -> int:
        return len(self.values) if self.values is not None else int(self.counts.sum())

    def has_more_distinct_than(self, limit: int) -> bool:
        """Whether there are more than ``limit`` distinct values, found without counting them
        all (a number jumps from each value past its ties by binary search)."""
        import numpy as np

        if self.values is None or "keys" in self.__dict__:
            return len(self.keys) > limit
        position, seen = 0, 0
        while position < len(self.values) and seen <= limit:
            position = int(np.searchsorted(self.values, self.values[position], "right"))
            seen += 1
        return seen > limit

    @cached_property
    def spread(self) -> float:
        """The values' standard deviation (population), kept with the sample."""
        import numpy as np

        return float(np.std(_values(self)))

    def count_of(self, key: Any) -> float:
        return float(dict(zip(_listed(self.keys), self.counts.tolist(), strict=True)).get(key, 0.0))


def _listed(keys: Sequence[Any] | np.ndarray) -> list[Any]:
    """Keys as Python values (numpy scalars compare and hash like them, but lists are cheaper
    to put in sets): only ever called on few keys."""
    return keys.tolist() if hasattr(keys, "tolist") else list(keys)


@dataclass(frozen=True)
class Test:
    name: str  # Evidently's registry name: ks, chisquare, z, wasserstein, jensenshannon, psi, ...
    kinds: frozenset[str]
    default_threshold: float
    is_p_value: bool
    compute: Callable[[Sample, Sample, Kind], float]

    def drifted(self, statistic: float, threshold: float) -> bool:
        if self.name == "ks":
            return statistic <= threshold
        return statistic < threshold if self.is_p_value else statistic >= threshold


def default_test(reference: Sample, current: Sample, kind: Kind) -> str:
    """Evidently's choice by the reference's size and the number of distinct values (only
    whether there are more than 5 matters, so large samples are not unioned)."""
    few = (
        not reference.has_more_distinct_than(FEW_VALUES)
        and not current.has_more_distinct_than(FEW_VALUES)
        and len(_distinct(reference, current)) <= FEW_VALUES
    )
    values = len(_distinct(reference, current)) if few else FEW_VALUES + 1
    if reference.size <= SMALL_REFERENCE_ROWS:
        if kind == "number" and values > FEW_VALUES:
            return "ks"
        return "chisquare" if values > 2 else "z"
    if kind == "number" and values > FEW_VALUES:
        return "wasserstein"
    return "jensenshannon"


def _distinct(reference: Sample, current: Sample) -> list[Any]:
    """The union of both samples' values, in the order Evidently iterates it (a Python set's)."""
    return list(set(_listed(reference.keys)) | set(_listed(current.keys)))


def _counts(reference: Sample, current: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct value's count in either sample, over the union of their values."""
    import numpy as np

    keys = _distinct(reference, current)
    counted = []
    for sample in (reference, current):
        found = dict(zip(_listed(sample.keys), sample.counts.tolist(), strict=True))
        counted.append(np.array([found.get(key, 0) for key in keys], dtype=float))
    return counted[0], counted[1]


def _values(sample: Sample) -> np.ndarray:
    assert sample.values is not None, "a test on numbers needs the sample's values"
    return sample.values


def ks(reference: Sample, current: Sample, kind: Kind) -> float:
    """The two-sample Kolmogorov-Smirnov p value as scipy's ``ks_2samp`` gives it: exact up to
    10,000 values a side (scipy itself), else from the statistic D by the asymptotic
    distribution (``kstwo`` at n*m/(n+m)), with D taken here from the sorted samples instead
    of scipy sorting them again."""
    from scipy.stats import ks_2samp, kstwo

    u, v = _values(reference), _values(current)
    if max(len(u), len(v)) <= EXACT_KS_VALUES:
        return float(ks_2samp(u, v)[1])
    below_u, below_v = _cdfs(u, v)
    statistic = float(abs(below_u - below_v).max())
    effective = round(len(u) * len(v) / (len(u) + len(v)))
    return float(min(1.0, max(0.0, kstwo.sf(statistic, effective))))


def _cdfs(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both empirical CDFs at each point of the merged sorted samples (but the last). The
    merge puts ``u``'s points before ``v``'s equal ones; each is placed by a binary search of
    the shorter sample in the longer, and each CDF is a running count of its own points (equal
    to counting the points at or below where it matters, since tied points are adjacent)."""
    import numpy as np

    n, m = len(u), len(v)
    from_u = np.zeros(n + m, dtype=bool)
    if n <= m:
        from_u[np.searchsorted(v, u, "left") + np.arange(n)] = True
    else:
        from_u[:] = True
        from_u[np.searchsorted(u, v, "right") + np.arange(m)] = False
    below_u = np.cumsum(from_u)[:-1]
    below_v = np.arange(1, n + m) - below_u
    return below_u / n, below_v / m


def chisquare(reference: Sample, current: Sample, kind: Kind) -> float:
    """Pearson's chi-square p value of the current counts against the reference's, scaled; a
    value the reference never had makes it 0."""
    import numpy as np
    from scipy.special import chdtrc

    observed_reference, observed = _counts(reference, current)
    expected = observed_reference * (current.size / reference.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.sum((observed - expected) ** 2 / expected)
    return float(chdtrc(len(observed) - 1, statistic))


def z(reference: Sample, current: Sample, kind: Kind) -> float:
    """The two-proportion z test's p value, the smallest value against the rest."""
    import numpy as np
    from scipy.special import ndtr

    if len(reference.keys) == 1 and len(current.keys) == 1 and reference.keys[0] == current.keys[0]:
        return 1.0
    first = sorted(_distinct(reference, current))[0]
    n1, n2 = reference.size, current.size
    p1, p2 = (n1 - reference.count_of(first)) / n1, (n2 - current.count_of(first)) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    statistic = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - ndtr(abs(statistic))))


def wasserstein(reference: Sample, current: Sample, kind: Kind) -> float:
    """The Wasserstein distance between the two samples, in units of the reference's standard
    deviation (population; at least 0.001)."""
    return _quantile_distance(_values(reference), _values(current)) / max(reference.spread, 0.001)


def _quantile_distance(u: np.ndarray, v: np.ndarray) -> float:
    """The first Wasserstein distance of two sorted samples, as the area between their quantile
    functions (equal to scipy's area between the CDFs). The quantile levels ``i/n`` and ``j/m``
    are counted in units of ``1/(n*m)`` so that they merge without a sort: level ``i*m`` has
    ``ceil(i*m/n) - 1`` of the other's levels below it. Over each step between neighbouring
    levels both quantile functions are constant, so the area is a sum of widths times gaps."""
    import numpy as np

    n, m = len(u), len(v)
    u_levels = np.arange(1, n + 1, dtype=np.int64) * m
    v_levels = np.arange(1, m + 1, dtype=np.int64) * n
    levels = np.empty(n + m, dtype=np.int64)
    levels[np.arange(n) + (u_levels - 1) // n] = u_levels
    levels[np.arange(m) + v_levels // m] = v_levels
    widths = np.diff(levels, prepend=0)
    gaps = np.abs(np.subtract(u[(levels + m - 1) // m - 1], v[(levels + n - 1) // n - 1], dtype=np.float64))
    return float(gaps @ widths.astype(np.float64)) / (n * m)


def _shares(
    reference: Sample, current: Sample, kind: Kind, fill_zeros: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each bin's share of either sample: Sturges bins over both samples for a numeric column
    with more than 20 distinct reference values, else one bin per value. ``fill_zeros`` puts a
    tiny share in empty bins (the reference's smallest share / 1e6, or 1e-4)."""
    import numpy as np

    if kind == "number" and len(reference.keys) > BINNED_VALUES:
        u, v = _values(reference), _values(current)
        edges = np.histogram_bin_edges(np.concatenate([u, v]), bins="sturges")
        reference_shares = np.histogram(u, edges)[0] / len(u)
        current_shares = np.histogram(v, edges)[0] / len(v)
    else:
        reference_counts, current_counts = _counts(reference, current)
        reference_shares, current_shares = reference_counts / reference.size, current_counts / current.size
    if fill_zeros:
        for shares in (reference_shares, current_shares):
            smallest = shares[shares != 0].min()
            shares[shares == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return reference_shares, current_shares


def jensenshannon(reference: Sample, current: Sample, kind: Kind) -> float:
    """The Jensen-Shannon distance (natural log) between the binned shares."""
    import numpy as np

    p, q = _shares(reference, current, kind, fill_zeros=False)
    p, q = p / p.sum(), q / q.sum()
    middle = (p + q) / 2

    def relative_entropy(a: np.ndarray, b: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 * log(0): the where drops it
            return float(np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / b), 0.0)))

    return float(np.sqrt((relative_entropy(p, middle) + relative_entropy(q, middle)) / 2))


def psi(reference: Sample, current: Sample, kind: Kind) -> float:
    """The population stability index of the binned shares."""
    import numpy as np

    p, q = _shares(reference, current, kind, fill_zeros=True)
    return float(np.sum((p - q) * np.log(p / q)))


def kl_div(reference: Sample, current: Sample, kind: Kind) -> float:
    """The Kullback-Leibler divergence of the reference's binned shares from the current's."""
    import numpy as np

    p, q = _shares(reference, current, kind, fill_zeros=True)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def hellinger(reference: Sample, current: Sample, kind: Kind) -> float:
    """The Hellinger distance: over the values for a category, over Sturges bins of the
    distinct values (densities) for a number."""
    import numpy as np

    if kind == "category":
        reference_counts, current_counts = _counts(reference, current)
        overlap = float(
            np.sum(np.sqrt((reference_counts / reference.size) * (current_counts / current.size)))
        )
    else:
        edges = np.histogram_bin_edges(np.union1d(reference.keys, current.keys), bins="sturges")
        h1 = np.histogram(_values(reference), bins=edges, density=True)[0]
        h2 = np.histogram(_values(current), bins=edges, density=True)[0]
        width = (max(edges) - min(edges)) / (len(edges) - 1)
        overlap = float(np.sum(np.sqrt(h1 * h2) * width))
    return float(np.sqrt(1 - min(max(overlap, 0.0), 1.0)))


BOTH = frozenset({"number", "category"})
TESTS: dict[str, Test] = {
    test.name: test
    for test in (
        Test("ks", frozenset({"number"}), 0.05, True, ks),
        Test("chisquare", frozenset({"category"}), 0.05, True, chisquare),
        Test("z", frozenset({"category"}), 0.05, True, z),
        Test("wasserstein", frozenset({"number"}), 0.1, False, wasserstein),
        Test("jensenshannon", BOTH, 0.1, False, jensenshannon),
        Test("psi", BOTH, 0.1, False, psi),
        Test("kl_div", BOTH, 0.1, False, kl_div),
        Test("hellinger", BOTH, 0.1, False, hellinger),
    )
}
"""The tests by Evidently's names. A default choice may give a number a test registered for
categories (a numeric column of 2-5 values gets z or chisquare), as Evidently does; a test
named by the user must be registered for the column's kind."""
