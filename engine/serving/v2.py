"""The Open Inference Protocol (KServe V2) for a served model: its metadata, and an infer
request's tensors as rows, checked before anything runs.

The model takes one input tensor per feature, named by the feature: numbers as ``FP32``,
``FP64`` or an integer type, categories as ``BYTES`` (text). Each tensor's shape is ``[n]`` or
``[n, 1]``, its ``data`` the n values, flat or nested row by row; every input has the same n.
A ``null`` in a tensor is a missing value (the model imputes it), an extension of the spec,
which has no missing values. The answer has two outputs: ``score`` (the positive class's
probability, FP32) and ``label`` (the predicted class, INT64 or BYTES as the classes are).
"""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidInput
from engine.serving.model import Prediction, ServedModel

NUMBER_TYPES = frozenset(
    {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
)
TEXT_TYPE = "BYTES"
PLATFORM = "onnxruntime_onnx"


def metadata(endpoint: str, model: ServedModel) -> dict[str, Any]:
    return {
        "name": endpoint,
        "versions": [str(model.version)],
        "platform": PLATFORM,
        "inputs": [
            {"name": f.column, "datatype": "FP32" if f.kind == "number" else TEXT_TYPE, "shape": [-1, 1]}
            for f in model.features
        ],
        "outputs": [
            {"name": "score", "datatype": "FP32", "shape": [-1]},
            {"name": "label", "datatype": label_type(model), "shape": [-1]},
        ],
    }


def label_type(model: ServedModel) -> str:
    return "INT64" if all(_is_integer_text(label) for label in model.classes) else TEXT_TYPE


def rows(model: ServedModel, body: Any) -> list[list[Any]]:
    """The request's tensors as rows of values in feature order (not yet checked against the
    features' kinds: ``ServedModel.rows`` does that, naming ``inputs.NAME[i]``)."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise InvalidInput('expected a JSON object with "inputs": a non-empty list of tensors')
    columns: dict[str, list[Any]] = {}
    for position, tensor in enumerate(body["inputs"]):
        name, values = _tensor(model, position, tensor)
        if name in columns:
            raise InvalidInput(f"inputs[{position}]: a second tensor named {name!r}")
        columns[name] = values
    missing = [f.column for f in model.features if f.column not in columns]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise InvalidInput(f"inputs: no tensor for {names}; the model takes one per feature")
    counts = {name: len(values) for name, values in columns.items()}
    if len(set(counts.values())) > 1:
        raise InvalidInput(f"inputs: the tensors hold different numbers of rows: {counts}")
    count = next(iter(counts.values()))
    return [[columns[f.column][index] for f in model.features] for index in range(count)]


def place(index: int, column: str) -> str:
    return f"inputs.{column}[{index}]"


def outputs(model: ServedModel, predictions: list[Prediction]) -> list[dict[str, Any]]:
    count = len(predictions)
    return [
        {"name": "score", "datatype": "FP32", "shape": [count], "data": [p.score for p in predictions]},
        {
            "name": "label",
            "datatype": label_type(model),
            "shape": [count],
            "data": [p.label for p in predictions],
        },
    ]


def _tensor(model: ServedModel, position: int, tensor: Any) -> tuple[str, list[Any]]:
    where = f"inputs[{position}]"
    if not isinstance(tensor, dict):
        raise InvalidInput(f"{where}: expected a tensor object with name, shape, datatype and data")
    name = tensor.get("name")
    feature = next((f for f in model.features if f.column == name), None)
    if feature is None:
        known = ", ".join(f.column for f in model.features)
        raise InvalidInput(f"{where}: no feature named {name!r}; the model takes {known}")
    datatype = tensor.get("datatype")
    allowed = NUMBER_TYPES if feature.kind == "number" else {TEXT_TYPE}
    if datatype not in allowed:
        expected = "a number type (FP32, FP64, INT64, ...)" if feature.kind == "number" else TEXT_TYPE
        raise InvalidInput(f"inputs.{name}: datatype {datatype!r}, expected {expected}")
    shape = tensor.get("shape")
    if not (
        isinstance(shape, list)
        and shape
        and len(shape) <= 2
        and all(isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape)
        and (len(shape) == 1 or shape[1] == 1)
    ):
        raise InvalidInput(f"inputs.{name}: shape {shape!r}, expected [n] or [n, 1]")
    data = tensor.get("data")
    if not isinstance(data, list):
        raise InvalidInput(f"inputs.{name}: expected data, a list of values")
    values = _flat(data)
    if len(values) != shape[0] or shape[0] == 0:
        raise InvalidInput(f"inputs.{name}: shape {shape} holds {shape[0]} values, data has {len(values)}")
    return feature.column, values


def _flat(data: list[Any]) -> list[Any]:
    """Row-major data, nested as the shape (``[[1], [2]]``) or flat (``[1, 2]``)."""
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list):
            flat.extend(item if len(item) == 1 else [item])  # a wrong row width fails the count
        else:
            flat.append(item)
    return flat


def _is_integer_text(text: str) -> bool:
    return text.removeprefix("-").isdigit()
