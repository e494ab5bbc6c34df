"""What a training request is refused for before anything is fitted, each in one line naming the
field, the value and what was expected.

The checks run in the order they cost: ``check_request`` needs only the request (no data, no
scikit-learn), ``check_target`` needs the loaded target column. Both come before MLflow and
scikit-learn are imported (seconds), so a mistyped option is answered at once; the checks only
scikit-learn can make (a parameter's range, ``ModelSpec.check_params``) come after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.training.catalogue import model_spec
from engine.training.labels import choose_positive, label_text
from engine.training.split import SPLITS
from engine.types.training import TrainRequest

if TYPE_CHECKING:
    import pandas as pd

MAX_SEED = 2**32 - 1
"""numpy's seeds (and so scikit-learn's ``random_state``) are 0 … 2**32 - 1."""


def check_request(request: TrainRequest) -> dict[str, Any]:
    """The request's own values: model, parameters, split, test size, seed. Returns the
    parameters typed as the model takes them."""
    params = model_spec(request.model).parse_params(request.params)
    if request.split not in SPLITS:
        raise InvalidInput(f"--split {request.split!r}: expected one of {', '.join(SPLITS)}")
    if not 0 < request.test_size < 1:
        raise InvalidInput(f"--test-size {request.test_size}: expected a fraction between 0 and 1")
    if not 0 <= request.seed <= MAX_SEED:
        raise InvalidInput(f"--seed {request.seed}: expected an integer from 0 to {MAX_SEED}")
    return params


def check_target(frame: pd.DataFrame, target: str, ref: str, positive_class: str | None) -> Any | None:
    """Refuse a target the catalogue's classifiers cannot learn from; return its positive class
    (None for more than two classes, see labels.py)."""
    values = frame[target]
    empty = int(values.isna().sum())
    if empty:
        raise InvalidInput(
            f"--target {target!r} has {empty} empty values in {ref}; expected a label in every row"
        )
    if values.dtype.kind == "f":
        fractional = values[values % 1 != 0]
        if len(fractional):
            raise InvalidInput(
                f"--target {target!r} holds continuous numbers in {ref} (e.g. {fractional.iloc[0]:g}); "
                "expected class labels: the catalogue's models are classifiers"
            )
    counts = values.value_counts()
    if len(counts) < 2:
        plural = "" if len(counts) == 1 else "s"
        raise InvalidInput(
            f"--target {target!r} has {len(counts)} distinct value{plural} in {ref}; "
            "expected at least two classes"
        )
    rare = sorted(counts[counts < 2].index.tolist(), key=label_text)
    if rare:
        raise InvalidInput(
            f"--target {target!r}: class {label_text(rare[0])!r} has a single row in {ref}; expected at "
            "least 2 rows of each class (one to train on, one to hold out)"
        )
    return choose_positive(counts.index.tolist(), positive_class, target, ref)
