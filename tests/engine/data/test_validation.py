"""Validation against suites: the SQL pushdown must give Great Expectations' own answers.

Every pushed-down case runs twice on the same DuckDB table, once in SQL and once forced
through GX (``pushdown=()``), and the two results must agree field by field. GX takes seconds
to import, so it is imported once per module (the ``gx`` fixture) and shared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import duckdb
import pytest

from engine.data.suites import check_columns, infer_suite, parse_suite
from engine.data.validation import validate
from engine.errors import InvalidInput
from engine.types.data import ExpectationResult, Suite, ValidationReport

SAMPLE = Path(__file__).resolve().parents[3] / "sample_data"
REFERENCE = 'data."churn@v1"'
WEEK_2 = 'data."churn@v2"'
EDGE = 'data."edge@v1"'
EMPTY = 'data."edge@empty"'

EDGE_ROWS = """
    (1, 0.5, 'a', NULL), (2, 1.0, 'b', NULL), (2, 'NaN', NULL, NULL), (3, NULL, 'c', NULL),
    (NULL, 2.0, 'a', NULL), (NULL, 3.0, 'z', NULL), (4, 10.0, NULL, NULL), (4, -1.0, 'b', NULL),
    (4, 1.0, 'a', NULL), (5, 5.0, 'd', NULL)
