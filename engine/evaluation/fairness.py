"""Fairness per sensitive attribute: how each group is treated, and the gaps between groups.

Per group: rows, positive rate (share predicted positive), TPR, FPR and precision. Across the
groups large enough to judge (``min_group_size``): demographic parity difference and ratio
(of positive rates), equal opportunity difference (of TPRs) and equalised odds difference
(the larger of the TPR and FPR gaps), as Fairlearn defines them. A ratio below ``min_ratio``
(the four-fifths rule at 0.8) or a difference above ``max_difference`` is a violation. Small
groups are listed and marked, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.types.evaluation import AttributeFairness, GroupRates

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class FairnessBounds:
    min_ratio: float
    max_difference: float
    min_group_size: int


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def group_rates(
    truth: np.ndarray, predicted: np.ndarray, groups: np.ndarray, min_size: int
) -> list[GroupRates]:
    import numpy as np

    rates = []
    for group in sorted({str(g) for g in groups}):
        inside = np.array([str(g) == group for g in groups])
        t, p = truth[inside], predicted[inside]
        tp, fp = int(((t == 1) & (p == 1)).sum()), int(((t == 0) & (p == 1)).sum())
        rates.append(
            GroupRates(
                group=group,
                rows=int(inside.sum()),
                positive_rate=float(p.mean()),
                tpr=_rate(tp, int((t == 1).sum())),
                fpr=_rate(fp, int((t == 0).sum())),
                precision=_rate(tp, int((p == 1).sum())),
                too_small=int(inside.sum()) < min_size,
            )
        )
    return rates


def attribute_fairness(
    attribute: str, truth: np.ndarray, predicted: np.ndarray, groups: np.ndarray, bounds: FairnessBounds
) -> AttributeFairness:
    rates = group_rates(truth, predicted, groups, bounds.min_group_size)
    judged = [rate for rate in rates if not rate.too_small]
    if len(judged) < 2:
        return AttributeFairness(attribute, rates, None, None, None, None, [])
    positive = [rate.positive_rate for rate in judged]
    tpr = [rate.tpr for rate in judged if rate.tpr is not None]
    fpr = [rate.fpr for rate in judged if rate.fpr is not None]
    dp_difference = max(positive) - min(positive)
    dp_ratio = min(positive) / max(positive) if max(positive) > 0 else 1.0
    eo_difference = max(tpr) - min(tpr) if len(tpr) >= 2 else None
    fpr_difference = max(fpr) - min(fpr) if len(fpr) >= 2 else None
    gaps = [gap for gap in (eo_difference, fpr_difference) if gap is not None]
    odds_difference = max(gaps) if gaps else None
    violations = []
    if dp_ratio < bounds.min_ratio:
        violations.append(f"demographic parity ratio {dp_ratio:.3f} < {bounds.min_ratio:g}")
    for name, value in (
        ("demographic parity difference", dp_difference),
        ("equal opportunity difference", eo_difference),
        ("equalized odds difference", odds_difference),
    ):
        if value is not None and value > bounds.max_difference:
            violations.append(f"{name} {value:.3f} > {bounds.max_difference:g}")
    return AttributeFairness(
        attribute, rates, dp_difference, dp_ratio, eo_difference, odds_difference, violations
    )
