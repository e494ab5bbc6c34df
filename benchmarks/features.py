"""Feature store: point-in-time retrieval against pandas.merge_asof, and online lookup latency.

Retrieval: 1M entity rows (random customers and times) against 3 feature views of 1M rows
each (100k customers, 10 rows each over a year, TTLs of 7, 30 and 90 days), through
``get_historical_features`` (one DuckDB ASOF LEFT JOIN per view) and through the pandas
recipe a user would write instead: per view, sort, ``merge_asof(by=key, tolerance=ttl)``,
then restore the entity rows' order. Both answers are checked to be equal, so the figures
compare the same work. Inputs start where each tool wants them: DuckDB tables for the store,
pandas frames for pandas.

Online: after ``materialize``, 10k single-entity lookups, from a workspace-like database
file. Run with ``python -m benchmarks.features``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from engine.data import features as fs
from engine.migrations import migrate

ENTITY_ROWS = 1_000_000
CUSTOMERS = 100_000
ROWS_PER_CUSTOMER = 10
LOOKUPS = 10_000
START = datetime(2026, 1, 1)
YEAR_SECONDS = 365 * 24 * 3600
VIEWS = {"orders": 7, "payments": 30, "support": 90}
"""Feature view name → TTL in days; each view has features ``<view>_count`` and ``<view>_amount``."""


def build(connection: duckdb.DuckDBPyConnection) -> fs.FeatureDefinitions:
    """Feature tables and entity rows, generated inside DuckDB; the store's definitions for them."""
    migrate(connection)
    for seed, view in enumerate(VIEWS, start=1):
        connection.execute(f"SELECT setseed({seed / 10})")
        connection.execute(
            f'CREATE TABLE data."{view}@v1" AS SELECT i % {CUSTOMERS} AS customer_id, '
            f"TIMESTAMP '{START}' + to_seconds(CAST(random() * {YEAR_SECONDS} AS BIGINT)) AS ts, "
            f"CAST(random() * 50 AS BIGINT) AS {view}_count, random() * 500 AS {view}_amount "
            f"FROM range({CUSTOMERS * ROWS_PER_CUSTOMER}) AS t(i)"
        )
    connection.execute(
        f"CREATE TABLE entity_rows AS SELECT CAST(random() * {CUSTOMERS} AS BIGINT) AS customer_id, "
        f"TIMESTAMP '{START}' + to_seconds(CAST(random() * {YEAR_SECONDS} AS BIGINT)) AS event_timestamp "
        f"FROM range({ENTITY_ROWS})"
    )
    views = tuple(
        fs.FeatureView(
            name=view,
            entities=("customer",),
            join_keys=("customer_id",),
            source=view,
            timestamp_column="ts",
            ttl=timedelta(days=ttl),
            online=True,
            features=(fs.Feature(f"{view}_count", "int64"), fs.Feature(f"{view}_amount", "float64")),
        )
        for view, ttl in VIEWS.items()
    )
    return fs.FeatureDefinitions((fs.Entity("customer", ("customer_id",)),), views)


def resolve(reference: str) -> str:
    return f'data."{reference}@v1"'


def feature_refs() -> list[str]:
    return [f"{view}:{view}_{feature}" for view in VIEWS for feature in ("count", "amount")]


def with_merge_asof(entity_rows: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The pandas recipe: sort by time, merge_asof per view with the TTL as tolerance, restore order."""
    result = entity_rows.assign(row=np.arange(len(entity_rows))).sort_values("event_timestamp")
    for view, ttl in VIEWS.items():
        table = tables[view].sort_values("ts")
        result = pd.merge_asof(
            result,
            table,
            left_on="event_timestamp",
            right_on="ts",
            by="customer_id",
            tolerance=pd.Timedelta(days=ttl),
            direction="backward",
        ).drop(columns="ts")
    return result.sort_values("row").drop(columns="row").reset_index(drop=True)


def timed(action: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def latencies_ms(action: Callable[[int], object], keys: np.ndarray) -> tuple[float, float]:
    """p50 and p99 of single calls, in milliseconds."""
    spent = []
    for key in keys:
        started = time.perf_counter()
        action(int(key))
        spent.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(spent, n=100)
    return cuts[49], cuts[98]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        connection = duckdb.connect(str(Path(folder) / "workspace.duckdb"))
        fs.apply(connection, build(connection))
        entity_rows = connection.execute("SELECT * FROM entity_rows").df()
        tables = {view: connection.execute(f"SELECT * FROM {resolve(view)}").df() for view in VIEWS}

        store_seconds, store = timed(
            lambda: fs.get_historical_features(connection, resolve, entity_rows, feature_refs())
        )
        pandas_seconds, expected = timed(lambda: with_merge_asof(entity_rows, tables))
        pd.testing.assert_frame_equal(store, expected[store.columns], check_dtype=False)

        started = time.perf_counter()
        fs.materialize(connection, resolve, START + timedelta(days=366))
        materialize_seconds = time.perf_counter() - started
        now = START + timedelta(days=366)
        keys = np.random.default_rng(7).integers(0, CUSTOMERS, LOOKUPS)
        one, three = ["orders:orders_count", "orders:orders_amount"], feature_refs()
        prepared_one = fs.prepare_online_lookup(connection, one)
        prepared_three = fs.prepare_online_lookup(connection, three)
        index_started = time.perf_counter()
        index_three = fs.OnlineIndex.load(connection, prepared_three)
        index_seconds = time.perf_counter() - index_started
        online = {
            "`get_online_features`, 1 view": latencies_ms(
                lambda key: fs.get_online_features(connection, {"customer_id": key}, one, now), keys
            ),
            "`get_online_features`, 3 views": latencies_ms(
                lambda key: fs.get_online_features(connection, {"customer_id": key}, three, now), keys
            ),
            "prepared `OnlineLookup`, 1 view": latencies_ms(
                lambda key: prepared_one.get(connection, {"customer_id": key}, now), keys
            ),
            "prepared `OnlineLookup`, 3 views": latencies_ms(
                lambda key: prepared_three.get(connection, {"customer_id": key}, now), keys
            ),
            "`OnlineIndex` (in memory, for serving), 3 views": latencies_ms(
                lambda key: index_three.get({"customer_id": key}, now), keys
            ),
        }
        connection.close()

    print(f"### Feature store: {ENTITY_ROWS:,} entity rows, {len(VIEWS)} feature views\n")
    print("| retrieval (point in time, with TTL) | seconds |")
    print("| --- | ---: |")
    print(f"| `get_historical_features` (DuckDB ASOF LEFT JOIN) | {store_seconds:.2f} |")
    print(f"| pandas `merge_asof` (sort, join with tolerance, restore order) | {pandas_seconds:.2f} |")
    print(f"| `materialize` ({len(VIEWS)} views → online tables) | {materialize_seconds:.2f} |")
    print(f"| load the `OnlineIndex` of {len(VIEWS)} views ({CUSTOMERS:,} entities) | {index_seconds:.2f} |")
    print(f"\n| online lookup ({LOOKUPS:,} single entities) | p50 ms | p99 ms |")
    print("| --- | ---: | ---: |")
    for label, (p50, p99) in online.items():
        print(f"| {label} | {p50:.3f} | {p99:.3f} |")


if __name__ == "__main__":
    main()
