"""On-demand features for the churn sample (see features.toml next to this file).

The feature store calls ``realtime_behavioral_features`` with a DataFrame of the source
features, one row per entity row (historical retrieval) or a single row (online lookup),
and uses the columns it returns. Missing inputs stay missing in the outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.44
RECENCY_BUCKETS = (0, 7, 30, 90, np.inf)
RECENCY_LABELS = ("active", "recent", "lapsing", "dormant")


def realtime_behavioral_features(features: pd.DataFrame) -> pd.DataFrame:
    """Order rate per month of tenure, spend per month of tenure, and a recency bucket."""
    months = (features["tenure_days"].astype("float64") / DAYS_PER_MONTH).clip(lower=1.0)
    orders_per_month = features["total_orders"].astype("float64") / months
    recency = pd.cut(
        features["days_since_last_order"].astype("float64"),
        bins=RECENCY_BUCKETS,
        labels=RECENCY_LABELS,
        right=False,
    )
    return pd.DataFrame(
        {
            "orders_per_tenure_month": orders_per_month,
            "spend_velocity": orders_per_month * features["avg_order_value"].astype("float64"),
            "recency_bucket": recency.astype("object").where(recency.notna(), None),
        },
        index=features.index,
    )
