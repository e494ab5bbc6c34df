"""The InferenceService checked against the ``kserve`` SDK's own models (the ``kserve`` extra).

KServe's Python SDK holds a model class per resource of its API (``V1beta1InferenceService``,
``V1beta1PredictorSpec``...), generated from the same OpenAPI schema as the CRD the cluster
validates with, each listing its fields, their JSON names and their types; the Kubernetes
parts (``V1ObjectMeta``, ``V1ResourceRequirements``) are the ``kubernetes`` client's. The check
builds the manifest from those classes field by field: a key no class has, a value of the wrong
type or a required field left out fails here, on this machine, instead of at ``kubectl apply``.
The SDK deserialises leniently (unknown keys are dropped silently), so the walk is this
module's own. Without the extra installed nothing is checked.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from engine.errors import MlopsError

# The generated models write containers both ways: ``list[V1EnvVar]``, ``dict(str, str)``
# (older generators) and ``List[...]``, ``Dict[str, str]`` (newer ones, the kubernetes client's).
CONTAINER = re.compile(r"(?P<kind>list|List|dict|Dict)[\[(](?P<inner>.*)[\])]")
PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
    "object": (object,),
}


def sdk_version() -> str | None:
    """The installed ``kserve`` SDK's version; None without the extra."""
    try:
        return metadata.version("kserve")
    except metadata.PackageNotFoundError:
        return None


def check(manifest: dict[str, Any]) -> str | None:
    """Build ``manifest`` from the SDK's ``V1beta1InferenceService``; what it was checked
    with (``kserve 0.21.0``), or None when the SDK is not installed. A mismatch raises an error
    naming the field's path and what the SDK expected."""
    version = sdk_version()
    if version is None:
        return None
    import kserve.models
    import kubernetes.client.models

    checked_with = f"kserve {version}"
    namespaces = (kserve.models, kubernetes.client.models)

    def build(type_name: str, value: Any, where: str) -> Any:
        container = CONTAINER.fullmatch(type_name)
        if container and container["kind"].lower() == "list":
            if not isinstance(value, list):
                raise _mismatch(where, f"a list ({type_name})", value, checked_with)
            inner = container["inner"]
            return [build(inner, item, f"{where}[{index}]") for index, item in enumerate(value)]
        if container:
            if not isinstance(value, dict):
                raise _mismatch(where, f"a mapping ({type_name})", value, checked_with)
            inner = container["inner"].split(", ", 1)[1]
            return {key: build(inner, item, f"{where}.{key}") for key, item in value.items()}
        if type_name in PRIMITIVES:
            allowed = PRIMITIVES[type_name]
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise _mismatch(where, type_name, value, checked_with)
            return value
        model = next((getattr(space, type_name) for space in namespaces if hasattr(space, type_name)), None)
        if model is None:
            raise MlopsError(f"{checked_with} names a type {type_name!r} its models do not define")
        if not isinstance(value, dict):
            raise _mismatch(where, f"an object ({type_name})", value, checked_with)
        fields = {key: attribute for attribute, key in model.attribute_map.items()}
        unknown = [key for key in value if key not in fields]
        if unknown:
            raise MlopsError(
                f"the InferenceService does not match {checked_with}'s models: {where}.{unknown[0]} is "
                f"not a field of {type_name} (its fields: {', '.join(sorted(fields))})"
            )
        arguments = {
            fields[key]: build(model.openapi_types[fields[key]], item, f"{where}.{key}")
            for key, item in value.items()
        }
        try:
            return model(**arguments)
        except (TypeError, ValueError) as error:  # a required field missing, a value out of its enum
            raise MlopsError(
                f"the InferenceService does not match {checked_with}'s models at {where}: {error}"
            ) from None

    build("V1beta1InferenceService", manifest, "InferenceService")
    return checked_with


def _mismatch(where: str, expected: str, value: Any, checked_with: str) -> MlopsError:
    return MlopsError(
        f"the InferenceService does not match {checked_with}'s models: {where} is "
        f"{type(value).__name__} {value!r}; expected {expected}"
    )
