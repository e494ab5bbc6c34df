"""Holding out test rows: at random (stratified by the target) or by time (the latest rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SPLITS = ("random", "time")


def split_rows(
    frame: pd.DataFrame, target: str, how: str, test_size: float, seed: int, time_column: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test rows of ``frame``."""
    import numpy as np

    if how not in SPLITS:
        raise InvalidInput(f"--split {how!r}: expected one of {', '.join(SPLITS)}")
    if not 0 < test_size < 1:
        raise InvalidInput(f"--test-size {test_size}: expected a fraction between 0 and 1")
    positions = np.arange(len(frame))
    if how == "time":
        if time_column is None:
            raise InvalidInput("--split time: the dataset has no timestamp column to order rows by")
        order = np.argsort(frame[time_column].to_numpy(), kind="stable")
        cut = round(len(frame) * (1 - test_size))
        return np.sort(order[:cut]), np.sort(order[cut:])
    from sklearn.model_selection import train_test_split

    counts = frame[target].value_counts()
    stratify = frame[target] if counts.min() >= 2 else None
    train, test = train_test_split(positions, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)
