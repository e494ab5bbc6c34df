"""Scores and fairness on small hand-checked arrays, and against scikit-learn on larger ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

from engine.evaluation.fairness import FairnessBounds, attribute_fairness
from engine.evaluation.scores import CURVE_POINTS, Costs, score
from engine.types.evaluation import CheapestThreshold, Confusion, Scores

COSTS = Costs(false_negative=200.0, false_positive=20.0)


def test_metrics_confusion_and_business_on_a_hand_checked_case() -> None:
    truth = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    probability = np.array([0.9, 0.6, 0.3, 0.7, 0.2, 0.1, 0.4, 0.05])
    result = score(truth, probability, COSTS)
    assert result.confusion == Confusion(tn=4, fp=1, fn=1, tp=2)
    assert result.metrics["precision"] == pytest.approx(2 / 3) and result.metrics["recall"] == pytest.approx(
        2 / 3
    )
    assert result.metrics["brier"] == pytest.approx(np.mean((probability - truth) ** 2))
    business = result.business
    assert business.cost_at_0_5 == 1 * 200 + 1 * 20
    assert (business.cost_acting_on_nobody, business.cost_acting_on_everybody) == (600, 100)
    # A threshold at or below 0.3 catches every churner for two false alarms: 40.
    assert result.cheapest_threshold == CheapestThreshold(threshold=pytest.approx(0.21), cost=40.0)
    assert business.savings_vs_best_baseline == 100 - 40
    assert result.best_f1_threshold.f1 == pytest.approx(
        max(metrics.f1_score(truth, probability >= cut) for cut in np.arange(0.01, 1.0, 0.01))
    )
    assert [row.support for row in result.per_class] == [5, 3]
    stored = json.dumps(result.to_dict())  # NaN in empty calibration bins: compare as stored
    assert json.dumps(Scores.from_dict(json.loads(stored)).to_dict()) == stored


def test_larger_samples_agree_with_scikit_learn() -> None:
    generator = np.random.default_rng(7)
    truth = generator.integers(0, 2, 5000)
    probability = np.clip(truth * 0.3 + generator.random(5000) * 0.7, 0, 1)
    result = score(truth, probability, COSTS)
    assert result.metrics["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth, probability))
    assert result.metrics["pr_auc"] == pytest.approx(metrics.average_precision_score(truth, probability))
    assert result.metrics["f1"] == pytest.approx(metrics.f1_score(truth, probability >= 0.5))
    assert len(result.roc) <= CURVE_POINTS and len(result.pr) <= CURVE_POINTS
    assert result.roc[0][:2] == (0.0, 0.0) and result.roc[-1][:2] == (1.0, 1.0)
    assert sum(row.count for row in result.calibration) == 5000
    with pytest.raises(ValueError, match="0/1 labels"):
        score(np.array([0, 2]), np.array([0.1, 0.9]), COSTS)


def test_fairness_rates_gaps_small_groups_and_violations() -> None:
    truth = np.array([1, 1, 0, 0, 1, 1, 0, 0, 1, 0])
    predicted = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1, 1])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "c", "c"])
    bounds = FairnessBounds(min_ratio=0.8, max_difference=0.1, min_group_size=3)
    result = attribute_fairness("group", truth, predicted, groups, bounds)
    rates = {rate.group: rate for rate in result.groups}
    assert (rates["a"].positive_rate, rates["a"].tpr, rates["a"].fpr) == (0.75, 1.0, 0.5)
    assert (rates["b"].positive_rate, rates["b"].tpr, rates["b"].fpr) == (0.25, 0.5, 0.0)
    assert rates["c"].too_small and not rates["a"].too_small  # 2 rows: listed, not judged
    assert result.demographic_parity_difference == pytest.approx(0.5)
    assert result.demographic_parity_ratio == pytest.approx(1 / 3)
    assert result.equal_opportunity_difference == pytest.approx(0.5)
    assert result.equalized_odds_difference == pytest.approx(0.5)
    assert result.violations[0] == "demographic parity ratio 0.333 < 0.8"
    assert len(result.violations) == 4

    lonely = attribute_fairness("group", truth, predicted, groups, FairnessBounds(0.8, 0.1, 5))
    assert not lonely.judged and lonely.violations == [] and len(lonely.groups) == 3
