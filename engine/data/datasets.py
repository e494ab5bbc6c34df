"""Versioned datasets (the DVC part): immutable, content-hashed versions in the workspace.

A version is ingested in one DuckDB transaction: the file is read into a staging table,
hashed, and either renamed to ``data."<name>@v<N>"`` with its catalogue row, or dropped
because an existing version of the dataset has the same content. A failure anywhere rolls
the whole ingest back, so nothing half-written stays. ``data."<name>"`` is a view of the
latest version.

A text file is read with missing-value tokens (``NA``, ``N/A``, ...) as nulls, and the result
names the columns where tokens became nulls (``engine.data.null_tokens``). The tokens need no
place in a version's identity: they change the stored values and types, and so the content
hash, exactly when they change the data.

Ingests into one dataset take turns (a lock per name): the next version number is read, then
written, so two at once would collide. A dataset that requires a suite gets its new version
committed as ``pending``, which training refuses, and validated right after; a version left
pending by a process that died in between is validated when the workspace next opens.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.data import readers
from engine.data.diff import diff_versions
from engine.data.hashing import content_hash
from engine.data.null_tokens import nulls_from_tokens
from engine.data.profile import profile
from engine.data.query import check_select, first_line, run_read_only
from engine.data.refs import DatasetRef, check_name, latest_view, parse_ref, version_table
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import quote
from engine.progress import watch_query
from engine.types.data import (
    ColumnProfile,
    DatasetSummary,
    DatasetVersion,
    IngestResult,
    NullTokenNote,
    QueryResult,
    ValidationReport,
    VersionDiff,
)
from engine.types.progress import Progress, no_progress

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


Read = Callable[["duckdb.DuckDBPyConnection", str, Progress], None]
# What ingest says about nulls that came from tokens, given the staging table and its columns.
FindNotes = Callable[
    ["duckdb.DuckDBPyConnection", str, list[tuple[str, str]], Progress], tuple[NullTokenNote, ...]
]

VERSION_COLUMNS = (
    "name, version, content_hash, row_count, column_count, schema_json, source_path, parent_version,"
    " created_at, status"
)


class Datasets:
    """The datasets of one workspace."""

    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events
        # Set by the engine: validates a new version against its dataset's required suite.
        self.after_ingest: Callable[[DatasetVersion], ValidationReport | None] = lambda version: None
        self._ingest_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    def ingest(
        self,
        path: str | Path,
        name: str,
        schema: str | None = None,
        progress: Progress | None = None,
        *,
        null_tokens: Sequence[str] | None = None,
    ) -> IngestResult:
        """Read a CSV or Parquet file into a new immutable version of ``name``.

        A text file's ``null_tokens`` (default: pandas' list, ``engine.data.null_tokens``) are
        read as nulls; the given list replaces the default, ``[""]`` keeps only empty fields.
        """
        check_name(name)
        source_path = Path(path).expanduser().resolve()
        overrides = readers.parse_schema_overrides(schema)
        tokens = readers.null_tokens_for(source_path, null_tokens)

        def read(cursor: duckdb.DuckDBPyConnection, staging: str, report: Progress) -> None:
            source = readers.source_sql(cursor, source_path, overrides, tokens)
            try:
                with watch_query(cursor, report, f"reading {source_path.name}", 0.0, 0.7):
                    cursor.execute(f"CREATE TABLE {staging} AS SELECT * FROM {source}")
            except Exception as error:
                raise readers.explain_read_error(source_path, error) from None

        def find_notes(
            cursor: duckdb.DuckDBPyConnection, staging: str, columns: list[tuple[str, str]], report: Progress
        ) -> tuple[NullTokenNote, ...]:
            text = partial(readers.text_sql, cursor, source_path, overrides, tokens)
            return nulls_from_tokens(cursor, staging, columns, tokens, text, report)

        empty = f"{source_path} has a header but no rows; expected at least one row"
        result = self._ingest(read, name, str(source_path), empty, progress or no_progress, find_notes)
        return replace(result, null_tokens=tokens or None)

    def ingest_query(
        self, sql: str, name: str, progress: Progress | None = None, source: str | None = None
    ) -> IngestResult:
        """Store a read-only SELECT's result as a version of ``name`` (same content: same version);
        ``source`` says where the rows came from (by default the query itself)."""
        import duckdb

        check_name(name)
        statement = sql.strip().rstrip(";")

        def read(cursor: duckdb.DuckDBPyConnection, staging: str, report: Progress) -> None:
            check_select(cursor, statement)
            try:
                with watch_query(cursor, report, "running the query", 0.0, 0.8):
                    cursor.execute(f"CREATE TABLE {staging} AS {statement}")
            except duckdb.Error as error:
                raise InvalidInput(f"query failed: {first_line(error)}") from None

        said = source or f"query: {' '.join(statement.split())}"
        empty = "the query returned no rows; expected at least one row"
        return self._ingest(read, name, said, empty, progress or no_progress)

    def ingest_frame(
        self, frame: pd.DataFrame, name: str, source: str, progress: Progress | None = None
    ) -> IngestResult:
        """Store a frame computed in the engine (a feature retrieval) as a version of ``name``."""
        check_name(name)

        def read(cursor: duckdb.DuckDBPyConnection, staging: str, report: Progress) -> None:
            report("storing the frame", 0.4)
            cursor.register("incoming_frame", frame)
            try:
                cursor.execute(f"CREATE TABLE {staging} AS SELECT * FROM incoming_frame")
            finally:
                cursor.unregister("incoming_frame")

        return self._ingest(read, name, source, "the frame has no rows", progress or no_progress)

    def _ingest(
        self,
        read: Read,
        name: str,
        source: str,
        empty: str,
        report: Progress,
        find_notes: FindNotes | None = None,
    ) -> IngestResult:
        """One transaction: ``read`` fills a staging table, which becomes a version or is dropped;
        ``find_notes`` says where its nulls came from tokens."""
        with self._locks_lock:
            lock = self._ingest_locks[name]
        with lock:
            version, created, rows, notes = self._commit_version(
                read, name, source, empty, report, find_notes
            )
        if created:
            self._events.record("data", version.ref, f"ingested {rows:,} rows from {source}")
        validation = None
        if version.status == "pending":
            report(f"validating {version.ref}", 0.97)
            validation = self.after_ingest(version)
            version = self.resolve(version.ref)
        report(f"stored {version.ref}" if created else f"identical to {version.ref}", 1.0)
        return IngestResult(version, created=created, validation=validation, nulls_from_tokens=notes)

    def _commit_version(
        self, read: Read, name: str, source: str, empty: str, report: Progress, find_notes: FindNotes | None
    ) -> tuple[DatasetVersion, bool, int, tuple[NullTokenNote, ...]]:
        """The version holding what ``read`` produced (an existing one if its content is the
        same), whether it is new, its rows, and where its nulls came from tokens."""
        staging = f'data."staging-{uuid.uuid4().hex}"'
        with self._db.transaction() as cursor:
            read(cursor, staging, report)
            columns = _normalised_schema(cursor, staging)
            rows = _count(cursor, staging)
            if rows == 0:
                raise InvalidInput(empty)
            notes = find_notes(cursor, staging, columns, report) if find_notes else ()
            report(f"hashing {rows:,} rows", 0.85)
            digest = content_hash(cursor, staging, columns)
            existing = self._find_by_hash(cursor, name, digest)
            if existing is not None:
                cursor.execute(f"DROP TABLE {staging}")
                return existing, False, rows, notes
            report("storing the version", 0.95)
            version = self._store(cursor, name, staging, digest, rows, columns, source)
        return version, True, rows, notes

    def _store(
        self,
        cursor: duckdb.DuckDBPyConnection,
        name: str,
        staging: str,
        digest: str,
        rows: int,
        columns: list[tuple[str, str]],
        source: str,
    ) -> DatasetVersion:
        cursor.execute("INSERT INTO datasets (name) VALUES (?) ON CONFLICT DO NOTHING", [name])
        latest = cursor.execute("SELECT max(version) FROM dataset_versions WHERE name = ?", [name]).fetchone()
        parent = latest[0] if latest else None
        number = (parent or 0) + 1
        cursor.execute(f"ALTER TABLE {staging} RENAME TO {quote(f'{name}@v{number}')}")
        cursor.execute(
            f"CREATE OR REPLACE VIEW {latest_view(name)} AS SELECT * FROM {version_table(name, number)}"
        )
        required = cursor.execute("SELECT required_suite FROM datasets WHERE name = ?", [name]).fetchone()
        status = "pending" if required and required[0] else "unvalidated"
        cursor.execute(
            "INSERT INTO dataset_versions (name, version, content_hash, row_count, column_count, schema_json,"
            " source_path, parent_version, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, number, digest, rows, len(columns), json.dumps(columns), source, parent, status],
        )
        return self._fetch_version(cursor, name, number)

    def _find_by_hash(
        self, cursor: duckdb.DuckDBPyConnection, name: str, digest: str
    ) -> DatasetVersion | None:
        row = cursor.execute(
            f"SELECT {VERSION_COLUMNS} FROM dataset_versions WHERE name = ? AND content_hash = ?"
            " ORDER BY version LIMIT 1",
            [name, digest],
        ).fetchone()
        return _version_from_row(row) if row else None

    def resolve(self, ref: str | DatasetRef) -> DatasetVersion:
        """The version a reference names; ``NAME`` alone is the latest."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        with self._db.cursor() as cursor:
            if parsed.version is None:
                row = cursor.execute(
                    f"SELECT {VERSION_COLUMNS} FROM dataset_versions WHERE name = ?"
                    " ORDER BY version DESC LIMIT 1",
                    [parsed.name],
                ).fetchone()
            else:
                row = cursor.execute(
                    f"SELECT {VERSION_COLUMNS} FROM dataset_versions WHERE name = ? AND version = ?",
                    [parsed.name, parsed.version],
                ).fetchone()
            if row is None:
                raise InvalidInput(self._missing_message(cursor, parsed))
        return _version_from_row(row)

    def _missing_message(self, cursor: duckdb.DuckDBPyConnection, ref: DatasetRef) -> str:
        versions = [
            r[0]
            for r in cursor.execute(
                "SELECT version FROM dataset_versions WHERE name = ? ORDER BY version", [ref.name]
            ).fetchall()
        ]
        if not versions:
            names = [r[0] for r in cursor.execute("SELECT name FROM datasets ORDER BY name").fetchall()]
            known = f"; datasets here: {', '.join(names)}" if names else "; there are no datasets yet"
            return f"no dataset named {ref.name!r}{known}"
        return f"dataset {ref.name!r} has no version {ref.version}; it has v{versions[0]}..v{versions[-1]}"

    def _fetch_version(self, cursor: duckdb.DuckDBPyConnection, name: str, number: int) -> DatasetVersion:
        row = cursor.execute(
            f"SELECT {VERSION_COLUMNS} FROM dataset_versions WHERE name = ? AND version = ?", [name, number]
        ).fetchone()
        assert row is not None
        return _version_from_row(row)

    def summaries(self, contains: str = "") -> list[DatasetSummary]:
        """Every dataset (whose name contains ``contains``) with its latest version."""
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {VERSION_COLUMNS}, count(*) OVER (PARTITION BY name),"
                " (SELECT required_suite FROM datasets d WHERE d.name = v.name)"
                " FROM dataset_versions v WHERE name ILIKE ?"
                " QUALIFY version = max(version) OVER (PARTITION BY name) ORDER BY name",
                [f"%{contains}%"],
            ).fetchall()
        return [DatasetSummary(row[0], row[10], _version_from_row(row[:10]), row[11]) for row in rows]

    def versions(self, name: str) -> list[DatasetVersion]:
        self.resolve(name)
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT {VERSION_COLUMNS} FROM dataset_versions WHERE name = ? ORDER BY version", [name]
            ).fetchall()
        return [_version_from_row(row) for row in rows]

    def profile(self, ref: str) -> list[ColumnProfile]:
        """Column profiles of a version, computed once and kept in the catalogue."""
        version = self.resolve(ref)
        with self._db.cursor() as cursor:
            cached = cursor.execute(
                "SELECT profile_json FROM dataset_versions WHERE name = ? AND version = ?",
                [version.name, version.version],
            ).fetchone()
            if cached and cached[0]:
                return [ColumnProfile.from_dict(item) for item in json.loads(cached[0])]
            stored = [p.to_dict() for p in profile(cursor, version.relation, version.schema)]
            cursor.execute(
                "UPDATE dataset_versions SET profile_json = ? WHERE name = ? AND version = ?",
                [json.dumps(stored), version.name, version.version],
            )
        # Returned in stored form (timestamps as ISO text) so fresh and cached profiles compare alike.
        return [ColumnProfile.from_dict(item) for item in stored]

    def head(self, ref: str, offset: int = 0, limit: int = 20) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One page of a version's rows, in stored order."""
        if offset < 0 or limit < 1:
            raise InvalidInput(f"--offset {offset} --limit {limit}: expected offset >= 0 and limit >= 1")
        version = self.resolve(ref)
        with self._db.cursor() as cursor:
            result = cursor.execute(f"SELECT * FROM {version.relation} LIMIT ? OFFSET ?", [limit, offset])
            columns = [d[0] for d in result.description or []]
            return columns, result.fetchall()

    def query(self, sql: str, limit: int = 1000) -> QueryResult:
        """Run one read-only SELECT; every version is a relation in the ``data`` schema."""
        return run_read_only(self._db, sql, limit)

    def diff(self, before: str, after: str) -> VersionDiff:
        first, second = self.resolve(before), self.resolve(after)
        return diff_versions(first, second, self.profile(first.ref), self.profile(second.ref))

    def export(self, ref: str, destination: str | Path) -> Path:
        """Write a version to Parquet or CSV, chosen by the destination's suffix."""
        version = self.resolve(ref)
        target = Path(destination).expanduser().resolve()
        formats = {".parquet": "PARQUET", ".pq": "PARQUET", ".csv": "CSV"}
        if target.suffix.lower() not in formats:
            raise InvalidInput(
                f"export path {target} has suffix {target.suffix!r}; expected .parquet or .csv"
            )
        if not target.parent.is_dir():
            raise InvalidInput(f"export folder {target.parent} does not exist")
        options = "FORMAT PARQUET" if formats[target.suffix.lower()] == "PARQUET" else "FORMAT CSV, HEADER"
        literal = "'" + str(target).replace("'", "''") + "'"
        with self._db.cursor() as cursor:
            cursor.execute(f"COPY (SELECT * FROM {version.relation}) TO {literal} ({options})")
        return target


def _normalised_schema(cursor: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """Columns and types; nanosecond/millisecond timestamps are stored as microsecond ones."""
    columns = [(row[0], row[1]) for row in cursor.execute(f"DESCRIBE {relation}").fetchall()]
    to_micros = [name for name, kind in columns if kind in ("TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")]
    for name in to_micros:
        cursor.execute(f"ALTER TABLE {relation} ALTER {quote(name)} TYPE TIMESTAMP")
    return [(name, "TIMESTAMP" if name in to_micros else kind) for name, kind in columns]


def _count(cursor: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = cursor.execute(f"SELECT count(*) FROM {relation}").fetchone()
    assert row is not None
    return int(row[0])


def _version_from_row(row: tuple[Any, ...]) -> DatasetVersion:
    name, version, digest, rows, columns, schema_json, source, parent, created, status = row
    schema = [(column, kind) for column, kind in json.loads(schema_json)]
    return DatasetVersion(name, version, digest, rows, columns, schema, source, parent, created, status)
