"""The demo's data: the reference period, the suite required of it, the production weeks as
later versions of the same dataset (validated as they land, week 2 quarantined), and the
feature store's definitions materialized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.demo.services import DemoServices
from engine.types.progress import Progress

DATASET = "churn"
SUITE = "churn_suite"
WEEKS = (1, 2, 3, 4)


def ingest_and_validate(engine: DemoServices, sample: Path, progress: Progress) -> list[dict[str, Any]]:
    """Ingest churn@v1, store and require the suite, then ingest each week (churn@v2..v5): the
    suite is required first, so each week is validated on ingest, as ``mlops suite require``
    makes it, and a failing one is quarantined at once."""
    progress("ingesting the reference period (churn@v1)", 0.0)
    engine.datasets.ingest(sample / "churn_reference.csv", DATASET)
    engine.suites.add(sample / "churn_suite.json", SUITE)
    engine.quality.validate(f"{DATASET}@v1", SUITE)
    engine.quality.require(DATASET, SUITE)
    for index, week in enumerate(WEEKS):
        progress(f"ingesting production week {week}, validated as it lands", (index + 1) / (len(WEEKS) + 1))
        engine.datasets.ingest(sample / f"churn_week_{week}.csv", DATASET)
    return [
        {
            "ref": version.ref,
            "source": Path(version.source_path).name,
            "rows": version.row_count,
            "status": version.status,
        }
        for version in engine.datasets.versions(DATASET)
    ]


def features(engine: DemoServices, sample: Path, progress: Progress) -> dict[str, Any]:
    """Apply the sample's feature definitions and fill the online store (from churn's newest
    version, the latest production week: the freshest values a request would meet)."""
    progress("applying the feature definitions", 0.0)
    applied = engine.features.apply(sample / "features.toml")
    progress("materializing the online store", 0.5)
    done = engine.features.materialize()
    return {
        "views": sorted(status.view.name for status in engine.features.views()),
        "applied": applied.summary,
        "materialized_rows": sum(item.rows_written for item in done),
    }
