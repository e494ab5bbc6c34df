"""Validation suites in Great Expectations 1.x's own JSON form: reading them and proposing them.

Suites are stored exactly as GX writes them (``ExpectationSuite.to_json_dict()``) so a user can
take one to GX and back unchanged; ``Suite.document`` keeps that JSON as it came. Parsing
checks the expectation types the engine runs itself without importing GX (it takes seconds);
GX's registry is consulted only for the other types, and only when a suite uses one.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from importlib import metadata
from numbers import Real
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.identifiers import quote
from engine.types.data import Expectation, Suite

if TYPE_CHECKING:
    import duckdb

ROW_COUNT = "expect_table_row_count_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
CHECKED_HERE = frozenset({ROW_COUNT, NOT_NULL, BETWEEN, IN_SET, UNIQUE})
"""The types whose kwargs this module checks itself, so the common suites never wait on GX."""

INFERRED_MAX_SET_SIZE = 20
"""A text column with more distinct values than this looks like free text, not a category."""

ColumnStats = tuple[int, int, int | float | None, int | float | None]
"""A column's non-missing count, distinct count, minimum and maximum (numbers only)."""

INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})


def parse_suite(document: Mapping[str, Any] | str) -> Suite:
    """Read a GX 1.x suite (JSON text or its parsed dict); ``InvalidInput`` names the first fault."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"suite is not JSON ({error}); expected a Great Expectations suite") from None
    if not isinstance(document, Mapping):
        raise InvalidInput(
            f"suite is a {type(document).__name__}; expected a JSON object with name and expectations"
        )
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"suite name is {name!r}; expected a non-empty string")
    listed = document.get("expectations")
    if not isinstance(listed, list):
        raise InvalidInput(f"suite {name!r}: expectations is {listed!r}; expected a list")
    expectations = tuple(_parse_expectation(index, item) for index, item in enumerate(listed))
    for expectation in expectations:
        _check_kwargs(expectation)
    return Suite(name=name, expectations=expectations, document=copy.deepcopy(dict(document)))


def check_columns(suite: Suite, columns: Sequence[str]) -> None:
    """Fail before validating when the data lacks a column the suite reads, naming who reads it."""
    present = set(columns)
    for expectation in suite.expectations:
        for column in expectation.columns:
            if column not in present:
                raise InvalidInput(
                    f"column {column!r} used by {expectation.label} is not in the data; "
                    f"expected one of: {', '.join(columns)}"
                )


def describe(cursor: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name to DuckDB type, read from the plan alone (no scan of the data)."""
    rows = cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def infer_suite(cursor: duckdb.DuckDBPyConnection, relation: str, name: str) -> dict[str, Any]:
    """Propose a GX 1.x suite that the data passes today (GX 1.x dropped its profilers).

    The proposal is deliberately tight (observed ranges, observed categories) so that the
    next batch that differs is flagged; the user loosens what turns out to be natural change.
    """
    types = describe(cursor, relation)
    rows, stats = _column_stats(cursor, relation, types)
    categories = _categories(cursor, relation, [c for c in types if _is_category(types[c], stats[c])])
    expectations = [
        _expectation(ROW_COUNT, min_value=rows // 2, max_value=max(rows * 2, 1)),
    ]
    for column, kind in types.items():
        present, distinct, low, high = stats[column]
        if rows and present == rows:
            expectations.append(_expectation(NOT_NULL, column=column))
        if present and distinct == present:
            expectations.append(_expectation(UNIQUE, column=column))
        if is_numeric_type(kind) and low is not None and high is not None:
            expectations.append(_expectation(BETWEEN, column=column, min_value=low, max_value=high))
        if column in categories:
            expectations.append(_expectation(IN_SET, column=column, value_set=categories[column]))
    return {
        "name": name,
        "id": None,
        "expectations": expectations,
        "meta": {"great_expectations_version": metadata.version("great_expectations")},
        "notes": f"Inferred by mlops-console from {relation}.",
    }


def _parse_expectation(index: int, item: object) -> Expectation:
    where = f"expectation {index + 1}"
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where} is {item!r}; expected an object with type and kwargs")
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput(f"{where}: type is {kind!r}; expected a GX expectation type such as {NOT_NULL}")
    kwargs = item.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise InvalidInput(f"{where} ({kind}): kwargs is {kwargs!r}; expected an object")
    return Expectation(index=index, type=kind, kwargs=dict(kwargs))


def _check_kwargs(expectation: Expectation) -> None:
    if expectation.type not in CHECKED_HERE:
        _check_with_gx(expectation)
        return
    kwargs = expectation.kwargs
    if expectation.type != ROW_COUNT:
        column = kwargs.get("column")
        if not isinstance(column, str) or not column:
            raise InvalidInput(f"{expectation.label}: kwarg 'column' is {column!r}; expected a column name")
    mostly = kwargs.get("mostly", 1)
    if not _is_parameter(mostly) and not _is_fraction(mostly):
        raise InvalidInput(
            f"{expectation.label}: kwarg 'mostly' is {mostly!r}; expected a number from 0 to 1"
        )
    if expectation.type == BETWEEN:
        _check_bounds(expectation, required=True)
    elif expectation.type == ROW_COUNT:
        _check_bounds(expectation, required=False)
    elif expectation.type == IN_SET:
        value_set = kwargs.get("value_set")
        if not isinstance(value_set, list) and not _is_parameter(value_set):
            raise InvalidInput(f"{expectation.label}: kwarg 'value_set' is {value_set!r}; expected a list")


