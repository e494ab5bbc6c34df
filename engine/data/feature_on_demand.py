"""On-demand features: user functions run over already retrieved features.

Historical retrieval and online lookup both end here, so a function computes the same
values for training and for serving. The function is looked up on every call (cheaply: it is
cached on its file's source), so an edited file takes effect without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.data.feature_definitions import load_function
from engine.data.feature_plan import FeaturePlan, working_name
from engine.errors import MlopsError
from engine.types.features import FeatureRef

if TYPE_CHECKING:
    import pandas as pd

    from engine.types.features import OnDemandView


def compute(view: OnDemandView, sources: pd.DataFrame) -> pd.DataFrame:
    """Run ``view``'s function on its source features; check it returned what it declares."""
    import pandas as pd

    function = load_function(view.function)
    result = function(sources[[ref.feature for ref in view.sources]].copy())
    names = [feature.name for feature in view.features]
    if not isinstance(result, pd.DataFrame):
        raise MlopsError(
            f"on-demand view {view.name!r}: function returned {type(result).__name__}; expected a DataFrame"
        )
    if len(result) != len(sources):
        raise MlopsError(
            f"on-demand view {view.name!r}: function returned {len(result)} rows; expected {len(sources)}"
        )
    missing = [name for name in names if name not in result.columns]
    if missing:
        raise MlopsError(f"on-demand view {view.name!r}: function returned no column {missing[0]!r}")
    return result[names].set_axis(sources.index)


def add_on_demand_columns(plan: FeaturePlan, frame: pd.DataFrame) -> None:
    """Add each planned on-demand feature to ``frame`` (whose columns are working names)."""
    for view in plan.on_demand:
        sources = frame[[working_name(ref) for ref in view.sources]]
        result = compute(view, sources.set_axis([ref.feature for ref in view.sources], axis=1))
        for feature in view.features:
            frame[working_name(FeatureRef(view.name, feature.name))] = result[feature.name]
