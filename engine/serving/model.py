"""A registry version's ONNX graph, loaded for serving: checked, then answering request rows.

Serving never unpickles (DESIGN rule 5): it runs the graph the registry exported
(engine/registry/onnx_export.py), and only after the file's sha256 matches the one the
registry recorded, so a file changed on disk is refused, not served.

A request's rows become the graph's inputs directly, one ``(n, 1)`` array per column built
from the JSON values, without pandas (a frame per request cost ~0.7 ms a row; the graph
itself answers a row in ~0.03 ms). Each value is checked against what its column takes
before anything runs, and a bad one is named: the row, the column, what was expected.

The session is made for one row at a time: one intra-op and one inter-op thread, sequential
execution. A request is far too small to split across threads, and thread hand-offs would
cost more than the work; a server process per core gives the parallelism instead.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.errors import InvalidInput, MlopsError
from engine.types.registry import (
    ONNX_CLASSES_PROPERTY,
    ONNX_COLUMNS_PROPERTY,
    ONNX_POSITIVE_CLASS_PROPERTY,
    ONNX_STRING_TENSOR,
)

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

Kind = Literal["number", "category"]
# Where a value sat in the request, as its protocol spells it: (row, column) -> "instances[3].age".
Place = Callable[[int, str], str]


class ModelIntegrityError(MlopsError):
    """The ONNX file is not the one the registry recorded."""


@dataclass(frozen=True)
class Feature:
    """A column the model takes: its name in requests, the graph input it feeds, its kind."""

    column: str
    input: str
    kind: Kind


@dataclass(frozen=True)
class Prediction:
    """One row's answer: the positive class's probability and the predicted class."""

    score: float
    label: str | int | float
    probabilities: list[float]


class ServedModel:
    """One model version's graph in an ONNX Runtime session, ready for request rows."""

    def __init__(self, name: str, version: int, onnx_bytes: bytes, expected_sha256: str) -> None:
        actual = hashlib.sha256(onnx_bytes).hexdigest()
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"{name} v{version}: the ONNX file's sha256 is {actual[:12]}…, the registry recorded "
                f"{expected_sha256[:12]}…; refusing to serve a file that is not the exported one"
            )
        self.name = name
        self.version = version
        self.sha256 = actual
        self._session = _single_row_session(onnx_bytes)
        self.features = _features(self._session)
        metadata = self._session.get_modelmeta().custom_metadata_map
        classes = json.loads(metadata[ONNX_CLASSES_PROPERTY]) if ONNX_CLASSES_PROPERTY in metadata else []
        positive = metadata.get(ONNX_POSITIVE_CLASS_PROPERTY)
        self.classes: list[str] = [str(item) for item in classes]
        self._positive_index = self.classes.index(positive) if positive in self.classes else -1

    @classmethod
    def load(cls, name: str, version: int, path: str | Path, expected_sha256: str) -> ServedModel:
        try:
            onnx_bytes = Path(path).read_bytes()
        except OSError as error:
            raise ModelIntegrityError(
                f"{name} v{version}: cannot read its ONNX file {path}: {error.strerror}"
            ) from None
        return cls(name, version, onnx_bytes, expected_sha256)

    def predict(self, instances: Any, place: Place | None = None) -> list[Prediction]:
        """Answer ``instances`` (``rows`` checks them, ``run`` answers them)."""
        return self.run(self.rows(instances, place))

    def rows(self, instances: Any, place: Place | None = None) -> list[list[Any]]:
        """``instances`` checked: a non-empty list of rows, each a list of values in feature
        order or an object keyed by feature name, each value what its feature takes. Returns
        the values in feature order, as sent. Raises ``InvalidInput`` naming the first value
        that is not, where the request had it (``place``: the row and the column as the protocol
        spells them; KServe V1's ``instances[3].age`` by default)."""
        place = place or v1_place
        if not isinstance(instances, list) or not instances:
            raise InvalidInput("instances: expected a non-empty list of rows")
        return [self._row(index, instance, place) for index, instance in enumerate(instances)]

    def run(self, rows: list[list[Any]]) -> list[Prediction]:
        """The graph's answers for checked rows (``rows``): a missing number is NaN (the graph
        imputes it), a missing category the text the export gave it, "None"."""
        import numpy as np

        feed = {}
        for position, feature in enumerate(self.features):  # (n, 1) arrays, built without reshape
            if feature.kind == "number":
                numbers = [[math.nan if row[position] is None else row[position]] for row in rows]
                feed[feature.input] = np.array(numbers, dtype=np.float32)
            else:
                texts = [["None" if row[position] is None else row[position]] for row in rows]
                feed[feature.input] = np.array(texts, dtype=object)
        labels, probabilities = self._session.run(["label", "probabilities"], feed)
        positive = self._positive_index
        return [
            Prediction(
                float(row[positive]) if positive >= 0 else float(row.max()),
                label.item() if hasattr(label, "item") else label,
                [float(p) for p in row],
            )
            for label, row in zip(labels.reshape(-1), probabilities, strict=True)
        ]

    def _row(self, index: int, instance: Any, place: Place) -> list[Any]:
        features = self.features
        if isinstance(instance, Mapping):
            missing = [feature.column for feature in features if feature.column not in instance]
            if missing:
                raise InvalidInput(
                    f"instances[{index}]: missing {_names(missing)}; the model takes {self._takes()}"
                )
            known = {feature.column for feature in features}
            extra = [str(key) for key in instance if key not in known]
            if extra:
                raise InvalidInput(
                    f"instances[{index}]: unknown {_names(extra)}; the model takes {self._takes()}"
                )
            values: Sequence[Any] = [instance[feature.column] for feature in features]
        elif isinstance(instance, list):
            if len(instance) != len(features):
                raise InvalidInput(
                    f"instances[{index}]: {len(instance)} values, expected {len(features)} in this order: "
                    f"{self._takes()}"
                )
            values = instance
        else:
            raise InvalidInput(f"instances[{index}]: expected a list of values or an object of features")
        return [
            _checked(place(index, feature.column), feature, value)
            for feature, value in zip(features, values, strict=True)
        ]

    def _takes(self) -> str:
        return ", ".join(feature.column for feature in self.features)


def v1_place(index: int, column: str) -> str:
    return f"instances[{index}].{column}"


_LARGEST_INTEGER = 2**1023  # a larger one has no float (and no finite float32 either way)


def _checked(where: str, feature: Feature, value: Any) -> Any:
    """``value`` if its feature takes it: a finite number or null for a number, text or null for
    a category."""
    if feature.kind == "number":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where}: expected a number or null, got {json.dumps(value)}")
        if isinstance(value, int) and not -_LARGEST_INTEGER <= value <= _LARGEST_INTEGER:
            raise InvalidInput(
                f"{where}: expected a finite number or null, got an integer of {len(str(value))} digits"
            )
        if not math.isfinite(value):
            raise InvalidInput(f"{where}: expected a finite number or null, got {value}")
        return value
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{where}: expected text or null, got {json.dumps(value)}")
    return value


def _names(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _features(session: InferenceSession) -> list[Feature]:
    """The graph's inputs as features, named by the columns the export recorded."""
    specs = session.get_inputs()
    recorded = session.get_modelmeta().custom_metadata_map.get(ONNX_COLUMNS_PROPERTY)
    columns = list(json.loads(recorded)) if recorded else [spec.name for spec in specs]
    return [
        Feature(column, spec.name, "category" if spec.type == ONNX_STRING_TENSOR else "number")
        for column, spec in zip(columns, specs, strict=True)
    ]


def _single_row_session(onnx_bytes: bytes) -> InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
