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
from tests.conftest import mlops_json, run_mlops


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
    assert mlops_json(registry_workspace, "deploy", "remove", "churn-api")["removed"] is True
    missing = run_mlops("deploy", "remove", "churn-api", "-w", str(registry_workspace))
    assert missing.returncode == 2 and missing.stderr == (
        "error: no deployment named 'churn-api'; deployments: none yet\n"
    )
