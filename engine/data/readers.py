"""Turning a user's file into a DuckDB source, with the file's problems told in one line.

DuckDB reads CSV and Parquet itself, streaming, so a multi-GB file never sits in memory.
What DuckDB would tolerate silently (duplicate header names renamed ``a_1``, an empty header
cell named ``column0``, a header cell that is a null token too) or report in a twelve-line
message (a value that does not fit its sniffed type) is checked here and said plainly, with
the fix. Text files are read with missing-value tokens as nulls (``engine.data.null_tokens``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.data.null_tokens import PANDAS_NULL_TOKENS, check_tokens
from engine.errors import InvalidInput
from engine.identifiers import quote, string_literal

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
# How ``sniff_csv`` says a dialect has no quote, escape or comment character.
SNIFFED_NONE = "(empty)"


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


def null_tokens_for(path: Path, tokens: Sequence[str] | None) -> tuple[str, ...]:
    """What ``path``'s reader takes for null: for a text file, ``tokens`` once checked
    (``None``: pandas' list); for Parquet nothing, as it stores real nulls, so tokens named
    for it are a mistake worth saying."""
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        return check_tokens(tokens)
    if tokens is not None:
        raise InvalidInput(
            f"--null-token applies to text files (.csv, .tsv, .txt); {path.name} is Parquet, whose "
            "missing values are stored as nulls; expected no --null-token"
        )
    return ()


def source_sql(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    overrides: dict[str, str],
    null_tokens: Sequence[str] = PANDAS_NULL_TOKENS,
) -> str:
    """The SQL table expression reading ``path``, after checking its header and overrides; a
    text file's ``null_tokens`` are read as nulls."""
    check_file(path)
    literal = _literal(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        header = [
            row[0] for row in cursor.execute(f"DESCRIBE SELECT * FROM read_parquet({literal})").fetchall()
        ]
        source = f"read_parquet({literal})"
    else:
        header = _csv_header(path)
        source = f"read_csv({_csv_arguments(cursor, path, header, overrides, null_tokens)})"
    _check_header(path, header)
    unknown = [column for column in overrides if column not in header]
    if unknown:
        raise InvalidInput(
            f"--schema names column {unknown[0]!r}, which {path} does not have; it has {', '.join(header)}"
        )
    if overrides and path.suffix.lower() in PARQUET_SUFFIXES:
        check_types(cursor, overrides)
        casts = ", ".join(
            f"CAST({quote(column)} AS {overrides[column]}) AS {quote(column)}"
            if column in overrides
            else quote(column)
            for column in header
        )
        source = f"(SELECT {casts} FROM {source})"
    return source


def text_sql(
    cursor: duckdb.DuckDBPyConnection, path: Path, overrides: dict[str, str], null_tokens: Sequence[str]
) -> str:
    """The text file ``path`` as ``source_sql`` reads it, but every column VARCHAR and only the
    empty field null: where the tokens can be counted.

    DuckDB sniffs the dialect (delimiter, quote, escape...) for every read, and the types and
    null tokens take part in choosing it: read plainly as text, ``a|b<TAB>c`` can split at the
    tab where the typed read split at ``|``. So the dialect is sniffed with ``source_sql``'s
    arguments and pinned here.
    """
    arguments = _csv_arguments(cursor, path, _csv_header(path), overrides, null_tokens)
    sniffed = cursor.execute(
        f"SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows FROM sniff_csv({arguments})"
    ).fetchone()
    assert sniffed is not None
    *characters, skip = sniffed
    dialect = ", ".join(
        f"{option} = {_string('' if value == SNIFFED_NONE else value)}"
        for option, value in zip(("delim", "quote", "escape", "new_line", "comment"), characters, strict=True)
    )
    return f"read_csv({_literal(path)}, header = true, all_varchar = true, {dialect}, skip = {int(skip)})"


def explain_read_error(path: Path, error: Exception) -> InvalidInput:
    """A one-line version of DuckDB's error for a value that does not fit its column's type."""
    match = CONVERSION_ERROR.search(str(error))
    if match:
        column, kind = match.group("column"), match.group("type")
        return InvalidInput(
            f"{path} line {match.group('line')}: column {column!r} holds {match.group('value')!r}, "
            f"which is not a {kind} like the rows before it; "
            f"pass --schema {column}=VARCHAR (or the type it should be), "
            "or list it with --null-token if it marks a missing value"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InvalidInput(f"cannot read {path}: {first_line}")


def _csv_arguments(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    header: list[str],
    overrides: dict[str, str],
    null_tokens: Sequence[str],
) -> str:
    """``read_csv``'s arguments. DuckDB applies ``nullstr`` to the header line too (a column
    named ``NA`` would become ``column0``), so such a header's names are given explicitly."""
    names = f", names = {_string_list(header)}" if set(header) & set(null_tokens) else ""
    return (
        f"{_literal(path)}, header = true, nullstr = {_string_list(null_tokens)}{names}"
        f"{_types_argument(cursor, overrides)}"
    )


def _literal(path: Path) -> str:
    return _string(str(path))


def _string(text: str) -> str:
    return string_literal(text)


def _string_list(texts: Sequence[str]) -> str:
    return "[" + ", ".join(_string(text) for text in texts) + "]"


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
    check_types(cursor, overrides)
    if not overrides:
        return ""
    entries = ", ".join(f"{_string(column)}: {_string(kind)}" for column, kind in overrides.items())
    return f", types = {{{entries}}}"


def check_types(cursor: duckdb.DuckDBPyConnection, overrides: dict[str, str]) -> None:
    """Each ``--schema`` type is a DuckDB type name, whatever the file's format: a type is
    pasted into SQL (CSV's ``types`` argument, Parquet's casts), so only a name of letters,
    digits and an optional (precision, scale) that DuckDB accepts gets there."""
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