def _check_bounds(expectation: Expectation, *, required: bool) -> None:
    low, high = expectation.kwargs.get("min_value"), expectation.kwargs.get("max_value")
    for key, value in (("min_value", low), ("max_value", high)):
        if not required and value is not None and not is_number(value) and not _is_parameter(value):
            raise InvalidInput(f"{expectation.label}: kwarg {key!r} is {value!r}; expected a number or null")
    if required and low is None and high is None:
        raise InvalidInput(
            f"{expectation.label}: min_value and max_value are both missing; expected at least one"
        )
    if is_number(low) and is_number(high) and low > high:  # type: ignore[operator]
        raise InvalidInput(f"{expectation.label}: min_value {low!r} is above max_value {high!r}")
    for key in ("strict_min", "strict_max"):
        if not isinstance(expectation.kwargs.get(key, False), bool):
            raise InvalidInput(
                f"{expectation.label}: kwarg {key!r} is {expectation.kwargs[key]!r}; expected true/false"
            )


def _check_with_gx(expectation: Expectation) -> None:
    """Ask GX's registry and its pydantic model, the only authority on the types not checked here."""
    import great_expectations  # noqa: F401 (importing it registers every expectation type)
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    try:
        implementation = get_expectation_impl(expectation.type)
    except ExpectationNotFoundError:
        close = difflib.get_close_matches(
            expectation.type, list_registered_expectation_implementations(), n=1
        )
        hint = f"did you mean {close[0]}?" if close else "expected a Great Expectations 1.x expectation type"
        raise InvalidInput(f"{expectation.label}: unknown expectation type; {hint}") from None
    try:
        implementation(**expectation.kwargs)
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"{expectation.label}: {_one_line(error)}") from None


def _one_line(error: Exception) -> str:
    """Pydantic lists every alternative it tried per field; the first one per field is enough."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error).splitlines()[0]
    first: dict[str, str] = {}
    for entry in errors():
        field = ".".join(str(part) for part in entry["loc"])
        first.setdefault(field, entry["msg"])
    return "; ".join(
        msg if field == "__root__" else f"kwarg {field!r}: {msg}" for field, msg in first.items()
    )


def _is_parameter(value: object) -> bool:
    """GX's ``{"$PARAMETER": name}``: a value supplied at validation time, not checkable here."""
    return isinstance(value, Mapping) and "$PARAMETER" in value


def is_number(value: object) -> bool:
    """A JSON number; ``True`` is an ``int`` to Python but never a bound or a count."""
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_fraction(value: object) -> bool:
    return is_number(value) and 0 <= value <= 1  # type: ignore[operator]


def is_numeric_type(kind: str) -> bool:
    """A DuckDB column type that holds numbers (DECIMAL included)."""
    return kind in INTEGER_TYPES or kind in FLOAT_TYPES or kind.startswith("DECIMAL")


def _is_category(kind: str, stats: ColumnStats) -> bool:
    return kind == "VARCHAR" and 0 < stats[1] <= INFERRED_MAX_SET_SIZE


def _column_stats(
    cursor: duckdb.DuckDBPyConnection, relation: str, types: Mapping[str, str]
) -> tuple[int, dict[str, ColumnStats]]:
    """The row count and per-column stats in one scan; NaN counts as missing, as it does in GX."""
    selected = ["count(*)"]
    for index, (column, kind) in enumerate(types.items()):
        quoted = quote(column)
        present = (
            f"{quoted} IS NOT NULL AND NOT isnan({quoted})"
            if kind in FLOAT_TYPES
            else f"{quoted} IS NOT NULL"
        )
        numeric = is_numeric_type(kind)
        selected += [
            f"count(*) FILTER (WHERE {present}) AS p{index}",
            f"count(DISTINCT {quoted}) FILTER (WHERE {present}) AS d{index}",
            f"min({quoted}) FILTER (WHERE {present})" if numeric else "NULL",
            f"max({quoted}) FILTER (WHERE {present})" if numeric else "NULL",
        ]
    row = cursor.execute(f"SELECT {', '.join(selected)} FROM {relation}").fetchone()
    assert row is not None, "an aggregate without GROUP BY always returns one row"
    stats: dict[str, ColumnStats] = {}
    for index, column in enumerate(types):
        present, distinct, low, high = row[1 + 4 * index : 5 + 4 * index]
        stats[column] = (present, distinct, _json_number(low), _json_number(high))
    return int(row[0]), stats


def _categories(cursor: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> dict[str, list[str]]:
    if not columns:
        return {}
    selected = ", ".join(f"list(DISTINCT {quote(c)} ORDER BY {quote(c)})" for c in columns)
    row = cursor.execute(f"SELECT {selected} FROM {relation}").fetchone()
    assert row is not None, "an aggregate without GROUP BY always returns one row"
    return {
        column: [value for value in values if value is not None]
        for column, values in zip(columns, row, strict=True)
    }


def _json_number(value: object) -> int | float | None:
    """DuckDB hands DECIMAL back as ``Decimal``, which JSON (and so the stored suite) cannot hold."""
    if value is None or isinstance(value, int):
        return value
    return float(value)  # type: ignore[arg-type]


def _expectation(kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {}, "severity": "critical"}
