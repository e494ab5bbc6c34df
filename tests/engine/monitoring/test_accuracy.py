"""Live accuracy from late labels: windows of event time per variant, the newest checked against
the model's own evaluation, an alert once enough labels show it below the floor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import mlops_json, prediction_batch


@pytest.fixture
def served(registry_workspace: Path) -> Iterator[Engine]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        engine.deployments.deploy("churn-api", "churn@v2")
        yield engine


def traffic(engine: Engine, week: datetime, rows: int, right: int, prefix: str) -> None:
    """``rows`` predictions of churn v2 (label 1, score 0.8) in the week, ``right`` truly 1."""
    moments = [(week + timedelta(minutes=index)).timestamp() for index in range(rows)]
    engine.predictions.append(
        prediction_batch(
            *(
                {"logged_at": moment, "event_time": moment, "version": 2, "request_id": f"{prefix}{index}",
                 "features": "{}", "score": 0.8}
                for index, moment in enumerate(moments)
            )
        )
    )  # fmt: skip
    labels = engine.workspace.root / f"{prefix}.csv"
    labels.write_text(
        "request_id,churned\n" + "".join(f"{prefix}{i},{int(i < right)}\n" for i in range(rows))
    )
    engine.labels.ingest(str(labels))


def test_windows_per_week_and_an_alert_when_the_newest_falls_below(served: Engine) -> None:
    first = datetime(2026, 6, 29, tzinfo=UTC)
    traffic(served, first, 150, 140, "a")  # week 1: 140 of 150 right
    traffic(served, first + timedelta(days=7), 150, 60, "b")  # week 2: the model breaks
    report = served.accuracy.check("churn-api", "7d")
    old, new = report.windows
    assert (old.labelled, new.labelled) == (150, 150)
    assert old.accuracy == pytest.approx(140 / 150) and new.accuracy == pytest.approx(60 / 150)
    assert new.precision == pytest.approx(0.4) and new.recall == 1.0
    assert new.roc_auc == 0.5  # every score is 0.8: no ranking at all
    (check,) = report.checks
    assert check.metric == "f1" and check.value == pytest.approx(new.f1)
    assert check.baseline is not None and check.floor == pytest.approx(check.baseline - 0.05)
    assert check.below is True and check.alert_id is None  # reading raises nothing

    alerted = served.accuracy.check("churn-api", "7d", alert=True)
    assert alerted.checks[0].alert_id is not None
    (raised,) = served.alerts.all()
    assert raised.source == "accuracy:churn-api" and "f1 0.571" in raised.message
    assert served.accuracy.check("churn-api", "7d", alert=True).checks[0].alert_id is None  # deduplicated

    one_window = served.accuracy.check("churn-api", "30d")
    assert len(one_window.windows) == 1 and one_window.windows[0].labelled == 300
    assert one_window.checks[0].below is False  # 200 of 300 right


def test_too_few_labels_say_so_and_bad_input_is_refused(served: Engine) -> None:
    traffic(served, datetime(2026, 7, 1, tzinfo=UTC), 20, 0, "c")
    (check,) = served.accuracy.check("churn-api").checks
    assert check.labelled == 20 and check.below is None
    for endpoint, window, metric, message in [
        ("nope", None, None, "no deployment named 'nope'"),
        ("churn-api", "soon", None, "--since soon: expected a duration"),
        ("churn-api", None, "vibes", "--metric vibes: expected one of accuracy"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            served.accuracy.check(endpoint, window, metric)
    served.close()
    shown = mlops_json(served.workspace.root, "accuracy", "churn-api")
    assert json.dumps(shown["checks"][0]["labelled"]) == "20"
