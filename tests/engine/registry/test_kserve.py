"""The KServe manifest is YAML that reads back as the InferenceService the settings describe."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from engine.config import KServeConfig
from engine.errors import ConfigError, InvalidInput
from engine.registry.kserve import inference_service_manifest

URI = "s3://models/churn/3"


def manifest(settings: KServeConfig | None = None, **kwargs: Any) -> Any:
    arguments = {"name": "Churn_Model", "version": 3, "storage_uri": URI, **kwargs}
    return yaml.safe_load(inference_service_manifest(settings=settings or KServeConfig(), **arguments))


def test_the_manifest_is_an_onnx_inference_service_sized_by_the_settings() -> None:
    settings = KServeConfig(
        namespace="ml", min_replicas=0, max_replicas=5, scale_metric="rps", scale_target=50
    )
    document = manifest(settings)

    assert document["apiVersion"] == "serving.kserve.io/v1beta1"
    assert document["kind"] == "InferenceService"
    metadata = document["metadata"]
    assert metadata["name"] == "churn-model" and metadata["namespace"] == "ml"
    assert metadata["labels"]["mlops-console/model"] == "churn-model"
    assert metadata["labels"]["mlops-console/model-version"] == "3"  # a string, as labels must be
    assert metadata["annotations"]["mlops-console/registered-model"] == "Churn_Model"
    predictor = document["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (0, 5)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("rps", 50)
    assert predictor["model"] == {
        "modelFormat": {"name": "onnx"},
        "protocolVersion": "v2",
        "storageUri": URI,
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": "1", "memory": "2Gi"},
        },
    }
    assert "canaryTrafficPercent" not in predictor


def test_a_canary_appears_only_when_asked_for() -> None:
    assert manifest(canary_percent=10)["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert manifest(KServeConfig(canary_percent=25))["spec"]["predictor"]["canaryTrafficPercent"] == 25
    assert (
        "canaryTrafficPercent"
        not in manifest(KServeConfig(canary_percent=25), canary_percent=0)["spec"]["predictor"]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_replicas": 0}, r"kserve.max_replicas = 0: expected 1 or more"),
        ({"min_replicas": 4}, r"kserve.max_replicas = 3: expected 1 or more, and at least min_replicas"),
        ({"scale_metric": "latency"}, r"kserve.scale_metric = 'latency': expected one of concurrency, rps"),
        ({"memory_limit": "2GB"}, r"kserve.memory_limit = '2GB': expected a Kubernetes quantity"),
        ({"namespace": "My_Space"}, r"kserve.namespace = 'My_Space'"),
        ({"scale_target": 0}, r"kserve.scale_target = 0: expected 1 or more"),
    ],
)
def test_settings_kserve_would_refuse_are_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        manifest(dataclasses.replace(KServeConfig(), **change))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "3-churn"}, r"model name '3-churn' makes no Kubernetes name"),
        ({"version": 0}, r"version 0: expected a registered version number"),
        ({"storage_uri": "models/churn"}, r"storage_uri 'models/churn': expected a URI"),
        ({"canary_percent": 101}, r"canary percent 101: expected 0 to 100"),
    ],
)
def test_arguments_kserve_would_refuse_are_named(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        manifest(**arguments)
