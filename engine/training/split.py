"""Holding out test rows: at random (stratified by the target) or by time (the latest rows).

``check_split`` says, before scikit-learn is imported, whether a split can be made at all:
rows on both sides, every class among the training rows, and as many rows on each side as
there are classes for a stratified split (scikit-learn's own rule). ``split_rows`` then makes
it. Both count rows the same way: a random split holds out ``ceil(test_size * rows)`` rows, as
``train_test_split`` does; a time split keeps the earliest ``round((1 - test_size) * rows)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.training.labels import label_text

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SPLITS = ("random", "time")


def check_split(
    frame: pd.DataFrame, target: str, how: str, test_size: float, time_column: str | None, ref: str
) -> None:
    """Refuse a split that would leave a side empty or a class out of training, in one line."""
    rows, classes = len(frame), frame[target].nunique()
    if how == "time":
        if time_column is None:
            raise InvalidInput("--split time: the dataset has no timestamp column to order rows by")
        kept = _time_cut(rows, test_size)
    else:
        kept = rows - math.ceil(test_size * rows)
    held_out = rows - kept
    side = f"--test-size {test_size:g} with --split {how} on the {rows:,} rows of {ref}"
    if held_out < 1 or kept < 1:
        empty = "no test rows" if held_out < 1 else "no training rows"
        raise InvalidInput(
            f"{side} leaves {empty}; expected a test size holding out at least 1 and at most "
            f"{rows - 1:,} of the rows"
        )
    if how == "random" and min(held_out, kept) < classes:
        raise InvalidInput(
            f"{side} holds out {held_out:,} and trains on {kept:,} rows; a stratified split needs "
            f"at least one row of each of the {classes} classes on both sides"
        )
    if how == "time":
        training = frame[target].iloc[_time_order(frame, time_column)[:kept]]
        absent = sorted(
            set(frame[target].unique().tolist()) - set(training.unique().tolist()), key=label_text
        )
        if absent:
            raise InvalidInput(
                f"{side}: class {label_text(absent[0])!r} of --target {target!r} appears only among the "
                f"{held_out:,} latest rows held out; expected every class among the training rows"
            )


def split_rows(
    frame: pd.DataFrame, target: str, how: str, test_size: float, seed: int, time_column: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test rows of ``frame`` (after ``check_split``)."""
    import numpy as np

    if how == "time":
        order = _time_order(frame, time_column)
        cut = _time_cut(len(frame), test_size)
        return np.sort(order[:cut]), np.sort(order[cut:])
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(frame))
    train, test = train_test_split(positions, test_size=test_size, random_state=seed, stratify=frame[target])
    return np.sort(train), np.sort(test)


def _time_cut(rows: int, test_size: float) -> int:
    """How many of the earliest rows a time split trains on."""
    return round(rows * (1 - test_size))


def _time_order(frame: pd.DataFrame, time_column: Any) -> np.ndarray:
    import numpy as np

    return np.argsort(frame[time_column].to_numpy(), kind="stable")
