"""The content hash of a dataset version: equal data, equal hash, whatever the file format.

Canonical form (documented in docs/data.md):
- the schema: one ``name:kind`` line per column in order, where ``kind`` folds DuckDB's
  physical types into logical families (every integer width is ``integer``, every float
  ``float``, every timestamp precision ``timestamp``), because CSV sniffing and Parquet
  writers pick different widths for the same values;
- the rows as a multiset: each row is encoded as its values cast to text (timestamps first
  cast to microsecond ``TIMESTAMP``, NULL as ``\\N``) joined by the unit separator, hashed with
  md5, and the row digests are sorted and concatenated. Row order therefore does not matter.
The hash is sha256 over the schema text and the sorted row digests, computed in DuckDB.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

TYPE_FAMILIES = {
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "integer",
    "UBIGINT": "integer",
    "FLOAT": "float",
    "DOUBLE": "float",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "DATE": "date",
}


def type_family(duckdb_type: str) -> str:
    return TYPE_FAMILIES.get(duckdb_type, duckdb_type.lower())


def content_hash(cursor: duckdb.DuckDBPyConnection, relation: str, schema: list[tuple[str, str]]) -> str:
    """sha256 of the canonical form of ``relation`` (whose columns are ``schema``)."""
    schema_text = "\n".join(f"{name}:{type_family(kind)}" for name, kind in schema)
    values = ", ".join(_canonical_text(name, kind) for name, kind in schema)
    row = f"md5(concat_ws(chr(31), {values}))"
    digests = cursor.execute(
        f"SELECT coalesce(string_agg(d, '' ORDER BY d), '') FROM (SELECT {row} AS d FROM {relation})"
    ).fetchone()
    assert digests is not None
    return hashlib.sha256(f"{schema_text}\n\n{digests[0]}".encode()).hexdigest()


def _canonical_text(name: str, kind: str) -> str:
    column = quote(name)
    if type_family(kind) == "timestamp":
        column = f"CAST({column} AS TIMESTAMP)"
    return f"coalesce(CAST({column} AS VARCHAR), '\\N')"


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted so keywords and odd characters are safe."""
    return '"' + identifier.replace('"', '""') + '"'
