"""`mlops features ...` with the sample definitions, as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import REPO_ROOT, mlops_json, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


def test_apply_historical_materialize_online(workspace: Path, tmp_path: Path) -> None:
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    applied = mlops_json(workspace, "features", "apply", str(SAMPLE / "features.toml"))
    assert "feature_view:customer_orders" in applied["added"]
    again = mlops_json(workspace, "features", "apply", str(SAMPLE / "features.toml"))
    assert again["added"] == [] and again["changed"] == []

    listed = {view["name"]: view for view in mlops_json(workspace, "features", "list")["views"]}
    assert listed["customer_support"]["ttl_seconds"] == 12 * 3600 and listed["customer_support"]["online"]

    entities = tmp_path / "entities.csv"
    pd.DataFrame(
        {"customer_id": [100_000, 100_000], "event_timestamp": ["2025-12-31 00:00:00", "2026-01-01 12:00:00"]}
    ).to_csv(entities, index=False)
    written = mlops_json(
        workspace,
        "features",
        "historical",
        "--entities",
        str(entities),
        "--features",
        "customer_orders:total_orders",
        "--out",
        str(tmp_path / "train.parquet"),
    )
    assert written["rows"] == 2
    frame = pd.read_parquet(tmp_path / "train.parquet")
    assert pd.isna(frame.total_orders[0]) and frame.total_orders[1] == 22  # nothing from the future

    mlops_json(workspace, "features", "materialize", "--end", "2026-06-29T00:00:00")
    online = mlops_json(
        workspace,
        "features",
        "online",
        "--entity",
        "customer_id=100000",
        "--features",
        "customer_orders:total_orders,customer_behaviour:orders_per_tenure_month",
        "--at",
        "2026-01-02T00:00:00",
    )
    assert online["features"]["total_orders"] == 22
    assert online["features"]["orders_per_tenure_month"] is not None
    expired = mlops_json(
        workspace,
        "features",
        "online",
        "--entity",
        "customer_id=100000",
        "--features",
        "customer_orders:total_orders",
        "--at",
        "2026-03-01T00:00:00",
    )
    assert expired["features"]["total_orders"] is None  # older than the 30-day TTL
    assert expired["statuses"] == {"total_orders": "expired"}
    unknown = run_mlops(
        "features", "online", "--entity", "customer_id=1", "--features", "customer_orders:total_orders",
        "-w", str(workspace),
    )  # fmt: skip
    assert unknown.returncode == 0 and "not found" in unknown.stdout


def test_feature_errors_are_one_line(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[feature_view]]\nname = "x"\nsource = "missing"\n')
    result = run_mlops("features", "apply", str(tmp_path / "bad.toml"), "-w", str(workspace))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    result = run_mlops(
        "features", "online", "--entity", "customer_id", "--features", "a:b", "-w", str(workspace)
    )
    assert result.returncode == 2 and "expected JOIN_KEY=VALUE" in result.stderr
