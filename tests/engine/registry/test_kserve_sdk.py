"""The InferenceService checked against the kserve SDK's own models (engine/registry/kserve_sdk.py).

kserve is an optional extra that cannot share the suite's environment (it needs protobuf 6 and
kubernetes 37): `make test` installs it apart, in .venv/kserve-sdk (tests/kserve-sdk.txt), and
these tests run in a subprocess with that folder first on its path: the export as a user runs
it, and manifests broken on purpose, each refused naming the field and what KServe expects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ENV

KSERVE_SDK = Path(sys.prefix) / "kserve-sdk"
LAUNCHER = "import sys; from console.launcher import main; sys.argv[0] = 'mlops'; main()"
BREAK_THEM = """
import json, yaml
from engine.config import KServeConfig
from engine.errors import MlopsError
from engine.registry.kserve import inference_service_manifest
from engine.registry.kserve_sdk import check

def broken(change):
    document = yaml.safe_load(inference_service_manifest("churn", 3, "s3://m/churn/3", KServeConfig(), 20))
    change(document)
    try:
        return check(document)
    except MlopsError as error:
        return str(error)

model = lambda d: d["spec"]["predictor"]["model"]
print(json.dumps([
    broken(lambda d: model(d).__setitem__("storageUrl", model(d).pop("storageUri"))),
    broken(lambda d: d["spec"]["predictor"].__setitem__("minReplicas", "1")),
    broken(lambda d: d["metadata"]["labels"].__setitem__("mlops-console/model-version", 3)),
    broken(lambda d: model(d)["resources"].__setitem__("limits", ["1", "2Gi"])),
    broken(lambda d: None),
]))
"""


def with_kserve(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert (KSERVE_SDK / "kserve").is_dir(), "make test installs the kserve SDK in .venv/kserve-sdk"
    environment = {**ENV, "PYTHONPATH": str(KSERVE_SDK)}
    return subprocess.run(
        [sys.executable, *arguments], env=environment, capture_output=True, text=True, check=False
    )


def test_the_export_is_checked_against_the_sdk_s_models(registry_workspace: Path) -> None:
    done = with_kserve(
        "-c", LAUNCHER, "models", "export", "churn@v2", "--format", "kserve",
        "--storage-uri", "s3://models/churn/2", "--workspace", str(registry_workspace),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# checked against kserve 0.21.0's models (V1beta1InferenceService)\n")
    document = yaml.safe_load(done.stdout)
    assert document["spec"]["predictor"]["model"]["storageUri"] == "s3://models/churn/2"


def test_a_manifest_kserve_would_refuse_is_named_field_by_field() -> None:
    done = with_kserve("-c", BREAK_THEM)
    assert done.returncode == 0, done.stderr
    renamed, text_count, number_label, listed, untouched = json.loads(done.stdout)
    assert "spec.predictor.model.storageUrl is not a field of V1beta1ModelSpec" in renamed
    assert "storageUri" in renamed  # the fields it has
    assert "spec.predictor.minReplicas is str '1'; expected int" in text_count
    assert "labels.mlops-console/model-version is int 3; expected str" in number_label
    assert "model.resources.limits is list" in listed
    assert untouched == "kserve 0.21.0"
