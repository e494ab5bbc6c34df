"""Alias history: every move of a registered model's alias, kept in the workspace.

MLflow stores only where an alias points now (mlflow issue 2169 asks for more), so the engine
records each move: when, who, from which version to which, why, and the gates' verdicts.
Rollback reads the history as a stack: a promotion pushes a version, a rollback pops one, and
"back one step" is the version below the top.
"""

from __future__ import annotations

import json

from engine.db import Database
from engine.types.registry import AliasMove, Verdict


class AliasHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        model: str,
        alias: str,
        from_version: int | None,
        to_version: int,
        action: str,
        user: str,
        reason: str | None,
        verdicts: list[Verdict],
    ) -> AliasMove:
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "INSERT INTO alias_moves (model, alias, from_version, to_version, action, user_name, reason,"
                " verdicts_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    model,
                    alias,
                    from_version,
                    to_version,
                    action,
                    user,
                    reason,
                    json.dumps([v.to_dict() for v in verdicts]),
                ],
            ).fetchone()
        assert row is not None
        return next(move for move in self.moves(model) if move.id == row[0])

    def moves(self, model: str, alias: str | None = None) -> list[AliasMove]:
        """Oldest first."""
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                "SELECT id, model, alias, from_version, to_version, action, user_name, reason, verdicts_json,"
                " moved_at FROM alias_moves WHERE model = ? AND (? IS NULL OR alias = ?) ORDER BY id",
                [model, alias, alias],
            ).fetchall()
        return [
            AliasMove(
                id=row[0],
                model=row[1],
                alias=row[2],
                from_version=row[3],
                to_version=row[4],
                action=row[5],
                user=row[6],
                reason=row[7],
                verdicts=[Verdict(**v) for v in json.loads(row[8])],
                moved_at=row[9],
            )
            for row in rows
        ]

    def stack(self, model: str, alias: str) -> list[int]:
        """The versions the alias went through, undone ones removed; the last is where it is now."""
        versions: list[int] = []
        for move in self.moves(model, alias):
            if move.action == "rollback":
                versions.pop()
            else:
                versions.append(move.to_version)
        return versions
