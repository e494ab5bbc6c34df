"""A KServe InferenceService for a model version's ONNX file: the way off this machine.

The manifest deploys what this workspace serves locally (the exported ONNX graph, over the Open
Inference Protocol v2) on KServe's ONNX runtime, sized by the ``[kserve]`` settings. The
resource is named after the model, not the version: applying the manifest of a newer version
over the old one is how KServe rolls out, and ``canaryTrafficPercent`` then keeps the rest of
the traffic on the previous version until the next apply. Labels say which version it carries.
"""

from __future__ import annotations

import re
from typing import Any

from engine.config import KServeConfig
from engine.errors import ConfigError, InvalidInput
from engine.registry.kserve_sdk import check as check_with_sdk

SCALE_METRICS = ("concurrency", "rps", "cpu", "memory")
# Kubernetes resource quantities as people write them: 500m, 1, 0.5, 2Gi, 512M.
_QUANTITY = re.compile(r"\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUANTITIES = ("cpu_request", "memory_request", "cpu_limit", "memory_limit")


def inference_service_manifest(
    name: str, version: int, storage_uri: str, settings: KServeConfig, canary_percent: int | None = None
) -> str:
    """The InferenceService as YAML text, ready for ``kubectl apply -f``; checked against the
    ``kserve`` SDK's models first where that extra is installed, and then says so in a comment.

    ``storage_uri`` is the folder holding ``model.onnx`` (``s3://``, ``gs://``, ``pvc://``...).
    ``canary_percent`` overrides ``settings.canary_percent``; 0 means no canary.
    """
    import yaml

    _check(settings)
    if version < 1:
        raise InvalidInput(f"version {version}: expected a registered version number (1 or more)")
    if "://" not in storage_uri:
        raise InvalidInput(
            f"storage_uri {storage_uri!r}: expected a URI KServe can fetch the folder holding "
            "model.onnx from, like s3://bucket/models/churn/3"
        )
    canary = settings.canary_percent if canary_percent is None else canary_percent
    if not 0 <= canary <= 100:
        raise InvalidInput(f"canary percent {canary}: expected 0 to 100 (0 means no canary)")
    resource = _resource_name(name)

    predictor: dict[str, Any] = {
        "minReplicas": settings.min_replicas,
        "maxReplicas": settings.max_replicas,
        "scaleMetric": settings.scale_metric,
        "scaleTarget": settings.scale_target,
    }
    if canary:
        predictor["canaryTrafficPercent"] = canary
    predictor["model"] = {
        "modelFormat": {"name": "onnx"},
        "protocolVersion": "v2",  # KServe finds no ONNX runtime for the v1 protocol
        "storageUri": storage_uri,
        "resources": {
            "requests": {"cpu": settings.cpu_request, "memory": settings.memory_request},
            "limits": {"cpu": settings.cpu_limit, "memory": settings.memory_limit},
        },
    }
    manifest = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": resource,
            "namespace": settings.namespace,
            "labels": {
                "app.kubernetes.io/name": resource,
                "app.kubernetes.io/managed-by": "mlops-console",
                "mlops-console/model": resource,
                "mlops-console/model-version": str(version),
            },
            # Label values cannot hold every registry name; annotations can.
            "annotations": {"mlops-console/registered-model": name},
        },
        "spec": {"predictor": predictor},
    }
    checked_with = check_with_sdk(manifest)
    said = f"# checked against {checked_with}'s models (V1beta1InferenceService)\n" if checked_with else ""
    return said + str(yaml.safe_dump(manifest, sort_keys=False))


def _resource_name(name: str) -> str:
    """A Kubernetes name (DNS-1035 label) from a registry name: ``Churn_Model`` → ``churn-model``."""
    resource = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not resource[:1].isalpha() or len(resource) > 63:
        raise InvalidInput(
            f"model name {name!r} makes no Kubernetes name ({resource!r}); expected one that starts "
            "with a letter and has at most 63 letters, digits and dashes"
        )
    return resource


def _check(settings: KServeConfig) -> None:
    """Ranges and formats ``config.toml``'s type checks cannot see, named as ``kserve.key``."""
    quantity = "expected a Kubernetes quantity like 500m, 1, 1Gi or 512Mi"
    checks = [
        ("namespace", _DNS_LABEL.fullmatch(settings.namespace), "expected lowercase letters, digits, dashes"),
        ("min_replicas", settings.min_replicas >= 0, "expected 0 or more"),
        (
            "max_replicas",
            settings.max_replicas >= max(1, settings.min_replicas),
            "expected 1 or more, and at least min_replicas",
        ),
        (
            "scale_metric",
            settings.scale_metric in SCALE_METRICS,
            f"expected one of {', '.join(SCALE_METRICS)}",
        ),
        ("scale_target", settings.scale_target >= 1, "expected 1 or more"),
        *((key, _QUANTITY.fullmatch(getattr(settings, key)), quantity) for key in _QUANTITIES),
    ]
    for key, fine, expected in checks:
        if not fine:
            raise ConfigError(f"kserve.{key} = {getattr(settings, key)!r}: {expected}")
