"""The feature store on a real in-memory DuckDB: definitions, point-in-time retrieval, online store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import features as fs
from engine.errors import InvalidInput, MlopsError
from engine.migrations import migrate

SAMPLE_DATA = Path(__file__).resolve().parents[3] / "sample_data"
T0 = datetime(2026, 1, 1)

DEFINITIONS = """
[[entity]]
name = "customer"
join_keys = ["customer_id"]

[[feature_view]]
name = "orders"
entities = ["customer"]
source = "activity"
timestamp_column = "ts"
ttl = "2h"
online = true

[feature_view.features]
total_orders = "int64"
spend = "float64"

[[feature_view]]
name = "profile"
entities = ["customer"]
source = "profile@v1"
timestamp_column = "ts"

[feature_view.features]
country = "string"

[[on_demand_view]]
name = "derived"
sources = ["orders:total_orders", "orders:spend"]
function = "derived.py:per_order"

[on_demand_view.features]
spend_per_order = "float64"
"""

ON_DEMAND = """
import pandas as pd

def per_order(features):
    return pd.DataFrame({"spend_per_order": features["spend"] / features["total_orders"]})
"""


def make_resolver(connection: duckdb.DuckDBPyConnection) -> Callable[[str], str]:
    """Resolve "name" to the highest "name@vN" table in schema data, like the catalogue does."""

    def resolve(reference: str) -> str:
        tables = [row[0] for row in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        if "@" not in reference:
            versions = sorted((t for t in tables if t.startswith(f"{reference}@v")), key=lambda t: int(t[-1]))
            reference = versions[-1] if versions else reference
        if reference not in tables:
            raise InvalidInput(f"dataset {reference!r} does not exist")
        return f'data."{reference}"'

    return resolve


def store_table(connection: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    connection.register("incoming", frame)
    connection.execute(f'CREATE OR REPLACE TABLE data."{name}" AS SELECT * FROM incoming')
    connection.unregister("incoming")


def fresh_store() -> duckdb.DuckDBPyConnection:
    """A database with the workspace's real schema (every migration, the feature store's included)."""
    connection = duckdb.connect()
    migrate(connection)
    return connection


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = fresh_store()
    store_table(
        connection,
        "activity@v1",
        pd.DataFrame(
            {
                "customer_id": [1, 1, 1, 2],
                "ts": [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=3), T0 + timedelta(hours=1)],
                "total_orders": [1, 2, 4, 7],
                "spend": [10.0, 30.0, 80.0, 70.0],
            }
        ),
    )
    store_table(
        connection,
        "profile@v1",
        pd.DataFrame({"customer_id": [1, 2], "ts": [T0, T0], "country": ["NL", "DE"]}),
    )
    yield connection
    connection.close()


@pytest.fixture
def definitions_file(tmp_path: Path) -> Path:
    (tmp_path / "derived.py").write_text(ON_DEMAND)
    path = tmp_path / "features.toml"
    path.write_text(DEFINITIONS)
    return path


@pytest.fixture
def applied(db: duckdb.DuckDBPyConnection, definitions_file: Path) -> duckdb.DuckDBPyConnection:
    fs.apply(db, fs.load_definitions(definitions_file, db, make_resolver(db)))
    return db


def entity_rows(*rows: tuple[int, datetime]) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [row[0] for row in rows], "event_timestamp": [row[1] for row in rows]}
    )


def values(frame: pd.DataFrame, column: str) -> list[object]:
    return [None if pd.isna(value) else value for value in frame[column]]


# Definitions and registry


def test_importing_the_store_loads_no_heavy_library() -> None:
    code = (
        "import sys, engine.data.features; print(sorted({'duckdb', 'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_sample_definitions_load_against_the_churn_data() -> None:
    connection = fresh_store()
    connection.execute(
        f"""CREATE TABLE data."churn@v1" AS FROM read_csv('{SAMPLE_DATA / "churn_reference.csv"}')"""
    )
    definitions = fs.load_definitions(SAMPLE_DATA / "features.toml", connection, make_resolver(connection))
    fs.apply(connection, definitions)
    source = connection.execute(
        'SELECT customer_id, event_timestamp, total_orders, country FROM data."churn@v1" '
        "WHERE customer_id % 400 = 0"
    ).df()
    result = fs.get_historical_features(
        connection,
        make_resolver(connection),
        source[["customer_id", "event_timestamp"]],
        [
            "customer_orders:total_orders",
            "customer_behaviour:orders_per_tenure_month",
            "customer_profile:country",
        ],
    )
    assert result["total_orders"].tolist() == source["total_orders"].tolist()
    assert result["country"].tolist() == source["country"].tolist()
    assert len(result) == 50
    assert (result["orders_per_tenure_month"] >= 0).all()


def test_apply_is_idempotent_and_replaces_changed_views(
    db: duckdb.DuckDBPyConnection, definitions_file: Path
) -> None:
    resolver = make_resolver(db)
    first = fs.apply(db, fs.load_definitions(definitions_file, db, resolver))
    assert "feature_view:orders" in first.added
    assert fs.apply(db, fs.load_definitions(definitions_file, db, resolver)).added == ()
    fs.materialize(db, resolver, T0 + timedelta(hours=4))
    definitions_file.write_text(DEFINITIONS.replace('ttl = "2h"', 'ttl = "3h"'))
    second = fs.apply(db, fs.load_definitions(definitions_file, db, resolver))
    assert second.changed == ("feature_view:orders",)
    (orders,) = [view for view in fs.list_views(db) if view.name == "orders"]
    assert isinstance(orders, fs.FeatureView)
    assert orders.ttl == timedelta(hours=3)
    with pytest.raises(InvalidInput, match="no online values yet"):
        fs.get_online_features(db, {"customer_id": 1}, ["orders:spend"])


def test_apply_removes_views_no_longer_defined(
    applied: duckdb.DuckDBPyConnection, definitions_file: Path
) -> None:
    text = DEFINITIONS[: DEFINITIONS.index("[[on_demand_view]]")]
    definitions_file.write_text(text)
    result = fs.apply(applied, fs.load_definitions(definitions_file, applied, make_resolver(applied)))
    assert result.removed == ("on_demand_view:derived",)
    assert [view.name for view in fs.list_views(applied)] == ["orders", "profile"]


# Historical retrieval


def test_retrieval_takes_the_latest_row_at_or_before_each_entity_row(
    applied: duckdb.DuckDBPyConnection,
) -> None:
    rows = entity_rows(
        (1, T0 + timedelta(minutes=30)),
        (1, T0 + timedelta(hours=1)),  # a row at exactly this time counts
        (1, T0 + timedelta(hours=2, minutes=59)),  # the 3h row is in the future
        (2, T0 + timedelta(hours=2)),
    )
    result = fs.get_historical_features(
        applied, make_resolver(applied), rows, ["orders:total_orders", "profile:country"]
    )
    assert values(result, "total_orders") == [1, 2, 2, 7]
    assert values(result, "country") == ["NL", "NL", "NL", "DE"]
    assert list(result.columns) == ["customer_id", "event_timestamp", "total_orders", "country"]


def test_ttl_boundary_is_inclusive(applied: duckdb.DuckDBPyConnection) -> None:
    at_limit = T0 + timedelta(hours=3)  # customer 2's row is at 1h, ttl 2h
    rows = entity_rows((2, at_limit), (2, at_limit + timedelta(microseconds=1)))
    result = fs.get_historical_features(applied, make_resolver(applied), rows, ["orders:total_orders"])
    assert values(result, "total_orders") == [7, None]


def test_duplicates_and_order_of_entity_rows_are_kept(applied: duckdb.DuckDBPyConnection) -> None:
    late, early = T0 + timedelta(hours=3), T0 + timedelta(minutes=1)
    rows = entity_rows((1, late), (2, early), (1, late), (1, early), (1, late))
    result = fs.get_historical_features(applied, make_resolver(applied), rows, ["orders:total_orders"])
    assert values(result, "total_orders") == [4, None, 4, 1, 4]
    assert list(result["customer_id"]) == [1, 2, 1, 1, 1]


def test_entity_rows_before_any_feature_row_get_nulls(applied: duckdb.DuckDBPyConnection) -> None:
    rows = entity_rows((1, T0 - timedelta(seconds=1)), (3, T0 + timedelta(hours=1)))
    result = fs.get_historical_features(
        applied, make_resolver(applied), rows, ["orders:spend", "profile:country", "derived:spend_per_order"]
    )
    assert values(result, "spend") == [None, None]
    assert values(result, "country") == [None, None]
    assert values(result, "spend_per_order") == [None, None]


def test_time_zone_aware_entity_rows_compare_as_instants(applied: duckdb.DuckDBPyConnection) -> None:
    rows = entity_rows((1, (T0 + timedelta(hours=2, minutes=30)).replace(tzinfo=UTC)))
    rows["event_timestamp"] = rows["event_timestamp"].dt.tz_convert("Asia/Kolkata")  # 08:00 on the wall clock
    result = fs.get_historical_features(applied, make_resolver(applied), rows, ["orders:total_orders"])
    assert values(result, "total_orders") == [2]


def test_on_demand_features_are_computed_after_retrieval(applied: duckdb.DuckDBPyConnection) -> None:
    rows = entity_rows((1, T0 + timedelta(hours=1)), (2, T0 + timedelta(hours=1)))
    result = fs.get_historical_features(applied, make_resolver(applied), rows, ["derived:spend_per_order"])
    assert list(result.columns) == ["customer_id", "event_timestamp", "spend_per_order"]
    assert values(result, "spend_per_order") == [15.0, 10.0]


def test_a_relation_name_works_as_entity_rows(applied: duckdb.DuckDBPyConnection) -> None:
    applied.execute(
        "CREATE TABLE spine AS SELECT 2 AS customer_id, TIMESTAMP '2026-01-01 01:30:00' AS event_timestamp"
    )
    result = fs.get_historical_features(applied, make_resolver(applied), "spine", ["orders:spend"])
    assert values(result, "spend") == [70.0]


def test_an_arrow_table_works_as_entity_rows(applied: duckdb.DuckDBPyConnection) -> None:
    import pyarrow as pa

    rows = pa.Table.from_pandas(entity_rows((2, T0 + timedelta(hours=2)), (1, T0 + timedelta(hours=2))))
    result = fs.get_historical_features(applied, make_resolver(applied), rows, ["orders:spend"])
    assert values(result, "spend") == [70.0, 30.0]


def test_an_on_demand_function_returning_the_wrong_columns_is_reported(
    applied: duckdb.DuckDBPyConnection, definitions_file: Path
) -> None:
    wrong = ON_DEMAND.replace('"spend_per_order"', '"other"')
    assert wrong != ON_DEMAND
    (definitions_file.parent / "derived.py").write_text(wrong)
    rows = entity_rows((1, T0 + timedelta(hours=1)))
    with pytest.raises(
        MlopsError, match="on-demand view 'derived': function returned no column 'spend_per_order'"
    ):
        fs.get_historical_features(applied, make_resolver(applied), rows, ["derived:spend_per_order"])


def test_full_feature_names_resolve_clashes(applied: duckdb.DuckDBPyConnection) -> None:
    rows = entity_rows((1, T0 + timedelta(hours=1)))
    result = fs.get_historical_features(
        applied, make_resolver(applied), rows, ["orders:spend", "profile:country"], full_feature_names=True
    )
    assert list(result.columns)[2:] == ["orders__spend", "profile__country"]


@settings(max_examples=40, deadline=None)
@given(
    feature_rows=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 200), st.integers(-1000, 1000)),
        max_size=40,
        unique_by=lambda r: r[:2],
    ),
    entity_keys=st.lists(st.tuples(st.integers(0, 4), st.integers(-10, 210)), min_size=1, max_size=30),
    ttl_minutes=st.integers(1, 120),
)
def test_retrieval_matches_a_brute_force_point_in_time_join(
    feature_rows: list[tuple[int, int, int]], entity_keys: list[tuple[int, int]], ttl_minutes: int
) -> None:
    connection = fresh_store()
    store_table(
        connection,
        "events@v1",
        pd.DataFrame(
            {
                "customer_id": pd.Series([row[0] for row in feature_rows], dtype="int64"),
                "ts": pd.Series(
                    [T0 + timedelta(minutes=row[1]) for row in feature_rows], dtype="datetime64[ns]"
                ),
                "value": pd.Series([row[2] for row in feature_rows], dtype="int64"),
            }
        ),
    )
    view = fs.FeatureView(
        name="events",
        entities=("customer",),
        join_keys=("customer_id",),
        source="events",
        timestamp_column="ts",
        ttl=timedelta(minutes=ttl_minutes),
        online=False,
        features=(fs.Feature("value", "int64"),),
    )
    fs.apply(connection, fs.FeatureDefinitions((fs.Entity("customer", ("customer_id",)),), (view,)))
    rows = entity_rows(*((key, T0 + timedelta(minutes=minute)) for key, minute in entity_keys))
    result = fs.get_historical_features(connection, make_resolver(connection), rows, ["events:value"])

    expected = []
    for key, minute in entity_keys:
        past = [row for row in feature_rows if row[0] == key and row[1] <= minute]
        latest = max(past, key=lambda row: row[1], default=None)
        expected.append(latest[2] if latest is not None and minute - latest[1] <= ttl_minutes else None)
    assert values(result, "value") == expected
    assert list(result["event_timestamp"]) == list(rows["event_timestamp"])
    connection.close()


# Materialization and online lookup


def test_materialize_then_look_up_with_expiry(applied: duckdb.DuckDBPyConnection) -> None:
    resolver = make_resolver(applied)
    first = fs.materialize(applied, resolver, T0 + timedelta(hours=2))
    assert [(m.view, m.rows_written, m.incremental) for m in first] == [("orders", 2, False)]
    wanted = ["orders:total_orders", "orders:spend", "derived:spend_per_order"]
    at = T0 + timedelta(hours=2)
    assert fs.get_online_features(applied, {"customer_id": 1}, wanted, now=at) == {
        "total_orders": 2,
        "spend": 30.0,
        "spend_per_order": 15.0,
    }
    assert (
        fs.get_online_features(applied, {"customer_id": 1}, wanted, now=at + timedelta(hours=1))["spend"]
        == 30.0
    )
    expired = fs.get_online_features(
        applied, {"customer_id": 1}, wanted, now=at + timedelta(hours=1, seconds=1)
    )
    assert expired == {"total_orders": None, "spend": None, "spend_per_order": None}
    assert fs.get_online_features(applied, {"customer_id": 9}, ["orders:spend"], now=at) == {"spend": None}


def test_materialize_is_incremental_and_never_goes_past_end(applied: duckdb.DuckDBPyConnection) -> None:
    resolver = make_resolver(applied)
    fs.materialize(applied, resolver, T0 + timedelta(hours=2))
    (second,) = fs.materialize(applied, resolver, T0 + timedelta(hours=4))
    assert (second.rows_written, second.incremental) == (1, True)
    lookup = fs.prepare_online_lookup(applied, ["orders:total_orders"])
    assert lookup.get(applied, {"customer_id": 1}, now=T0 + timedelta(hours=4)) == {"total_orders": 4}
    (rebuilt,) = fs.materialize(applied, resolver, T0 + timedelta(minutes=30))
    assert not rebuilt.incremental
    assert lookup.get(applied, {"customer_id": 1}, now=T0 + timedelta(hours=1)) == {"total_orders": 1}
    assert lookup.get(applied, {"customer_id": 2}, now=T0 + timedelta(hours=1)) == {"total_orders": None}


def test_materialize_rebuilds_from_a_new_dataset_version(applied: duckdb.DuckDBPyConnection) -> None:
    resolver = make_resolver(applied)
    fs.materialize(applied, resolver, T0 + timedelta(hours=4))
    store_table(
        applied,
        "activity@v2",
        pd.DataFrame({"customer_id": [5], "ts": [T0], "total_orders": [50], "spend": [5.0]}),
    )
    (result,) = fs.materialize(applied, resolver, T0 + timedelta(hours=1))
    assert (result.relation, result.incremental) == ('data."activity@v2"', False)
    now = T0 + timedelta(hours=1)
    assert fs.get_online_features(applied, {"customer_id": 1}, ["orders:spend"], now=now) == {"spend": None}
    assert fs.get_online_features(applied, {"customer_id": 5}, ["orders:spend"], now=now) == {"spend": 5.0}


# Bad input: one line naming the file, the item and what was expected


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'ttl = "2h"',
            'tll = "2h"',
            "features.toml: feature_view 'orders': unknown key 'tll'; expected one of",
        ),
        (
            'ttl = "2h"',
            'ttl = "2 hours"',
            "feature_view 'orders': ttl '2 hours': expected a duration such as '30d'",
        ),
        ('source = "activity"', 'source = "nope"', "feature_view 'orders': source 'nope' is not a dataset"),
        (
            "spend = ",
            "spent = ",
            "feature_view 'orders': feature 'spent' is not a column of dataset 'activity'",
        ),
        (
            'timestamp_column = "ts"\nttl',
            'timestamp_column = "when"\nttl',
            "column 'when' is not in dataset 'activity'",
        ),
        (
            'total_orders = "int64"',
            'total_orders = "int"',
            "feature 'total_orders' has type 'int'; expected one of",
        ),
        ('spend = "float64"', 'spend = "string"', "feature 'spend' is declared string; column: DOUBLE"),
        (
            'entities = ["customer"]\nsource = "activity"',
            'entities = ["shop"]\nsource = "activity"',
            "unknown entity",
        ),
        (
            '"orders:spend"]',
            '"orders:spent"]',
            "on_demand_view 'derived': source 'orders:spent': feature view 'orders'",
        ),
        ("derived.py:per_order", "derived.py:missing", "on_demand_view 'derived': function file"),
        ("derived.py:per_order", "gone.py:per_order", "on_demand_view 'derived': function file"),
        ('name = "profile"', 'name = "orders"', "view 'orders': the name is used twice"),
        ("online = true", 'online = "yes"', "online = 'yes': expected true or false"),
        ("[[entity]]", "[[entity]\n", "features.toml: cannot read feature definitions"),
    ],
)
def test_bad_definitions_are_one_line_errors(
    db: duckdb.DuckDBPyConnection, definitions_file: Path, old: str, new: str, message: str
) -> None:
    assert old in DEFINITIONS
    definitions_file.write_text(DEFINITIONS.replace(old, new, 1))
    with pytest.raises(InvalidInput) as raised:
        fs.load_definitions(definitions_file, db, make_resolver(db))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert fs.list_views(db) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (pd.DataFrame({"customer_id": [1]}), "entity rows: no column 'event_timestamp'"),
        (
            pd.DataFrame({"customer_id": [1], "event_timestamp": ["2026-01-01"]}),
            "is VARCHAR; expected a timestamp",
        ),
        (pd.DataFrame({"event_timestamp": [T0]}), "entity rows: no join key column 'customer_id'"),
        (entity_rows((1, T0)).assign(spend=1.0), "column 'spend' clashes with a requested feature"),
        (
            pd.DataFrame({"customer_id": [1, 2], "event_timestamp": [T0, None]}),
            "1 rows have a null 'event_timestamp'",
        ),
    ],
)
def test_bad_entity_rows_are_one_line_errors(
    applied: duckdb.DuckDBPyConnection, rows: pd.DataFrame, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        fs.get_historical_features(applied, make_resolver(applied), rows, ["orders:spend"])


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        (["orders"], "expected 'view:feature'"),
        (["ledger:spend"], "feature view 'ledger' is not applied; expected one of orders, profile, derived"),
        (["orders:refunds"], "view 'orders' has no such feature; expected one of total_orders, spend"),
        ("orders:spend", "expected a non-empty list"),
    ],
)
def test_bad_feature_references_are_one_line_errors(
    applied: duckdb.DuckDBPyConnection, refs: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        fs.get_historical_features(applied, make_resolver(applied), entity_rows((1, T0)), refs)


def test_online_lookup_errors(applied: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InvalidInput, match="has no online values yet; materialize it first"):
        fs.get_online_features(applied, {"customer_id": 1}, ["orders:spend"])
    with pytest.raises(InvalidInput, match="feature view 'profile' is not online"):
        fs.get_online_features(applied, {"customer_id": 1}, ["profile:country"])
    fs.materialize(applied, make_resolver(applied), T0)
    with pytest.raises(InvalidInput, match="no join key 'customer_id'"):
        fs.get_online_features(applied, {"id": 1}, ["orders:spend"])
