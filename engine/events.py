"""The activity log: one line per thing that happened in the workspace.

Every service appends here (ingests, runs, promotions, alerts) so the console's Home screen
and ``mlops status`` can show what happened recently without asking each service.
"""

from __future__ import annotations

from engine.db import Database
from engine.types.workspace import Event


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, kind: str, subject: str, message: str) -> None:
        with self._db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events (kind, subject, message) VALUES (?, ?, ?)",
                [kind, subject, message],
            )

    def recent(self, limit: int = 50, contains: str = "") -> list[Event]:
        """The newest events first; ``contains`` filters case-insensitively on any text field."""
        pattern = f"%{contains}%"
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT id, occurred_at, kind, subject, message FROM events"
                " WHERE kind ILIKE $p OR subject ILIKE $p OR message ILIKE $p"
                " ORDER BY id DESC LIMIT $limit",
                {"p": pattern, "limit": limit},
            ).fetchall()
        return [Event(*row) for row in rows]
