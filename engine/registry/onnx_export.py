"""ONNX export of a catalogue model, refused unless ONNX Runtime answers like scikit-learn.

Serving never unpickles (DESIGN rule 5): it runs the ONNX graph written here. A graph is only
worth serving if it answers like the pipeline it came from, and converters have known gaps
(forests dropping sklearn's learned NaN routing, float32 arithmetic), so every export runs the
graph with ONNX Runtime on held-out rows, missing values included, and is refused with the
figures when a probability differs by more than a tolerance or any predicted label differs.

The graph has one input per column, shape ``(n, 1)``, as skl2onnx converts a
``ColumnTransformer``; that maps onto per-feature V2 metadata and validation:

- numeric columns, integers included, are ``tensor(float)``. An integer column can arrive
  at serving time as doubles with NaN for a missing value (the MLflow signature declares it
  as double for that reason), which an int64 input could not carry. Doubles are no option:
  ONNX Runtime has no double kernel for the ``Imputer`` operator the pipelines use. float32
  costs no parity on the trees (scikit-learn's trees compare in float32 themselves) and
  measured under 2e-7 on the others; integers beyond 2**24 would lose precision.
- other columns are ``tensor(string)``. A missing category is fed as ``str()`` of the
  missing value ("None", "nan"), the same spelling skl2onnx gave a missing value learned as
  a category, so both sides treat it alike (as that category, or as unknown).

ONNX input names are identifiers: skl2onnx turns ``plan type`` into ``plan_type``, ``1st`` into
``_1st`` and a second ``a_b`` into ``a_b1``, in the order the columns are given. The graph
therefore carries its columns, in input order, as the metadata property ``mlops.columns``;
whoever feeds it (the parity check here, serving later) maps columns to inputs by it.

The probabilities' columns follow the model's classes, whose order is scikit-learn's (sorted),
not "negative then positive": ``active``/``churned`` with ``active`` as the positive class puts
it first. The graph carries the classes as ``mlops.classes`` (their text, in column order) and a
binary model's positive class as ``mlops.positive_class``, as the run recorded it.

The parity rows go through ``model_input`` as training's did: nullable integers as floats with
NaN, so scikit-learn takes them and the graph gets the same values.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import InvalidInput, MlopsError
from engine.registry.onnx_shims import patch_skl2onnx
from engine.training.inputs import model_input
from engine.training.labels import label_text
from engine.types.registry import (
    ONNX_CLASSES_PROPERTY,
    ONNX_COLUMNS_PROPERTY,
    ONNX_POSITIVE_CLASS_PROPERTY,
    ONNX_STRING_TENSOR,
    OnnxExportRecord,
    OnnxInput,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from onnxruntime import InferenceSession
    from sklearn.pipeline import Pipeline

FLOAT = "tensor(float)"
STRING = ONNX_STRING_TENSOR
COLUMNS_PROPERTY = ONNX_COLUMNS_PROPERTY
CLASSES_PROPERTY = ONNX_CLASSES_PROPERTY
POSITIVE_CLASS_PROPERTY = ONNX_POSITIVE_CLASS_PROPERTY


class ParityError(MlopsError):
    """The ONNX graph does not answer like the scikit-learn pipeline; the message has the figures."""


@dataclass(frozen=True)
class OnnxExport:
    """A converted model and the proof it answers like the original."""

    onnx_bytes: bytes = field(repr=False)
    sha256: str  # serving checks the file against this before loading it
    max_abs_difference: float  # largest probability difference over the rows checked
    labels_identical: bool
    rows_checked: int
    inputs: list[OnnxInput]  # in the graph's order

    def record(self, path: str) -> OnnxExportRecord:
        """Everything but the bytes, for the file written at ``path``."""
        return OnnxExportRecord(
            path=path,
            sha256=self.sha256,
            size_bytes=len(self.onnx_bytes),
            max_abs_difference=self.max_abs_difference,
            labels_identical=self.labels_identical,
            rows_checked=self.rows_checked,
            inputs=self.inputs,
        )


def export_onnx(
    pipeline: Pipeline, rows: pd.DataFrame, positive_class: str | None = None, tolerance: float = 1e-5
) -> OnnxExport:
    """Convert a fitted pipeline and prove parity on ``rows`` (the held-out rows); a binary
    model's ``positive_class`` (its text, as the run recorded it) goes into the graph's metadata.

    Raises ``InvalidInput`` when skl2onnx has no converter for a step, ``ParityError`` when the
    graph's probabilities differ by more than ``tolerance`` or any predicted label differs.
    """
    import numpy as np

    columns = [str(c) for c in pipeline.feature_names_in_]
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise InvalidInput(f"parity rows lack the model's input column {missing[0]!r}")
    if rows.empty:
        raise InvalidInput("no rows to check ONNX parity on; expected the held-out rows")
    frame = model_input(rows[columns], columns)
    types = [(c, FLOAT if frame[c].dtype.kind in "biuf" else STRING) for c in columns]
    metadata = {
        COLUMNS_PROPERTY: json.dumps(columns),
        CLASSES_PROPERTY: json.dumps([label_text(label) for label in pipeline.classes_]),
    }
    if positive_class is not None:
        metadata[POSITIVE_CLASS_PROPERTY] = positive_class
    onnx_bytes, names = _convert(pipeline, types, metadata)

    labels, probabilities = predict_onnx(onnx_bytes, frame)
    difference = float(np.abs(probabilities - pipeline.predict_proba(frame)).max())
    differing = int((labels != pipeline.predict(frame)).sum())
    if not difference <= tolerance or differing:  # a NaN difference fails too
        raise ParityError(
            f"ONNX parity failed on {len(frame):,} rows: max probability difference "
            f"{difference:.3g} (tolerance {tolerance:g}), {differing:,} of {len(frame):,} "
            "predicted labels differ"
        )
    return OnnxExport(
        onnx_bytes,
        hashlib.sha256(onnx_bytes).hexdigest(),
        difference,
        labels_identical=True,
        rows_checked=len(frame),
        inputs=[OnnxInput(column, name, kind) for (column, kind), name in zip(types, names, strict=True)],
    )


def predict_onnx(model: bytes | InferenceSession, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Predicted labels and class probabilities of an exported graph for the rows of ``frame``.

    Takes the graph's bytes, or a session already loaded (serving loads once, runs often).
    Each input gets its column (``input_columns``) as an ``(n, 1)`` array of the type the graph
    declares.
    """
    import numpy as np

    session = _session(model) if isinstance(model, bytes) else model
    specs = session.get_inputs()
    columns = input_columns(session)
    feed: dict[str, np.ndarray] = {}
    for spec, column in zip(specs, columns, strict=True):
        if column not in frame.columns:
            expected = ", ".join(repr(name) for name in columns)
            raise InvalidInput(f"column {column!r} is missing; the model takes {expected}")
        values = frame[column]
        if spec.type == STRING:
            array = values.astype(str).to_numpy(dtype=object)
        else:
            try:
                array = values.to_numpy(dtype=np.float32, na_value=np.nan)
            except (TypeError, ValueError):
                raise InvalidInput(f"column {column!r}: expected numbers, got {values.dtype}") from None
        feed[spec.name] = array.reshape(-1, 1)
    labels, probabilities = session.run(["label", "probabilities"], feed)
    return labels, probabilities