"""
"""Ten rows: ``id`` has 2 nulls and duplicates (2 twice, 4 three times); ``x`` has a NULL and a
NaN (both missing to pandas) and 1.0 twice; ``s`` has 2 nulls; ``blank`` is all null."""


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA data")
    for relation, csv in ((REFERENCE, "churn_reference.csv"), (WEEK_2, "churn_week_2.csv")):
        connection.execute(f"CREATE TABLE {relation} AS SELECT * FROM read_csv('{SAMPLE / csv}')")
    connection.execute(f"CREATE TABLE {EDGE} (id INTEGER, x DOUBLE, s VARCHAR, blank INTEGER)")
    connection.execute(f"INSERT INTO {EDGE} VALUES {EDGE_ROWS}")
    connection.execute(f"CREATE TABLE {EMPTY} AS SELECT * FROM {EDGE} LIMIT 0")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def gx() -> ModuleType:
    import great_expectations

    return great_expectations


@pytest.fixture(scope="module")
def sample_suite() -> Suite:
    return parse_suite((SAMPLE / "churn_suite.json").read_text())


def single(kind: str, **kwargs: Any) -> Suite:
    return parse_suite({"name": "case", "expectations": [{"type": kind, "kwargs": kwargs}]})


def compared(result: ExpectationResult) -> dict[str, Any]:
    fields = ("success", "observed_value", "element_count", "unexpected_count", "unexpected_percent")
    return {field: getattr(result, field) for field in fields} | {"examples": result.partial_unexpected}


def both_paths(
    connection: duckdb.DuckDBPyConnection, relation: str, suite: Suite
) -> tuple[ValidationReport, ValidationReport]:
    return validate(connection.cursor(), relation, suite), validate(
        connection.cursor(), relation, suite, pushdown=()
    )


NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_column_values_to_be_unique"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
ROW_COUNT = "expect_table_row_count_to_be_between"

PUSHED_CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # relation, type, kwargs, the success GX gives (so a case that passes vacuously is seen as such)
    (EDGE, NOT_NULL, {"column": "id"}, False),
    (EDGE, NOT_NULL, {"column": "x"}, False),
    (EDGE, NOT_NULL, {"column": "blank"}, False),
    (EDGE, NOT_NULL, {"column": "id", "mostly": 0.8}, True),
    (EDGE, NOT_NULL, {"column": "id", "mostly": 0.81}, False),
    (EDGE, UNIQUE, {"column": "id"}, False),
    (EDGE, UNIQUE, {"column": "x"}, False),
    (EDGE, UNIQUE, {"column": "s", "mostly": 0.375}, True),
    (EDGE, UNIQUE, {"column": "s", "mostly": 0.38}, False),
    (EDGE, UNIQUE, {"column": "blank"}, True),
    (EDGE, BETWEEN, {"column": "x", "min_value": 0, "max_value": 5}, False),
    (EDGE, BETWEEN, {"column": "x", "min_value": 0, "max_value": 5, "mostly": 0.75}, True),
    (EDGE, BETWEEN, {"column": "x", "min_value": 0, "max_value": 5, "mostly": 0.76}, False),
    (EDGE, BETWEEN, {"column": "x", "min_value": 0.5, "max_value": 10, "strict_min": True}, False),
    (EDGE, BETWEEN, {"column": "x", "min_value": -1, "max_value": 10, "strict_max": True}, False),
    (EDGE, BETWEEN, {"column": "x", "min_value": -1, "max_value": 10}, True),
    (EDGE, BETWEEN, {"column": "id", "min_value": 3}, False),
    (EDGE, BETWEEN, {"column": "id", "max_value": 4, "strict_max": True}, False),
    (EDGE, BETWEEN, {"column": "blank", "min_value": 0, "max_value": 1}, True),
    (EDGE, IN_SET, {"column": "s", "value_set": ["a", "b", "c", "d"]}, False),
    (EDGE, IN_SET, {"column": "s", "value_set": ["a", "b", "c", "d"], "mostly": 0.875}, True),
    (EDGE, IN_SET, {"column": "s", "value_set": []}, False),
    (EDGE, IN_SET, {"column": "id", "value_set": [1, 2, 3]}, False),
    (EDGE, ROW_COUNT, {"min_value": 10, "max_value": 10}, True),
    (EDGE, ROW_COUNT, {"min_value": 10, "strict_min": True}, False),
    (EDGE, ROW_COUNT, {"max_value": 10, "strict_max": True}, False),
    (EMPTY, NOT_NULL, {"column": "id"}, True),
    (EMPTY, BETWEEN, {"column": "x", "min_value": 0, "max_value": 1}, True),
    (EMPTY, UNIQUE, {"column": "id"}, True),
    (EMPTY, ROW_COUNT, {"min_value": 1}, False),
    (WEEK_2, NOT_NULL, {"column": "customer_id"}, False),
    (WEEK_2, UNIQUE, {"column": "customer_id"}, True),
    (WEEK_2, UNIQUE, {"column": "age"}, False),
    (WEEK_2, BETWEEN, {"column": "age", "min_value": 18, "max_value": 100}, False),
    (WEEK_2, IN_SET, {"column": "country", "value_set": ["US", "CA", "DE"]}, False),
]


@pytest.mark.parametrize(("relation", "kind", "kwargs", "success"), PUSHED_CASES)
def test_sql_pushdown_gives_the_same_result_as_gx(
    connection: duckdb.DuckDBPyConnection,
    gx: ModuleType,
    relation: str,
    kind: str,
    kwargs: dict[str, Any],
    success: bool,
) -> None:
    sql, via_gx = both_paths(connection, relation, single(kind, **kwargs))
    assert [r.path for r in sql.results + via_gx.results] == ["sql", "gx"]
    assert compared(sql.results[0]) == compared(via_gx.results[0])
    assert sql.success is success


def test_gx_semantics_the_pushdown_reproduces(connection: duckdb.DuckDBPyConnection) -> None:
    """The numbers themselves, worked out by hand from EDGE_ROWS, for the rules that matter."""
    suite = parse_suite(
        {
            "name": "rules",
            "expectations": [
                {"type": NOT_NULL, "kwargs": {"column": "x"}},
                {"type": UNIQUE, "kwargs": {"column": "id"}},
                {"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_value": 5}},
                {"type": ROW_COUNT, "kwargs": {"min_value": 1}},
            ],
        }
    )
    not_null, unique, between, row_count = validate(connection.cursor(), EDGE, suite).results
    # Not-null counts NULL and NaN as missing and divides by every row.
    assert (not_null.element_count, not_null.unexpected_count, not_null.unexpected_percent) == (10, 2, 20.0)
    # Unique: nulls are left out of the denominator, and every row of a duplicated value is unexpected.
    assert (unique.unexpected_count, unique.unexpected_percent) == (5, 62.5)
    assert unique.partial_unexpected == (2, 2, 4, 4, 4)
    # Between: missing values are neither expected nor unexpected; examples come in row order.
    assert (between.unexpected_count, between.unexpected_percent) == (2, 25.0)
    assert between.partial_unexpected == (10.0, -1.0)
    # Row count: the count is the observed value, and there are no per-row figures.
    assert (row_count.observed_value, row_count.element_count) == (10, None)


def test_sample_suite_passes_the_reference_on_both_paths(
    connection: duckdb.DuckDBPyConnection, gx: ModuleType, sample_suite: Suite
) -> None:
    sql, via_gx = both_paths(connection, REFERENCE, sample_suite)
    assert sql.success and via_gx.success
    assert [compared(r) for r in sql.results] == [compared(r) for r in via_gx.results]


def test_sample_suite_fails_week_2_on_exactly_customer_id_not_null_and_age_range(
    connection: duckdb.DuckDBPyConnection, gx: ModuleType, sample_suite: Suite
) -> None:
    sql, via_gx = both_paths(connection, WEEK_2, sample_suite)
    for report in (sql, via_gx):
        failed = [
            (r.type, r.kwargs.get("column"), r.unexpected_count) for r in report.results if not r.success
        ]
        assert failed == [(NOT_NULL, "customer_id", 75), (BETWEEN, "age", 50)]
    assert [compared(r) for r in sql.results] == [compared(r) for r in via_gx.results]


def test_pushed_expectations_run_as_one_query_and_gx_reads_only_the_columns_it_needs(
    connection: duckdb.DuckDBPyConnection, gx: ModuleType, sample_suite: Suite
) -> None:
    document = sample_suite.to_json()
    document["expectations"].append({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "age"}})
    recorder = StatementRecorder(connection.cursor())
    report = validate(cast(duckdb.DuckDBPyConnection, recorder), WEEK_2, parse_suite(document))
    scans = [sql for sql in recorder.statements if not sql.startswith("DESCRIBE")]
    assert len(scans) == 2
    assert scans[1] == f'SELECT "age" FROM {WEEK_2}'
    assert [r.path for r in report.results] == ["sql"] * 7 + ["gx"]


def test_results_keep_the_suite_order_across_paths_even_when_gx_fails_an_expectation(
    connection: duckdb.DuckDBPyConnection, gx: ModuleType
) -> None:
    suite = parse_suite(
        {
            "name": "mixed",
            "expectations": [
                {"type": NOT_NULL, "kwargs": {"column": "id"}},
                {"type": "expect_column_max_to_be_between", "kwargs": {"column": "x", "max_value": 100}},
                {"type": BETWEEN, "kwargs": {"column": "s", "min_value": 1}},
                {"type": ROW_COUNT, "kwargs": {"min_value": 1}},
            ],
        }
    )
    results = validate(connection.cursor(), EDGE, suite).results
    assert [(r.type, r.path) for r in results] == [
        (NOT_NULL, "sql"),
        ("expect_column_max_to_be_between", "gx"),
        (BETWEEN, "gx"),
        (ROW_COUNT, "sql"),
    ]
    assert results[1].success and results[1].observed_value == 10.0
    assert not results[2].success
    assert results[2].error is not None and "\n" not in results[2].error


def test_report_to_dict_is_json(connection: duckdb.DuckDBPyConnection, sample_suite: Suite) -> None:
    data = json.loads(json.dumps(validate(connection.cursor(), WEEK_2, sample_suite).to_dict()))
    assert data["success"] is False
    assert data["results"][1]["partial_unexpected"] == [None] * 5
    assert data["results"][3]["kwargs"] == {"column": "age", "min_value": 18.0, "max_value": 100.0}


def test_suite_keeps_its_json_and_round_trips_with_gx(gx: ModuleType, sample_suite: Suite) -> None:
    original = json.loads((SAMPLE / "churn_suite.json").read_text())
    assert sample_suite.to_json() == original
    rebuilt = gx.ExpectationSuite(**sample_suite.to_json()).to_json_dict()
    assert [(e["type"], e["kwargs"]) for e in rebuilt["expectations"]] == [
        (e["type"], e["kwargs"]) for e in original["expectations"]
    ]


@pytest.mark.parametrize("relation", [REFERENCE, WEEK_2, EDGE])
def test_inferred_suite_passes_its_own_data_on_both_paths_and_loads_in_gx(
    connection: duckdb.DuckDBPyConnection, gx: ModuleType, relation: str
) -> None:
    document = infer_suite(connection.cursor(), relation, "inferred")
    assert gx.ExpectationSuite(**document).name == "inferred"
    sql, via_gx = both_paths(connection, relation, parse_suite(json.dumps(document)))
    assert sql.success and via_gx.success
    assert [compared(r) for r in sql.results] == [compared(r) for r in via_gx.results]


def test_inferred_suite_proposes_what_the_data_shows(connection: duckdb.DuckDBPyConnection) -> None:
    proposed = {
        (e["type"], e["kwargs"].get("column")): e["kwargs"]
        for e in infer_suite(connection.cursor(), WEEK_2, "week 2")["expectations"]
    }
    assert proposed[(ROW_COUNT, None)] == {"min_value": 2500, "max_value": 10000}
    assert (NOT_NULL, "customer_id") not in proposed
    assert (UNIQUE, "customer_id") in proposed
    assert (NOT_NULL, "age") in proposed and (UNIQUE, "age") not in proposed
    assert proposed[(BETWEEN, "age")] == {"column": "age", "min_value": -1, "max_value": 212}
    assert proposed[(IN_SET, "gender")]["value_set"] == ["female", "male", "non_binary"]
    assert (IN_SET, "event_timestamp") not in proposed
    edge = {
        (e["type"], e["kwargs"].get("column")): e["kwargs"]
        for e in infer_suite(connection.cursor(), EDGE, "e")["expectations"]
    }
    assert edge[(BETWEEN, "x")] == {"column": "x", "min_value": -1.0, "max_value": 10.0}


BAD_SUITES: list[tuple[Any, str]] = [
    ("{not json", "suite is not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ({"expectations": []}, "suite name is None"),
    ({"name": "s", "expectations": {}}, "expectations is {}; expected a list"),
    ({"name": "s", "expectations": [{"kwargs": {}}]}, "expectation 1: type is None"),
    (
        {"name": "s", "expectations": [{"type": "expect_column_values_to_not_be_nul"}]},
        f"did you mean {NOT_NULL}",
    ),
    ({"name": "s", "expectations": [{"type": "expect_nothing_at_all"}]}, "unknown expectation type"),
    ({"name": "s", "expectations": [{"type": NOT_NULL, "kwargs": {}}]}, "kwarg 'column' is None"),
    ({"name": "s", "expectations": [{"type": NOT_NULL, "kwargs": []}]}, "kwargs is []; expected an object"),
    ({"name": "s", "expectations": [{"type": BETWEEN, "kwargs": {"column": "a"}}]}, "both missing"),
    (
        {
            "name": "s",
            "expectations": [{"type": BETWEEN, "kwargs": {"column": "a", "min_value": 5, "max_value": 1}}],
        },
        "min_value 5 is above max_value 1",
    ),
    (
        {"name": "s", "expectations": [{"type": UNIQUE, "kwargs": {"column": "a", "mostly": 1.5}}]},
        "'mostly' is 1.5",
    ),
    (
        {"name": "s", "expectations": [{"type": IN_SET, "kwargs": {"column": "a", "value_set": "ab"}}]},
        "value_set",
    ),
    (
        {"name": "s", "expectations": [{"type": ROW_COUNT, "kwargs": {"min_value": "many"}}]},
        "'min_value' is 'many'",
    ),
    (
        {
            "name": "s",
            "expectations": [{"type": "expect_column_mean_to_be_between", "kwargs": {"min_value": 1}}],
        },
        "expectation 1 (expect_column_mean_to_be_between): kwarg 'column': field required",
    ),
]


@pytest.mark.parametrize(("document", "message"), BAD_SUITES)
def test_a_bad_suite_is_refused_with_one_line_naming_the_fault(
    gx: ModuleType, document: Any, message: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_suite(document)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_column_the_data_lacks_is_named_with_the_expectation_using_it(
    connection: duckdb.DuckDBPyConnection, sample_suite: Suite
) -> None:
    with pytest.raises(
        InvalidInput, match=r"column 'customer_id' used by expectation 2 \(expect_column_values_to_not"
    ):
        check_columns(sample_suite, ["age", "country"])
    with pytest.raises(InvalidInput, match="column 'customer_id' used by expectation 2"):
        validate(connection.cursor(), EDGE, sample_suite)


class StatementRecorder:
    """Stands in for a DuckDB cursor and keeps every statement, to see how validation queries."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self.statements: list[str] = []

    def execute(self, statement: str, *args: Any) -> duckdb.DuckDBPyConnection:
        self.statements.append(statement)
        return self.cursor.execute(statement, *args)
