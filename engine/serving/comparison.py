"""``mlops deploy compare``: an endpoint's variants side by side on the traffic they answered.

The point of a canary, an A/B test or a shadow is to learn whether the new model does better
on live traffic, so each variant gets, on its labelled predictions, its accuracy (Wilson 95%
interval) and its business cost per prediction (the evaluation's cost matrix: a missed
positive costs ``cost_false_negative``, a false alarm ``cost_false_positive``; normal 95%
interval), and the two variants are tested against each other:

- independent groups (canary, A/B, blue/green): a two-proportion z test for accuracy and
  Welch's t test for cost;
- a shadow, which answers the very rows the primary answers: McNemar's test (exact binomial) on
  the rows where exactly one of them is right, and a paired t test for cost; plus how often the
  two agree and how far their scores are apart, which needs no labels at all.

A difference with p < 0.05 is reported as real; otherwise the verdict says plainly that it is
still noise. Only the rows of the variants the endpoint serves now count (a version that was
served before and replaced is not part of today's comparison).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.serving.labels import label_text_sql
from engine.types.serving import (
    Comparison,
    Difference,
    Estimate,
    ServedEndpoint,
    ShadowAgreement,
    VariantOutcome,
)

if TYPE_CHECKING:
    import numpy as np

    from engine.db import Database

SIGNIFICANCE = 0.05
MIN_LABELLED = 30
"""Below this many labelled predictions per variant no test is run: an interval that wide says
nothing."""
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Costs:
    false_negative: float
    false_positive: float


@dataclass(frozen=True)
class _Labelled:
    """A variant's labelled rows: whether each was right and what it cost, in (request, row) order."""

    keys: list[tuple[str, int]]
    correct: np.ndarray
    cost: np.ndarray | None


def compare(
    db: Database, served: ServedEndpoint, positive_classes: dict[str, str | None], costs: Costs
) -> Comparison:
    """``served``'s variants compared on the log; ``positive_classes`` by variant role (None for
    a model of more than two classes: it has no cost)."""
    import numpy as np

    outcomes: list[VariantOutcome] = []
    labelled: dict[str, _Labelled] = {}
    for variant in served.variants:
        where = "endpoint = ? AND variant = ? AND model = ? AND version = ? AND status = 200"
        parameters = [served.endpoint, variant.role, variant.model, variant.version]
        with db.cursor() as cursor:
            row = cursor.execute(
                f"SELECT count(*), avg(score) FROM prediction_log WHERE {where}", parameters
            ).fetchone()
            rows = cursor.execute(
                f'SELECT p.request_id, p."row", {label_text_sql("p.label")}, {label_text_sql("l.label")}'
                f' FROM prediction_log p JOIN prediction_labels l USING (request_id, "row") WHERE {where}'
                ' ORDER BY p.request_id, p."row"',
                parameters,
            ).fetchall()
        assert row is not None
        positive = positive_classes.get(variant.role)
        correct = np.array([predicted == truth for _, _, predicted, truth in rows], dtype=float)
        cost = None
        if positive is not None:
            cost = np.array(
                [_cost(predicted == positive, truth == positive, costs) for _, _, predicted, truth in rows]
            )
        labelled[variant.role] = _Labelled([(r[0], r[1]) for r in rows], correct, cost)
        outcomes.append(
            VariantOutcome(
                variant.role,
                variant.model,
                variant.version,
                int(row[0]),
                len(rows),
                None if row[1] is None else float(row[1]),
                _wilson(correct) if len(rows) else None,
                _mean_interval(cost) if cost is not None and len(cost) else None,
            )
        )
    shadow = agreement(db, served) if served.strategy == "shadow" else None
    differences = _differences(served.strategy, outcomes, labelled)
    return Comparison(
        served.endpoint, served.strategy, outcomes, differences, shadow, _verdict(outcomes, differences)
    )


def _cost(predicted_positive: bool, truly_positive: bool, costs: Costs) -> float:
    if truly_positive and not predicted_positive:
        return costs.false_negative
    if predicted_positive and not truly_positive:
        return costs.false_positive
    return 0.0


