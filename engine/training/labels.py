"""Which class of a binary target is the positive one: what precision, recall, f1, ROC and PR
curves, the business costs and the fairness rates are about.

scikit-learn assumes ``pos_label=1`` and refuses any other labels (``pos_label=1 is not a
valid label``), while real tables say ``active``/``churned``. Guessing (the larger label, the
minority class) would make the positive class depend on spelling or on the rows of one
version, so a sweep or a retrain on next week's data could silently score the other class.
The rule is therefore fixed and explicit:

- two labels that spell an obvious no/yes pair, case-insensitively, choose themselves: 0/1,
  -1/1, false/true, no/yes, n/y, f/t (numbers compare by value: 0.0/1.0 is 0/1);
- any other pair needs ``--positive-class`` naming one of them; the error lists both;
- a target with more classes has no positive class (its metrics are macro averages), and
  ``--positive-class`` is refused for it.

The run records the choice (tag ``mlops.positive_class``, the label's text), and evaluation,
the champion gate and the ONNX export read it back from there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine.errors import InvalidInput

OBVIOUS_PAIRS = (("0", "1"), ("-1", "1"), ("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t"))
"""(negative, positive) spellings, compared after ``_canonical``."""


def label_text(label: Any) -> str:
    """A label as the run records it and messages show it."""
    return str(label)


def choose_positive(labels: Sequence[Any], given: str | None, target: str, ref: str) -> Any | None:
    """The positive class among ``labels`` (a target's distinct values, as Python values), or None
    for a target of more than two classes. ``given`` is ``--positive-class`` as typed."""
    ordered = sorted(labels, key=label_text)
    if len(ordered) != 2:
        if given is not None:
            raise InvalidInput(
                f"--positive-class {given!r}: --target {target!r} has {len(ordered)} classes in {ref}; "
                "expected a binary target (a positive class applies to two classes only)"
            )
        return None
    if given is not None:
        return match_label(given, ordered, f"--positive-class {given!r}", f"--target {target!r} in {ref}")
    spelled = {_canonical(label): label for label in ordered}
    for negative, positive in OBVIOUS_PAIRS:
        if set(spelled) == {negative, positive}:
            return spelled[positive]
    first, second = (label_text(label) for label in ordered)
    raise InvalidInput(
        f"--target {target!r} has the labels {first!r} and {second!r} in {ref}; expected "
        "--positive-class naming the one to predict (only 0/1, false/true, no/yes, n/y and f/t choose "
        "themselves)"
    )


def recorded_positive(classes: Sequence[Any], recorded: str | None, run: str) -> Any | None:
    """The positive class among a fitted model's ``classes`` from what its run ``recorded``; None
    for more than two classes. A binary run made before runs recorded it scored the larger label
    (scikit-learn's order), which is ``classes[1]``."""
    if len(classes) != 2:
        return None
    if recorded is None:
        return classes[1]
    return match_label(
        recorded, classes, f"the positive class {recorded!r} recorded by run {run}", "its model"
    )


def match_label(text: str, labels: Sequence[Any], field: str, where: str) -> Any:
    """The label ``text`` names: spelled exactly, else the one label it names case-insensitively
    or as the same number ("1" for 1.0, "true" for True)."""
    exact = [label for label in labels if label_text(label) == text]
    if exact:
        return exact[0]
    loose = [label for label in labels if _canonical(label) == _canonical(text)]
    if len(loose) == 1:
        return loose[0]
    names = " or ".join(repr(label_text(label)) for label in labels)
    raise InvalidInput(f"{field} is not a label of {where}; expected {names}")


def _canonical(value: Any) -> str:
    """``value``'s spelling without case, blanks or a number's form: True → "true", 1.0 → "1"."""
    text = str(value).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if math.isfinite(number) and number.is_integer() else text
