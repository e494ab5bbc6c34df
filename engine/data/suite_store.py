"""Validation suites kept in the workspace, in Great Expectations 1.x JSON (they round-trip with GX)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.data.suites import parse_suite
from engine.db import Database
from engine.errors import InvalidInput
from engine.events import EventLog
from engine.identifiers import check_name
from engine.types.data import StoredSuite, Suite


class Suites:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    def add(self, path: str | Path, name: str | None = None) -> StoredSuite:
        """Store the suite in a GX JSON file, under ``name`` or the suite's own name; replaces."""
        source = Path(path).expanduser()
        if not source.is_file():
            raise InvalidInput(
                f"suite file {source} does not exist; expected a Great Expectations JSON suite"
            )
        return self.save(parse_suite(source.read_text(encoding="utf-8")), name, f"from {source}")

    def save(self, suite: Suite, name: str | None = None, origin: str = "") -> StoredSuite:
        document = suite.to_json()
        stored_name = check_name(name or suite.name, "suite name")
        document["name"] = stored_name
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO suites (name, document_json) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET document_json = excluded.document_json, updated_at = now()",
                [stored_name, json.dumps(document)],
            )
        self._events.record(
            "suite", stored_name, f"saved {len(suite.expectations)} expectations {origin}".strip()
        )
        return self.get(stored_name)

    def get(self, name: str) -> StoredSuite:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT document_json, updated_at FROM suites WHERE name = ?", [name]
            ).fetchone()
            if row is None:
                names = [r[0] for r in cursor.execute("SELECT name FROM suites ORDER BY name").fetchall()]
                known = (
                    f"; suites here: {', '.join(names)}" if names else "; add one with `mlops suite add FILE`"
                )
                raise InvalidInput(f"no suite named {name!r}{known}")
        return StoredSuite(name, parse_suite(row[0]), row[1])

    def all(self) -> list[StoredSuite]:
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT name, document_json, updated_at FROM suites ORDER BY name"
            ).fetchall()
        return [StoredSuite(name, parse_suite(document), updated) for name, document, updated in rows]
