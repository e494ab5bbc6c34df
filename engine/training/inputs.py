"""The feature columns as scikit-learn takes them: nullable numbers as floats with NaN.

DuckDB hands an integer or boolean column holding NULLs to pandas as a nullable extension
type (``Int32``, ``Int64``, ``boolean``) whose missing value is ``pandas.NA``; so does a feature
retrieval. scikit-learn cannot take ``pandas.NA`` (a ``ColumnTransformer`` passing such a column
through refuses it: "has dtype Int64 and uses pandas.NA"), and a model that imputes only hides
it. Every frame on its way into a model, when training, evaluating, or checking ONNX parity,
goes through ``model_input`` so all of them see the same float64 column with NaN, which is
also what serving feeds the ONNX graph (a float tensor with NaN).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def model_input(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with each of ``columns`` that has a nullable numeric type as float64 (NaN for NA);
    other columns untouched, and ``frame`` itself unchanged."""
    import pandas as pd

    nullable = [
        column
        for column in columns
        if isinstance(frame[column].dtype, pd.api.extensions.ExtensionDtype)
        and frame[column].dtype.kind in "biuf"
    ]
    if not nullable:
        return frame
    return frame.astype(dict.fromkeys(nullable, "float64"))
