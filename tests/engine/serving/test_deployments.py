"""Deployments (engine/serving/deployments.py): endpoints follow registry references, the plan
resolves them to checked ONNX files, every change moves the revision, bad input changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.serving.model import ServedModel
from engine.serving.routing import Endpoint, RequestKeys
from engine.types.training import TrainRequest
from tests.conftest import hosted, mlops_json, run_mlops


@pytest.fixture
def registry(registry_workspace: Path) -> Iterator[Engine]:
    with Engine.open(registry_workspace, command="pytest") as engine:
        yield engine


def test_an_endpoint_follows_its_alias_through_promotions(registry: Engine) -> None:
    registry.registry.promote("churn", 2, "champion")
    deployed = registry.deployments.deploy("churn-api", "churn@champion")
    assert (deployed.endpoint, deployed.strategy) == ("churn-api", "single")
    assert [(v.role, v.reference) for v in deployed.variants] == [("primary", "churn@champion")]
    plan = registry.deployments.plan()
    assert plan.revision == deployed.revision
    (served,) = plan.endpoints[0].variants
    assert (served.model, served.version) == ("churn", 2)
    assert hashlib.sha256(Path(served.onnx_path).read_bytes()).hexdigest() == served.sha256
    assert ServedModel.load(served.model, served.version, served.onnx_path, served.sha256).features

    registry.registry.promote("churn", 1, "champion", force=True, reason="test")
    (moved,) = registry.deployments.plan().endpoints[0].variants
    assert moved.version == 1 and moved.sha256 != served.sha256
    assert registry.deployments.plan().revision == plan.revision  # the deployment itself is unchanged


def test_a_version_without_onnx_is_exported_when_deployed_and_removal_moves_the_revision(
    registry: Engine,
) -> None:
    first = registry.deployments.deploy("pinned", "churn@v1")
    assert registry.registry.onnx_sha256("churn", 1) is not None
    second = registry.deployments.deploy("pinned", "churn@v2")
    assert second.revision > first.revision and second.created_at == first.created_at
    assert [d.endpoint for d in registry.deployments.all()] == ["pinned"]
    registry.deployments.remove("pinned")
    plan = registry.deployments.plan()
    assert plan.endpoints == [] and plan.revision > second.revision
    with pytest.raises(InvalidInput, match="no deployment named 'pinned'; deployments: none yet"):
        registry.deployments.get("pinned")


def test_bad_deployments_are_refused_and_nothing_is_stored(registry: Engine) -> None:
    for endpoint, model, message in [
        ("bad name", "churn@v1", "endpoint name 'bad name' is not valid"),
        ("api", "churn", "expected NAME@ALIAS or NAME@vN"),
        ("api", "nope@champion", "no registered model 'nope'"),
        ("api", "churn@staging", "churn@staging is not set"),
        ("api", "churn@v9", "churn"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            registry.deployments.deploy(endpoint, model)
    assert registry.deployments.all() == []
    assert registry.deployments.plan().revision == 0


def test_the_deploy_commands(registry_workspace: Path) -> None:
    with hosted(registry_workspace):  # its commands run through an owner
        the_deploy_commands(registry_workspace)


def the_deploy_commands(registry_workspace: Path) -> None:
    created = mlops_json(registry_workspace, "deploy", "churn-api", "--model", "churn@v2")
    assert created["endpoint"] == "churn-api" and created["variants"] == [
        {"role": "primary", "reference": "churn@v2"}
    ]
    listed = mlops_json(registry_workspace, "deploy", "list")["deployments"]
    assert [d["endpoint"] for d in listed] == ["churn-api"]
    shown = mlops_json(registry_workspace, "deploy", "show", "churn-api")
    assert shown["serving"][0]["version"] == 2
    human = run_mlops("deploy", "show", "churn-api", "-w", str(registry_workspace))
    assert "churn@v2" in human.stdout and "churn v2" in human.stdout
    ab = mlops_json(
        registry_workspace, "deploy", "churn-api", "--model", "churn@v1", "--ab", "churn@v2", "--split", "20",
        "--key", "customer_id",
    )  # fmt: skip
    assert ab["strategy"] == "ab" and ab["settings"] == {"split": 20.0, "key": "customer_id"}
    assert mlops_json(registry_workspace, "deploy", "remove", "churn-api")["removed"] is True
    missing = run_mlops("deploy", "remove", "churn-api", "-w", str(registry_workspace))
    assert missing.returncode == 2 and missing.stderr == (
        "error: no deployment named 'churn-api'; deployments: none yet\n"
    )


def test_a_canary_takes_its_share_and_must_take_the_same_features(registry: Engine) -> None:
    deployed = registry.deployments.deploy("churn-api", "churn@v1", canary="churn@v2", percent=10)
    assert deployed.strategy == "canary" and deployed.settings == {"percent": 10}
    assert [(v.role, v.reference) for v in deployed.variants] == [
        ("primary", "churn@v1"),
        ("canary", "churn@v2"),
    ]
    (served,) = registry.deployments.plan().endpoints
    models = {v.role: ServedModel.load(v.model, v.version, v.onnx_path, v.sha256) for v in served.variants}
    draws = iter([0.05, 0.5, 0.099, 0.1, 0.95])  # below 0.1: the canary
    routed = Endpoint("churn-api", served.strategy, models, served.settings, lambda: next(draws))
    instance = [{f.column: 1.0 if f.kind == "number" else "US" for f in routed.features}]
    rows = routed.model.rows(instance)
    answers = [routed.answer(rows, RequestKeys()) for _ in range(5)]
    canary_score = models["canary"].predict(instance)[0].score
    primary_score = models["primary"].predict(instance)[0].score
    assert canary_score != primary_score
    assert [a.predictions[0].score for a in answers] == [
        canary_score,
        primary_score,
        canary_score,
        primary_score,
        primary_score,
    ]
    assert [a.arms[0].role for a in answers] == ["canary", "primary", "canary", "primary", "primary"]
    assert routed.model.version == 1  # what the endpoint says of itself is the primary's

    before = registry.deployments.get("churn-api")
    for canary, percent, message in [
        ("churn@v2", None, "--canary and --percent go together"),
        (None, 10.0, "--canary and --percent go together"),
        ("churn@v2", 0.0, r"--percent 0: expected more than 0 and less than 100"),
        ("churn@v2", 100.0, r"--percent 100: expected more than 0"),
        ("nope@v1", 10.0, "no registered model 'nope'"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            registry.deployments.deploy("churn-api", "churn@v1", canary=canary, percent=percent)
    assert registry.deployments.get("churn-api") == before


def test_a_canary_with_other_features_is_refused(registry: Engine) -> None:
    run = registry.training.train(
        TrainRequest("churn", "churned", "logistic_regression", features=["age", "tenure_days"])
    )
    registry.registry.register(run.run_id, "churn")  # version 3, two features
    with pytest.raises(
        InvalidInput, match=r"--canary churn@v3 takes other features than churn@v1: age, tenure_days"
    ):
        registry.deployments.deploy("churn-api", "churn@v1", canary="churn@v3", percent=10)
    assert registry.deployments.all() == []


def test_shadow_blue_green_and_ab_deployments_and_the_switch(registry: Engine) -> None:
    shadow = registry.deployments.deploy("api", "churn@v1", shadow="churn@v2")
    assert shadow.strategy == "shadow" and [v.role for v in shadow.variants] == ["primary", "shadow"]
    ab = registry.deployments.deploy("api", "churn@v1", ab="churn@v2", split=25, key="customer_id")
    assert ab.strategy == "ab" and ab.settings == {"split": 25, "key": "customer_id"}
    assert [(v.role, v.reference) for v in ab.variants] == [("a", "churn@v1"), ("b", "churn@v2")]

    staged = registry.deployments.deploy("api", "churn@v1", staged="churn@v2")
    assert staged.settings == {"live": "blue"}
    assert [(v.role, v.reference) for v in staged.variants] == [("blue", "churn@v1"), ("green", "churn@v2")]
    switched = registry.deployments.switch("api")
    assert switched.settings == {"live": "green"} and switched.revision > staged.revision
    assert registry.deployments.switch("api").settings == {"live": "blue"}  # and back
    assert [e.message for e in registry.events.recent(2)] == [
        "switched all traffic to blue (churn@v1)",
        "switched all traffic to green (churn@v2)",
    ]

    registry.deployments.deploy("single", "churn@v1")
    before = registry.deployments.all()
    for options, message in [
        ({"shadow": "churn@v2", "staged": "churn@v2"}, "--shadow and --staged: expected at most one of"),
        ({"ab": "churn@v2", "split": 50}, "--ab needs --split and --key"),
        ({"ab": "churn@v2", "split": 50, "key": " "}, "--ab needs --split and --key"),
        ({"ab": "churn@v2", "split": 150, "key": "k"}, "--split 150: expected more than 0 and less than 100"),
        ({"split": 50, "key": "k"}, "--split and --key go with --ab"),
        ({"shadow": "nope@v1"}, "no registered model 'nope'"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            registry.deployments.deploy("api", "churn@v1", **options)
    with pytest.raises(InvalidInput, match="single is a single deployment; switch moves a blue/green one"):
        registry.deployments.switch("single")
    assert registry.deployments.all() == before
