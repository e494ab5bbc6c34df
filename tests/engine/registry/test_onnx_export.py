"""ONNX export with real skl2onnx and ONNX Runtime: parity per catalogue model, missing values included."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.registry.onnx_export import (
    FLOAT,
    STRING,
    ParityError,
    export_onnx,
    predict_onnx,
    predict_proba_onnx,
)
from engine.registry.onnx_shims import patch_skl2onnx
from engine.training.catalogue import ModelSpec, model_spec
from engine.types.registry import OnnxInput

SAMPLE = Path(__file__).parents[3] / "sample_data" / "churn_reference.csv"
TARGET = "churned"
QUICK = {
    "logistic_regression": {},
    "random_forest": {"n_estimators": 20},
    "gradient_boosting": {"n_estimators": 20},
    "hist_gradient_boosting": {"max_iter": 20},
}


class Sample(NamedTuple):
    train: pd.DataFrame
    held_out: pd.DataFrame
    numeric: list[str]
    categorical: list[str]


@pytest.fixture(scope="module")
def data() -> Sample:
    """Training rows as the trainer reads them, and held-out rows with missing values.

    Held-out integer columns with a gap become float64 with NaN, as they arrive at serving time.
    """
    frame = pd.read_csv(SAMPLE).sample(3600, random_state=7)
    features = [c for c in frame.columns if c not in ("customer_id", "event_timestamp", TARGET)]
    numeric = [c for c in features if frame[c].dtype.kind in "biuf"]
    categorical = [c for c in features if c not in numeric]
    train, held_out = frame.iloc[:3000], frame.iloc[3000:].copy()
    for number, column in enumerate(numeric):
        held_out[column] = held_out[column].astype("float64")
        held_out.loc[held_out.sample(frac=0.1, random_state=number).index, column] = np.nan
    held_out.loc[held_out.index[:25], "country"] = None  # a category never seen in training
    return Sample(train, held_out, numeric, categorical)


def fit(spec: ModelSpec, params: dict[str, Any], data: Sample) -> Any:
    features = data.numeric + data.categorical
    return spec.build(params, data.numeric, data.categorical).fit(data.train[features], data.train[TARGET])


@pytest.mark.parametrize("model", list(QUICK))
def test_each_catalogue_model_answers_like_sklearn_on_rows_with_missing_values(
    model: str, data: Sample
) -> None:
    _, held_out, numeric, categorical = data
    assert held_out[numeric].isna().any().all() and held_out["country"].isna().any()
    pipeline = fit(model_spec(model), QUICK[model], data)

    export = export_onnx(pipeline, held_out)

    assert export.max_abs_difference <= 1e-5 and export.labels_identical
    assert export.rows_checked == len(held_out)
    assert export.sha256 == hashlib.sha256(export.onnx_bytes).hexdigest()
    assert export.inputs == [OnnxInput(c, c, FLOAT) for c in numeric] + [
        OnnxInput(c, c, STRING) for c in categorical
    ]
    summary = export.record("model.onnx").to_dict()
    assert "onnx_bytes" not in summary and summary["size_bytes"] == len(export.onnx_bytes)
    json.dumps(summary)
    # The helper serving reuses: columns in any order, extra columns ignored.
    shuffled = held_out[[TARGET, *reversed(numeric + categorical)]]
    assert (
        np.abs(predict_proba_onnx(export.onnx_bytes, shuffled) - pipeline.predict_proba(held_out)).max()
        <= 1e-5
    )


def test_column_names_that_are_not_identifiers_map_to_the_graphs_inputs(data: Sample) -> None:
    """ONNX input names are identifiers: the graph records which column each input reads."""
    hostile = {
        "age": "customer age",
        "tenure_days": "tenure.days",
        "total_orders": "1st-orders",
        "support_tickets": "tickets_ü",
        "country": "country of residence",
        "gender": "customer_age",  # what "customer age" would be sanitised to: a clash to avoid
    }
    renamed = Sample(
        data.train.rename(columns=hostile),
        data.held_out.rename(columns=hostile),
        [hostile.get(c, c) for c in data.numeric],
        [hostile.get(c, c) for c in data.categorical],
    )
    pipeline = fit(model_spec("random_forest"), QUICK["random_forest"], renamed)
    export = export_onnx(pipeline, renamed.held_out)
    by_column = {item.column: item.name for item in export.inputs}
    assert [item.column for item in export.inputs] == renamed.numeric + renamed.categorical
    assert len(set(by_column.values())) == len(by_column)  # one input per column, no clash
    assert all(name.isidentifier() for name in by_column.values())
    shuffled = renamed.held_out[list(reversed(renamed.numeric + renamed.categorical))]
    assert (
        np.abs(
            predict_proba_onnx(export.onnx_bytes, shuffled) - pipeline.predict_proba(renamed.held_out)
        ).max()
        <= 1e-5
    )
    with pytest.raises(InvalidInput, match=r"column 'tenure\.days' is missing"):
        predict_onnx(export.onnx_bytes, renamed.held_out.drop(columns="tenure.days"))


def test_the_same_pipeline_exports_the_same_bytes(data: Sample) -> None:
    pipeline = fit(model_spec("gradient_boosting"), QUICK["gradient_boosting"], data)
    assert export_onnx(pipeline, data.held_out).sha256 == export_onnx(pipeline, data.held_out).sha256


def test_a_scaler_before_trees_is_refused_with_the_figures(data: Sample) -> None:
    """DESIGN: scaling before a tree model breaks float32 parity (thresholds move)."""
    scaled_forest = ModelSpec(
        "scaled_forest",
        "a forest behind a StandardScaler",
        {"n_estimators": 20, "random_state": 0},
        {},
        scale_numeric=True,
        estimator=model_spec("random_forest").estimator,
    )
    pipeline = fit(scaled_forest, {}, data)
    with pytest.raises(ParityError) as failure:
        export_onnx(pipeline, data.held_out)
    message = str(failure.value)
    assert "\n" not in message
    figures = (
        r"max probability difference ([\d.e-]+) \(tolerance 1e-05\), (\d+) of 600 predicted labels differ"
    )
    assert (found := re.search(figures, message)), message
    assert float(found.group(1)) > 1e-5


def test_tolerance_zero_catches_float32_rounding(data: Sample) -> None:
    pipeline = fit(model_spec("logistic_regression"), {}, data)
    with pytest.raises(ParityError, match=r"\(tolerance 0\), 0 of 600 predicted labels differ"):
        export_onnx(pipeline, data.held_out, tolerance=0)


def test_a_model_skl2onnx_cannot_convert_is_named_in_one_line(data: Sample) -> None:
    from sklearn.semi_supervised import LabelSpreading

    train, held_out, numeric, categorical = data
    spec = ModelSpec("spreading", "no ONNX converter", {}, {}, estimator=lambda params: LabelSpreading())
    pipeline = spec.build({}, numeric, categorical).fit(
        train[numeric + categorical].head(300), train[TARGET].head(300)
    )
    with pytest.raises(InvalidInput, match=r"^skl2onnx [\d.]+ cannot convert LabelSpreading: ") as failure:
        export_onnx(pipeline, held_out)
    assert "\n" not in str(failure.value)


def test_rows_missing_an_input_column_are_named(data: Sample) -> None:
    pipeline = fit(model_spec("logistic_regression"), {}, data)
    with pytest.raises(InvalidInput, match="lack the model's input column 'age'"):
        export_onnx(pipeline, data.held_out.drop(columns="age"))
    export = export_onnx(pipeline, data.held_out)
    with pytest.raises(InvalidInput, match="column 'region' is missing; the model takes 'age', "):
        predict_onnx(export.onnx_bytes, data.held_out.drop(columns="region"))


def test_the_hist_gradient_boosting_shim_is_still_needed(
    data: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When this fails, skl2onnx converts HistGradientBoosting by itself: delete onnx_shims.py."""
    import skl2onnx
    from skl2onnx.common import tree_ensemble
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    patch_skl2onnx()
    patch_skl2onnx()  # idempotent: wrapped once however often it is applied
    shimmed = tree_ensemble.add_node
    assert inspect.unwrap(shimmed) is shimmed.__wrapped__
    monkeypatch.setattr(tree_ensemble, "add_node", inspect.unwrap(shimmed))

    pipeline = fit(model_spec("hist_gradient_boosting"), {"max_iter": 3}, data)
    types = [(c, FloatTensorType([None, 1])) for c in data.numeric] + [
        (c, StringTensorType([None, 1])) for c in data.categorical
    ]
    try:
        skl2onnx.convert_sklearn(pipeline, initial_types=types, options={id(pipeline[-1]): {"zipmap": False}})
    except Exception as exc:  # the protobuf TypeError, re-raised by skl2onnx as a ValueError
        chain = f"{exc!r} {exc.__cause__!r}"
        assert "Expected an int, got a boolean" in chain, chain
    else:
        pytest.fail(f"skl2onnx {skl2onnx.__version__} converts HistGradientBoosting unaided: delete the shim")
