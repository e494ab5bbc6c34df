"""Ingest and profile of a 1M-row x 20-column CSV, side by side with pandas.

The file is the sample churn reference replicated to 1M rows with seven derived columns
(20 in all), written once by DuckDB. ``mlops data ingest`` (read, type, hash, store in one
transaction) is timed against what a pandas user does to get a typed, columnar copy:
``pandas.read_csv`` + ``DataFrame.to_parquet``. The profile is timed cold (not cached).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds
from engine.facade import Engine

RUNS = 3
ROWS = 1_000_000
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "churn_reference.csv"


def write_wide_csv(path: Path) -> None:
    import duckdb

    with duckdb.connect() as con:
        con.execute(
            f"""
            COPY (
                SELECT r.* EXCLUDE (n) REPLACE (r.customer_id + 100000 * (i // 20000) AS customer_id),
                    avg_order_value * total_orders AS lifetime_value,
                    tenure_days / 30.0 AS tenure_months,
                    support_tickets > 2 AS many_tickets,
                    upper(country) || '-' || region AS market,
                    days_since_last_order * 24 AS hours_since_last_order,
                    age * 12 AS age_months,
                    total_orders / (tenure_days + 1.0) AS order_rate
                FROM range({ROWS}) t(i)
                JOIN (SELECT *, row_number() OVER () - 1 AS n FROM read_csv('{SAMPLE}')) r ON r.n = i % 20000
            ) TO '{path}' (FORMAT CSV, HEADER)
            """
        )


def main() -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "wide.csv"
        write_wide_csv(csv_path)
        size_mb = csv_path.stat().st_size / 1e6
        counter = iter(range(1_000))
        engine, _ = Engine.init(Path(folder) / "ws", command="benchmark")
        with engine:
            ingest = median_seconds(lambda: engine.datasets.ingest(csv_path, f"wide{next(counter)}"), RUNS)
            version = engine.datasets.resolve("wide0")
            profile = median_seconds(lambda: _fresh_profile(engine, version.name, version.version), RUNS)
        parquet = Path(folder) / "pandas.parquet"
        pandas_ingest = median_seconds(lambda: pd.read_csv(csv_path).to_parquet(parquet), RUNS)
    print(f"### Ingest and profile: {ROWS:,} rows x {version.column_count} columns ({size_mb:.0f} MB CSV)\n")
    print(f"median of {RUNS} runs, seconds\n")
    print("| what | mlops-console | pandas (read_csv + to_parquet) |")
    print("| --- | --- | --- |")
    print(f"| ingest: read, type, content-hash, store | {ingest:.2f} | {pandas_ingest:.2f} |")
    print(f"| profile every column | {profile:.2f} | |")
    print()


def _fresh_profile(engine: Engine, name: str, version: int) -> None:
    with engine._db.cursor() as cursor:
        cursor.execute(
            "UPDATE dataset_versions SET profile_json = NULL WHERE name = ? AND version = ?", [name, version]
        )
    engine.datasets.profile(f"{name}@v{version}")


if __name__ == "__main__":
    main()