def _wilson(correct: np.ndarray) -> Estimate:
    n = len(correct)
    rate = float(correct.mean())
    centre = (rate + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
    half = Z_95 * math.sqrt(rate * (1 - rate) / n + Z_95**2 / (4 * n * n)) / (1 + Z_95**2 / n)
    return Estimate(rate, max(0.0, centre - half), min(1.0, centre + half))


def _mean_interval(values: np.ndarray) -> Estimate:
    mean = float(values.mean())
    half = Z_95 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else math.inf
    return Estimate(mean, mean - half, mean + half)


def _differences(
    strategy: str, outcomes: list[VariantOutcome], labelled: dict[str, _Labelled]
) -> list[Difference]:
    """The second variant against the first, if both have enough labels."""
    if len(outcomes) != 2:
        return []
    first, second = (labelled[outcome.variant] for outcome in outcomes)
    if min(len(first.correct), len(second.correct)) < MIN_LABELLED:
        return []
    if strategy == "shadow":
        return _paired(first, second)
    return _independent(first, second)


def _independent(first: _Labelled, second: _Labelled) -> list[Difference]:
    from scipy import stats

    n1, n2 = len(first.correct), len(second.correct)
    p1, p2 = float(first.correct.mean()), float(second.correct.mean())
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_accuracy = 1.0 if spread == 0 else float(2 * stats.norm.sf(abs(p2 - p1) / spread))
    found = [_difference("accuracy", "two-proportion z test", p2 - p1, p_accuracy)]
    if first.cost is not None and second.cost is not None:
        tested = stats.ttest_ind(second.cost, first.cost, equal_var=False)
        found.append(
            _difference(
                "cost_per_prediction",
                "Welch's t test",
                float(second.cost.mean() - first.cost.mean()),
                _p(tested.pvalue),
            )
        )
    return found


def _paired(first: _Labelled, second: _Labelled) -> list[Difference]:
    """The rows both answered (the same requests), tested pair by pair."""
    from scipy import stats

    common = sorted(set(first.keys) & set(second.keys))
    at_first = {key: i for i, key in enumerate(first.keys)}
    at_second = {key: i for i, key in enumerate(second.keys)}
    a = [at_first[key] for key in common]
    b = [at_second[key] for key in common]
    right_first, right_second = first.correct[a], second.correct[b]
    only_second = int(((right_second == 1) & (right_first == 0)).sum())
    only_first = int(((right_first == 1) & (right_second == 0)).sum())
    discordant = only_first + only_second
    p_accuracy = 1.0 if discordant == 0 else float(stats.binomtest(only_second, discordant).pvalue)
    accuracy_gain = float(right_second.mean() - right_first.mean()) if common else 0.0
    found = [_difference("accuracy", "McNemar's exact test", accuracy_gain, p_accuracy)]
    if first.cost is not None and second.cost is not None and common:
        change = second.cost[b] - first.cost[a]
        p_cost = 1.0 if not change.any() else _p(stats.ttest_1samp(change, 0.0).pvalue)
        found.append(_difference("cost_per_prediction", "paired t test", float(change.mean()), p_cost))
    return found


def _p(value: Any) -> float:
    return 1.0 if value is None or math.isnan(float(value)) else float(value)


def _difference(metric: str, test: str, difference: float, p_value: float) -> Difference:
    return Difference(metric, test, difference, p_value, p_value < SIGNIFICANCE)


def agreement(db: Database, served: ServedEndpoint, seconds: float | None = None) -> ShadowAgreement | None:
    """How the shadow's answers compare with the primary's on the same rows (of the last
    ``seconds`` if given); None for an endpoint without a shadow."""
    roles = {variant.role: variant for variant in served.variants}
    primary, shadow = roles.get("primary"), roles.get("shadow")
    if primary is None or shadow is None:
        return None
    with db.cursor() as cursor:
        row = cursor.execute(
            "SELECT count(*), avg(CASE WHEN p.label = s.label THEN 1.0 ELSE 0.0 END),"
            " avg(s.score - p.score), avg(abs(s.score - p.score)), max(abs(s.score - p.score))"
            ' FROM prediction_log p JOIN prediction_log s USING (endpoint, request_id, "row")'
            " WHERE p.endpoint = ? AND p.variant = 'primary' AND s.variant = 'shadow'"
            " AND p.model = ? AND p.version = ? AND s.model = ? AND s.version = ? AND p.status = 200"
            " AND (CAST(? AS DOUBLE) IS NULL OR p.logged_at >= now() - to_seconds(CAST(? AS DOUBLE)))",
            [served.endpoint, primary.model, primary.version, shadow.model, shadow.version, seconds, seconds],
        ).fetchone()
    if row is None or not row[0]:
        return ShadowAgreement(0, math.nan, math.nan, math.nan, math.nan)
    return ShadowAgreement(int(row[0]), *(float(value) for value in row[1:]))


def _verdict(outcomes: list[VariantOutcome], differences: list[Difference]) -> str:
    if not any(outcome.labelled for outcome in outcomes):
        return "no labels yet (`mlops labels ingest FILE` joins them): only the scores compare"
    if len(outcomes) < 2:
        return f"one variant: {_described(outcomes[0])}"
    if not differences:
        counts = " and ".join(f"{outcome.labelled:,}" for outcome in outcomes)
        return (
            f"too few labelled predictions to compare ({counts}; at least {MIN_LABELLED} each): "
            "the difference is still noise"
        )
    first, second = (f"{o.variant} ({o.model} v{o.version})" for o in outcomes)
    said = []
    for difference in differences:
        better = difference.difference > 0 if difference.metric == "accuracy" else difference.difference < 0
        what = "accuracy" if difference.metric == "accuracy" else "cost per prediction"
        if difference.significant:
            winner, loser = (second, first) if better else (first, second)
            said.append(f"{winner} beats {loser} on {what} (p = {difference.p_value:.3g})")
        else:
            said.append(f"the {what} difference is still noise (p = {difference.p_value:.2f})")
    return "; ".join(said)


def _described(outcome: VariantOutcome) -> str:
    accuracy = outcome.accuracy
    shown = f"accuracy {accuracy.value:.3f} [{accuracy.low:.3f}, {accuracy.high:.3f}]" if accuracy else ""
    return f"{outcome.variant} ({outcome.model} v{outcome.version}) {shown} on {outcome.labelled:,} labels"
