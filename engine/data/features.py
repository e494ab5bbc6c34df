"""The feature store: Feast's model (entities, feature views, on-demand views) over DuckDB.

Definitions are read from TOML (``feature_definitions``: format and checks) and applied to
a registry in the workspace database (``feature_registry``). From there:

- ``get_historical_features`` builds point-in-time correct training sets
  (``feature_retrieval``);
- ``materialize`` fills the online store and ``get_online_features`` or a prepared
  ``OnlineLookup`` serves single entities from it (``feature_online``);
- on-demand views run user functions over retrieved features in both paths
  (``feature_on_demand``), so training and serving compute them identically.

The store never touches the dataset catalogue: callers pass a resolver that turns a dataset
reference ("churn", "churn@v2") into a quoted relation such as ``data."churn@v2"``.
Importing this module loads neither DuckDB, pandas nor pyarrow.
"""

from __future__ import annotations

from engine.data.feature_definitions import Resolver, load_definitions
from engine.data.feature_online import (
    OnlineIndex,
    OnlineLookup,
    get_online_features,
    lookup_online_features,
    materialize,
    prepare_online_lookup,
)
from engine.data.feature_registry import apply, list_views
from engine.data.feature_retrieval import ENTITY_TIMESTAMP, get_historical_features
from engine.types.features import (
    ApplyResult,
    Entity,
    Feature,
    FeatureDefinitions,
    FeatureRef,
    FeatureView,
    Materialization,
    OnDemandView,
    OnlineFeatures,
)

__all__ = [
    "ENTITY_TIMESTAMP",
    "ApplyResult",
    "Entity",
    "Feature",
    "FeatureDefinitions",
    "FeatureRef",
    "FeatureView",
    "Materialization",
    "OnDemandView",
    "OnlineFeatures",
    "OnlineIndex",
    "OnlineLookup",
    "Resolver",
    "apply",
    "get_historical_features",
    "get_online_features",
    "list_views",
    "load_definitions",
    "lookup_online_features",
    "materialize",
    "prepare_online_lookup",
]
