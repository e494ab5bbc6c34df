"""Turning a user's file into a DuckDB source, with the file's problems told in one line.

DuckDB reads CSV and Parquet itself, streaming, so a multi-GB file never sits in memory.
What DuckDB would tolerate silently (duplicate header names renamed ``a_1``, an empty header
cell named ``column0``) or report in a twelve-line message (a value that does not fit its
sniffed type) is checked here and said plainly, with the fix.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InvalidInput
from engine.identifiers import quote

if TYPE_CHECKING:
    import duckdb

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?$")
CONVERSION_ERROR = re.compile(
    r"CSV Error on Line: (?P<line>\d+).*?converting column \"(?P<column>[^\"]+)\"\. "
    r"Could not convert string \"(?P<value>[^\"]*)\" to '(?P<type>[^']+)'",
    re.DOTALL,
)


def check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidInput(f"file {path} does not exist")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file; expected a .csv or .parquet file")
    if path.suffix.lower() not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        raise InvalidInput(f"{path} has suffix {path.suffix!r}; expected .csv, .tsv, .txt, .parquet or .pq")
    if path.stat().st_size == 0:
        raise InvalidInput(f"file {path} is empty; expected a header line and rows")


def parse_schema_overrides(text: str | None) -> dict[str, str]:
    """``col=TYPE,col2=TYPE`` as given to ``--schema``."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        column, separator, kind = item.partition("=")
        if not separator or not column.strip() or not kind.strip():
            raise InvalidInput(
                f"--schema item {item!r} is not valid; expected COLUMN=TYPE (e.g. age=INTEGER)"
            )
        overrides[column.strip()] = kind.strip().upper()
    return overrides


def source_sql(cursor: duckdb.DuckDBPyConnection, path: Path, overrides: dict[str, str]) -> str:
    """The SQL table expression reading ``path``, after checking its header and overrides."""
    check_file(path)
    literal = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() in PARQUET_SUFFIXES:
        header = [
            row[0] for row in cursor.execute(f"DESCRIBE SELECT * FROM read_parquet({literal})").fetchall()
        ]
        source = f"read_parquet({literal})"
    else:
        header = _csv_header(path)
        source = f"read_csv({literal}, header = true{_types_argument(cursor, overrides)})"
    _check_header(path, header)
    unknown = [column for column in overrides if column not in header]
    if unknown:
        raise InvalidInput(
            f"--schema names column {unknown[0]!r}, which {path} does not have; it has {', '.join(header)}"
        )
    if overrides and path.suffix.lower() in PARQUET_SUFFIXES:
        casts = ", ".join(
            f"CAST({quote(column)} AS {overrides[column]}) AS {quote(column)}"
            if column in overrides
            else quote(column)
            for column in header
        )
        source = f"(SELECT {casts} FROM {source})"
    return source


def explain_read_error(path: Path, error: Exception) -> InvalidInput:
    """A one-line version of DuckDB's error for a value that does not fit its column's type."""
    match = CONVERSION_ERROR.search(str(error))
    if match:
        column, kind = match.group("column"), match.group("type")
        return InvalidInput(
            f"{path} line {match.group('line')}: column {column!r} holds {match.group('value')!r}, "
            f"which is not a {kind} like the rows before it; "
            f"pass --schema {column}=VARCHAR (or the type it should be)"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InvalidInput(f"cannot read {path}: {first_line}")


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
                handle.read(65536), delimiters=",;\t|"
            )
        except csv.Error:  # one column: no delimiter to find
            dialect = csv.excel
        handle.seek(0)
        return next(csv.reader(handle, dialect), [])


def _check_header(path: Path, header: list[str]) -> None:
    seen: dict[str, str] = {}
    for position, column in enumerate(header, start=1):
        if not column.strip():
            raise InvalidInput(f"{path}: column {position} has no name; expected a name for every column")
        folded = column.lower()  # DuckDB identifiers are case-insensitive
        if folded in seen:
            raise InvalidInput(
                f"{path}: column name {column!r} appears twice (columns {list(seen).index(folded) + 1} "
                f"and {position}); expected unique names"
            )
        seen[folded] = column


def _types_argument(cursor: duckdb.DuckDBPyConnection, overrides: dict[str, str]) -> str:
    for column, kind in overrides.items():
        try:
            if not TYPE_NAME.match(kind):
                raise ValueError(kind)
            cursor.execute(f"SELECT CAST(NULL AS {kind})")
        except Exception:
            raise InvalidInput(
                f"--schema {column}={kind}: {kind!r} is not a DuckDB type; expected e.g. INTEGER, DOUBLE, "
                "VARCHAR, DATE, TIMESTAMP"
            ) from None
    if not overrides:
        return ""
    entries = ", ".join(
        f"'{column.replace(chr(39), chr(39) * 2)}': '{kind}'" for column, kind in overrides.items()
    )
    return f", types = {{{entries}}}"
