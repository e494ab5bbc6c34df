"""Turning requested ``view:feature`` references into what to read, compute and return.

Historical retrieval and online lookup answer the same request in different places, so they
share one plan: the feature views to read (with the features on-demand views need, even when
not requested), the on-demand views to run afterwards, and the name of each returned column.
Inside a plan every feature has the unique working name ``view__feature``; the returned name
is the bare feature name (as in Feast), or the working name with ``full_feature_names``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.data.feature_definitions import parse_ref
from engine.data.feature_registry import view_named
from engine.errors import InvalidInput
from engine.types.features import FeatureDefinitions, FeatureRef, FeatureView, OnDemandView


def working_name(ref: FeatureRef) -> str:
    return f"{ref.view}__{ref.feature}"


@dataclass(frozen=True)
class ViewRead:
    """The features to read from one feature view."""

    view: FeatureView
    features: tuple[str, ...]


@dataclass(frozen=True)
class FeaturePlan:
    reads: tuple[ViewRead, ...]
    on_demand: tuple[OnDemandView, ...]
    outputs: dict[str, str]
    """Working name of each requested feature to its returned name, in request order."""

    @property
    def join_keys(self) -> tuple[str, ...]:
        """Every join key any read view needs, in first-use order."""
        return tuple(dict.fromkeys(key for read in self.reads for key in read.view.join_keys))


def plan_request(
    definitions: FeatureDefinitions, refs: Sequence[str], full_feature_names: bool
) -> FeaturePlan:
    """Check ``refs`` against the registry and say how to serve them."""
    if isinstance(refs, str) or not refs:
        raise InvalidInput(f"features = {refs!r}: expected a non-empty list of 'view:feature' references")
    requested = [parse_ref(text) for text in refs]
    needed: dict[str, dict[str, None]] = {}
    on_demand: dict[str, OnDemandView] = {}
    for ref in requested:
        view = view_named(definitions, ref.view)
        if ref.feature not in {feature.name for feature in view.features}:
            names = ", ".join(feature.name for feature in view.features)
            raise InvalidInput(
                f"feature {str(ref)!r}: view {ref.view!r} has no such feature; expected one of {names}"
            )
        if isinstance(view, OnDemandView):
            on_demand[view.name] = view
            for source in view.sources:
                needed.setdefault(source.view, {})[source.feature] = None
        else:
            needed.setdefault(view.name, {})[ref.feature] = None
    outputs: dict[str, str] = {}
    for ref in requested:
        name = working_name(ref) if full_feature_names else ref.feature
        if name in outputs.values() and working_name(ref) not in outputs:
            raise InvalidInput(
                f"feature name {name!r} is requested from two views; pass full_feature_names=True "
                "to name columns view__feature"
            )
        outputs[working_name(ref)] = name
    feature_views = {view.name: view for view in definitions.feature_views}
    reads = tuple(ViewRead(feature_views[name], tuple(features)) for name, features in needed.items())
    return FeaturePlan(reads, tuple(on_demand.values()), outputs)
