"""Read-only SQL over the workspace's datasets (``mlops data sql``).

Only SELECT statements run (DuckDB's parser classifies them, so ``WITH``, ``FROM``-first,
``DESCRIBE`` and ``SHOW`` are in, ``CREATE``, ``INSERT``, ``COPY`` and ``PRAGMA`` are out),
inside a transaction that is always rolled back. The ``data`` schema is on the search path,
so ``SELECT * FROM "churn@v2"`` and ``FROM churn`` (the latest version) both work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.db import Database
from engine.errors import InvalidInput
from engine.identifiers import check_limit
from engine.types.data import QueryResult

if TYPE_CHECKING:
    import duckdb


def run_read_only(db: Database, sql: str, limit: int = 1000) -> QueryResult:
    import duckdb

    check_limit(limit)
    with db.cursor() as cursor:
        check_select(cursor, sql)
        cursor.begin()
        try:
            result = cursor.execute(sql)
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(limit + 1)
        except duckdb.Error as error:
            raise InvalidInput(f"query failed: {first_line(error)}") from None
        finally:
            cursor.rollback()
    return QueryResult(columns, rows[:limit], truncated=len(rows) > limit)


def check_select(cursor: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one SELECT, and put the ``data`` schema on the cursor's search path."""
    import duckdb

    try:
        statements = cursor.extract_statements(sql)
    except duckdb.Error as error:
        raise InvalidInput(f"SQL does not parse: {first_line(error)}") from None
    if len(statements) != 1:
        raise InvalidInput(f"expected one SELECT statement, got {len(statements)} statements")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise InvalidInput(
            f"only SELECT queries run here (this is a {statements[0].type.name} statement); "
            "datasets change only through `mlops data ingest`"
        )
    cursor.execute("SET search_path = 'data,main'")


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
