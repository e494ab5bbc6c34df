"""The prediction log as the owner keeps it (batches in, rows out), late labels joined by
request id or by entity and time, and `mlops deploy compare` on logged traffic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import mlops_json, prediction_batch, run_mlops


@pytest.fixture
def registry(registry_workspace: Path) -> Iterator[Engine]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        yield engine


def test_batches_land_whole_and_read_back_newest_first(registry: Engine) -> None:
    earlier = datetime(2026, 7, 1, tzinfo=UTC).timestamp()
    added = registry.predictions.append(
        prediction_batch(
            {"request_id": "r1", "logged_at": earlier, "features": '{"age": null, "country": "US"}'},
            {"request_id": "r2", "logged_at": earlier + 1, "score": 0.9, "entity_key": "customer_id"},
            {
                "request_id": "r3",
                "logged_at": earlier + 2,
                "row": None,
                "variant": None,
                "model": None,
                "version": None,
                "features": None,
                "score": None,
                "label": None,
                "status": 400,
                "error": "instances: expected a non-empty list of rows",
            },
        )
    )
    assert added == 3 and registry.predictions.count() == 3 and registry.predictions.count("other") == 0
    newest, middle, oldest = registry.predictions.recent("churn-api", 10)
    assert [newest.request_id, middle.request_id, oldest.request_id] == ["r3", "r2", "r1"]
    assert newest.status == 400 and newest.error.startswith("instances:") and newest.row is None
    assert oldest.features == {"age": None, "country": "US"} and oldest.truth is None
    assert oldest.event_time == datetime(2026, 7, 1)  # naive UTC, as the datasets' times are
    assert registry.predictions.recent(limit=1)[0].request_id == "r3"
    registry.close()  # the commands own the workspace themselves
    shown = mlops_json(registry.workspace.root, "predictions", "--endpoint", "churn-api", "--limit", "2")
    assert [row["request_id"] for row in shown["predictions"]] == ["r3", "r2"]


def test_live_stats_count_requests_per_step_with_latency_and_errors(registry: Engine) -> None:
    """The last minute in 12 steps of 5 s: a request of two rows counts once, a 500 is an error,
    a refusal before routing is its own variant, and older rows are outside the window."""
    now = datetime.now(UTC).timestamp()
    registry.predictions.append(
        prediction_batch(
            *({"request_id": f"p{i}", "logged_at": now - 1, "latency_ms": float(i + 1)} for i in range(10)),
            {"request_id": "p0", "logged_at": now - 1, "row": 1, "latency_ms": 1.0},  # a second instance
            {"request_id": "c1", "logged_at": now - 2, "variant": "canary", "status": 500, "latency_ms": 9.0},
            {"request_id": "c2", "logged_at": now - 12, "variant": "canary", "latency_ms": 3.0},
            {"request_id": "bad", "logged_at": now - 1, "variant": None, "status": 400, "row": None},
            {"request_id": "old", "logged_at": now - 600},
        )
    )
    stats = {(s.endpoint, s.variant): s for s in registry.predictions.stats(60, 12)}
    assert set(stats) == {("churn-api", "primary"), ("churn-api", "canary"), ("churn-api", "(none)")}
    primary, canary = stats["churn-api", "primary"], stats["churn-api", "canary"]
    assert primary.requests_per_second[-1] == 10 / 5 and sum(primary.requests_per_second[:-1]) == 0
    assert primary.p50_ms[-1] == pytest.approx(5.5) and primary.p99_ms[-1] == pytest.approx(9.91)
    assert primary.error_rate[-1] == 0 and primary.p50_ms[0] is None
    assert (
        canary.error_rate[-1] == 1.0
        and canary.error_rate[-3] == 0.0
        and canary.requests_per_second[-3] == 0.2
    )
    assert stats["churn-api", "(none)"].error_rate[-1] == 0  # a 400 is the client's mistake
    with pytest.raises(InvalidInput, match="expected 1 or more of each"):
        registry.predictions.stats(0, 12)


def test_labels_join_by_request_id_and_a_newer_file_replaces_them(registry: Engine, tmp_path: Path) -> None:
    registry.predictions.append(
        prediction_batch({"request_id": "a", "label": "1"}, {"request_id": "b", "label": "0"})
    )
    registry.predictions.append(prediction_batch({"request_id": "b", "row": 1, "label": "1"}))
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,row,churned\na,0,1.0\nb,1,0\nnope,0,1\nb,0,\n")
    joined = registry.labels.ingest(str(labels))
    assert (joined.joined_by, joined.rows, joined.matched, joined.replaced, joined.unmatched) == (
        "request id",
        4,
        2,
        0,
        2,
    )
    truths = {(p.request_id, p.row): p.truth for p in registry.predictions.recent()}
    assert truths == {("a", 0): "1", ("b", 0): None, ("b", 1): "0"}  # 1.0 reads as 1
    labels.write_text("request_id,churned\na,0\n")  # no row column: row 0
    again = registry.labels.ingest(str(labels))
    assert (again.matched, again.replaced) == (1, 1)
    assert next(p.truth for p in registry.predictions.recent() if p.request_id == "a") == "0"


def test_labels_join_by_entity_to_the_newest_prediction_at_or_before_their_time(
    registry: Engine, tmp_path: Path
) -> None:
    def at(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    keyed = {"entity_key": "customer_id"}
    registry.predictions.append(
        prediction_batch(
            {**keyed, "request_id": "early", "entity": "42", "event_time": at("2026-06-29 04:00:00")},
            {**keyed, "request_id": "late", "entity": "42", "event_time": at("2026-07-05 10:00:00")},
            {**keyed, "request_id": "other", "entity": "43", "event_time": at("2026-06-29 05:00:00")},
        )
    )
    labels = tmp_path / "churn_labels.csv"
    labels.write_text(
        "customer_id,event_timestamp,churned,labelled_at\n"
        "42,2026-06-29 04:00:00,1,2026-07-13 06:03:17\n"
        "42,2026-07-06 00:00:00,0,2026-07-20 06:03:17\n"
        "43,2026-06-28 00:00:00,1,2026-07-13 06:03:17\n"  # before its only prediction: no match
        "44,2026-06-29 00:00:00,1,2026-07-13 06:03:17\n"
    )
    joined = registry.labels.ingest(str(labels))
    assert joined.joined_by == "customer_id + event_timestamp"
    assert (joined.rows, joined.matched, joined.unmatched) == (4, 2, 2)
    truths = {p.request_id: p.truth for p in registry.predictions.recent()}
    assert truths == {"early": "1", "late": "0", "other": None}

    registry.close()
    human = run_mlops("labels", "ingest", str(labels), "-w", str(registry.workspace.root))
    assert human.returncode == 0 and "2 of 4 labels joined to 2 predictions by customer_id" in human.stdout


def test_label_files_that_cannot_be_joined_are_refused_and_nothing_changes(
    registry: Engine, tmp_path: Path
) -> None:
    registry.predictions.append(
        prediction_batch({"request_id": "a", "entity_key": "customer_id", "entity": "1"})
    )
    cases = {
        "no_key.csv": (
            "user,event_timestamp,churned\n1,2026-07-01 00:00:00,1\n",
            {},
            "expected a request_id column or one entity key",
        ),
        "two_times.csv": (
            "customer_id,seen,event_timestamp,churned\n1,2026-07-01 00:00:00,2026-07-01 00:00:00,1\n",
            {},
            "expected one timestamp column",
        ),
        "two_labels.csv": ("request_id,churned,score\na,1,0.5\n", {}, "expected one label column besides"),
        "wrong_label.csv": ("request_id,churned\na,1\n", {"label": "truth"}, "--label truth: no such column"),
    }
    for name, (text, options, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(InvalidInput, match=message):
            registry.labels.ingest(str(path), **options)
    with pytest.raises(InvalidInput, match="does not exist"):
        registry.labels.ingest(str(tmp_path / "missing.csv"))
    assert registry.predictions.recent()[0].truth is None


def labelled_traffic(
    registry: Engine, variant: str, version: int, right: int, wrong: int, start: int = 0
) -> None:
    """``right + wrong`` logged predictions of ``variant`` (label 1), labelled 1 or 0."""
    rows = [
        {"request_id": f"{variant}-{start + i}", "variant": variant, "version": version, "label": "1"}
        for i in range(right + wrong)
    ]
    registry.predictions.append(prediction_batch(*rows))
    ids = [row["request_id"] for row in rows]
    truths = ["1"] * right + ["0"] * wrong
    path = registry.workspace.root / f"labels-{variant}-{start}.csv"
    path.write_text("request_id,churned\n" + "".join(f"{i},{t}\n" for i, t in zip(ids, truths, strict=True)))
    registry.labels.ingest(str(path))


def test_compare_tells_a_real_difference_from_noise(registry: Engine) -> None:
    registry.deployments.deploy("churn-api", "churn@v1", canary="churn@v2", percent=50)
    unlabelled = registry.deployments.compare("churn-api")
    assert [v.predictions for v in unlabelled.variants] == [0, 0]
    assert unlabelled.verdict.startswith("no labels yet")

    labelled_traffic(registry, "primary", 1, right=20, wrong=20)
    labelled_traffic(registry, "canary", 2, right=22, wrong=18)
    too_few = registry.deployments.compare("churn-api")
    assert not any(d.significant for d in too_few.differences)  # 50% against 55% on 40 labels each
    assert too_few.verdict.count("still noise") == 2

    labelled_traffic(registry, "primary", 1, right=100, wrong=100, start=1000)
    labelled_traffic(registry, "canary", 2, right=220, wrong=20, start=1000)
    found = registry.deployments.compare("churn-api")
    primary, canary = found.variants
    assert (primary.labelled, canary.labelled) == (240, 280)
    assert primary.accuracy is not None and canary.accuracy is not None
    assert primary.accuracy.value == pytest.approx(0.5)
    assert canary.accuracy.low < canary.accuracy.value < canary.accuracy.high
    assert primary.cost_per_prediction is not None  # a false alarm costs 20 (the default matrix)
    assert primary.cost_per_prediction.value == pytest.approx(20 * 120 / 240)
    accuracy, cost = found.differences
    assert accuracy.significant and accuracy.p_value < 1e-6 and accuracy.difference > 0
    assert cost.significant and cost.difference < 0
    assert "canary (churn v2) beats primary (churn v1) on accuracy" in found.verdict

    registry.close()
    human = run_mlops("deploy", "compare", "churn-api", "-w", str(registry.workspace.root))
    assert human.returncode == 0 and "beats primary" in human.stdout


def test_compare_a_shadow_pairs_its_answers_with_the_primarys(registry: Engine) -> None:
    registry.deployments.deploy("churn-api", "churn@v1", shadow="churn@v2")
    pairs = []
    for i in range(60):
        pairs.append({"request_id": f"r{i}", "variant": "primary", "score": 0.6, "label": "1"})
        agree = i < 45
        pairs.append(
            {
                "request_id": f"r{i}",
                "variant": "shadow",
                "version": 2,
                "score": 0.7 if agree else 0.2,
                "label": "1" if agree else "0",
            }
        )
    registry.predictions.append(prediction_batch(*pairs))
    compared = registry.deployments.compare("churn-api")
    assert compared.shadow is not None
    assert compared.shadow.pairs == 60 and compared.shadow.agreement == pytest.approx(0.75)
    assert compared.shadow.max_absolute_score_difference == pytest.approx(0.4)
    path = registry.workspace.root / "labels.csv"
    path.write_text("request_id,churned\n" + "".join(f"r{i},0\n" for i in range(60)))
    registry.labels.ingest(str(path))
    accuracy, _ = registry.deployments.compare("churn-api").differences
    assert accuracy.test == "McNemar's exact test" and accuracy.significant  # 15 of 15 discordant favour it
