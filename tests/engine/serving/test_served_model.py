"""The serving core (engine/serving/model.py) on a real export: same answers as the export's
own parity path, the file checked against the registry, every bad value named."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.registry.onnx_export import predict_onnx
from engine.serving.model import ModelIntegrityError, ServedModel
from engine.types.registry import OnnxExportRecord
from tests.engine.serving.conftest import Exported
from tests.engine.test_facade import loaded_top_level_modules


def served(record: OnnxExportRecord) -> ServedModel:
    return ServedModel.load("churn", 2, record.path, record.sha256)


def test_answers_as_the_exports_parity_path(exported: Exported) -> None:
    record, rows = exported
    model = served(record)
    instances = [{feature.column: row[feature.column] for feature in model.features} for row in rows]
    number = next(feature.column for feature in model.features if feature.kind == "number")
    category = next(feature.column for feature in model.features if feature.kind == "category")
    for row in instances[::7]:
        row[number] = None  # missing values: NaN for a number, the export's "None" for a category
    for row in instances[::11]:
        row[category] = None
    predictions = model.predict(instances)
    frame = pd.DataFrame(instances)
    labels, probabilities = predict_onnx(Path(record.path).read_bytes(), frame)
    positive = model.classes.index("1")
    assert np.allclose([p.score for p in predictions], probabilities[:, positive], atol=1e-7)
    assert [p.label for p in predictions] == labels.reshape(-1).tolist()
    in_order = [[row[feature.column] for feature in model.features] for row in instances[:20]]
    assert model.predict(in_order) == predictions[:20]


def test_a_changed_file_is_refused(exported: Exported, tmp_path: Path) -> None:
    record, _ = exported
    tampered = tmp_path / "model.onnx"
    tampered.write_bytes(Path(record.path).read_bytes() + b"\0")
    with pytest.raises(
        ModelIntegrityError, match=r"^churn v2: the ONNX file's sha256 is .*refusing to serve"
    ):
        ServedModel.load("churn", 2, tampered, record.sha256)
    with pytest.raises(ModelIntegrityError, match="cannot read its ONNX file"):
        ServedModel.load("churn", 2, tmp_path / "gone.onnx", record.sha256)


def test_every_bad_value_is_named(exported: Exported) -> None:
    record, rows = exported
    model = served(record)
    good = {feature.column: rows[0][feature.column] for feature in model.features}
    number = next(feature.column for feature in model.features if feature.kind == "number")
    category = next(feature.column for feature in model.features if feature.kind == "category")
    cases: list[tuple[Any, str]] = [
        ([], r"^instances: expected a non-empty list of rows$"),
        ({"instances": 1}, r"^instances: expected a non-empty list"),
        ([good, "row"], r"^instances\[1\]: expected a list of values or an object of features$"),
        (
            [{k: v for k, v in good.items() if k != number}],
            rf"^instances\[0\]: missing '{number}'; the model takes ",
        ),
        ([{**good, "plan": "x"}], r"^instances\[0\]: unknown 'plan'; the model takes "),
        ([[1, 2]], rf"^instances\[0\]: 2 values, expected {len(model.features)} in this order: "),
        ([{**good, number: "12"}], rf"^instances\[0\]\.{number}: expected a number or null, got \"12\"$"),
        ([{**good, number: True}], rf"^instances\[0\]\.{number}: expected a number or null, got true$"),
        (
            [{**good, number: math.nan}],
            rf"^instances\[0\]\.{number}: expected a finite number or null, got nan$",
        ),
        (
            [{**good, number: math.inf}],
            rf"^instances\[0\]\.{number}: expected a finite number or null, got inf$",
        ),
        ([{**good, category: 3}], rf"^instances\[0\]\.{category}: expected text or null, got 3$"),
    ]
    for instances, message in cases:
        with pytest.raises(InvalidInput, match=message):
            model.predict(instances)
    missing = model.predict([{**good, number: None, category: None}])[0]
    assert 0.0 <= missing.score <= 1.0


def test_the_serving_core_imports_no_training_library() -> None:
    loaded = loaded_top_level_modules("import engine.serving.model")
    assert loaded.isdisjoint({"pandas", "duckdb", "mlflow", "sklearn", "textual", "onnxruntime"})