def input_columns(session: InferenceSession) -> list[str]:
    """The column each graph input reads, in input order (from ``mlops.columns``; a graph made
    elsewhere, without it, is read by its input names)."""
    recorded = session.get_modelmeta().custom_metadata_map.get(COLUMNS_PROPERTY)
    return list(json.loads(recorded)) if recorded else [spec.name for spec in session.get_inputs()]


def predict_proba_onnx(model: bytes | InferenceSession, frame: pd.DataFrame) -> np.ndarray:
    """Class probabilities only, like scikit-learn's ``predict_proba``."""
    return predict_onnx(model, frame)[1]


def _session(onnx_bytes: bytes) -> InferenceSession:
    import onnxruntime

    return onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


def _convert(
    pipeline: Pipeline, inputs: list[tuple[str, str]], metadata: dict[str, str]
) -> tuple[bytes, list[str]]:
    """The serialised graph, with plain probability arrays rather than ZipMap's list of dicts and
    ``metadata`` as its properties, and the graph's input names (one per column, in order).

    The graph is named after the model: skl2onnx would name it with a random uuid, giving the
    same pipeline a different sha256 on every export.
    """
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator

    patch_skl2onnx()
    tensor_types = {FLOAT: FloatTensorType, STRING: StringTensorType}
    initial_types = [(name, tensor_types[kind]([None, 1])) for name, kind in inputs]
    try:
        graph = skl2onnx.convert_sklearn(
            pipeline,
            name=type(pipeline[-1]).__name__,
            initial_types=initial_types,
            options={id(pipeline[-1]): {"zipmap": False}},
        )
    except (MissingConverter, MissingShapeCalculator) as exc:
        # skl2onnx names the class as "<class 'sklearn.semi_supervised._x.LabelSpreading'>".
        named = re.search(r"<class '(?:[\w.]*\.)?(\w+)'>", str(exc))
        step = named.group(1) if named else type(pipeline[-1]).__name__
        raise InvalidInput(
            f"skl2onnx {skl2onnx.__version__} cannot convert {step}: it has no ONNX converter; "
            "export a model of the catalogue instead"
        ) from None
    names = [item.name for item in graph.graph.input]
    if len(names) != len(inputs):
        raise MlopsError(f"the ONNX graph has {len(names)} inputs for {len(inputs)} columns")
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    return bytes(graph.SerializeToString()), names
