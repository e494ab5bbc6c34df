"""Work-arounds for skl2onnx bugs, kept in one place and applied before every conversion.

skl2onnx 1.20 cannot convert ``HistGradientBoostingClassifier``: for leaves it passes a Python
``False`` as ``nodes_missing_value_tracks_true`` (for splits, sklearn's ``missing_go_to_left``,
a numpy integer), and ONNX's protobuf refuses a boolean in an integer list ("Expected an int,
got a boolean"). Coercing that one argument to ``int`` is the whole fix: the values already
mean what ONNX expects (missing values follow the "true", i.e. ``x <= threshold``, branch),
and parity holds on rows with missing values (checked by every export).

tests/engine/registry/test_onnx_export.py converts such a model without the shim and expects
the failure, so the day upstream fixes it that test fails and this module can go.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_MARK = "_mlops_int_missing_tracks_true"


def patch_skl2onnx() -> None:
    """Apply the shim; idempotent, so callers simply call it before converting.

    ``add_node`` is looked up as a module global by the tree-ensemble helpers that call it, so
    replacing the module attribute reaches every caller.
    """
    from skl2onnx.common import tree_ensemble

    if not getattr(tree_ensemble.add_node, _MARK, False):
        tree_ensemble.add_node = _int_missing_tracks_true(tree_ensemble.add_node)


def _int_missing_tracks_true(add_node: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(add_node)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "nodes_missing_value_tracks_true" in kwargs:
            kwargs["nodes_missing_value_tracks_true"] = int(kwargs["nodes_missing_value_tracks_true"])
        return add_node(*args, **kwargs)

    setattr(wrapper, _MARK, True)
    return wrapper
