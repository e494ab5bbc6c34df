from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from engine import migrations
from engine.errors import MlopsError
from engine.facade import Engine
from engine.migrations import LATEST_VERSION, Migration


def recorded_versions(workspace: Path) -> list[tuple[int, str]]:
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as con:
        return con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def test_every_migration_is_recorded_once(workspace: Path) -> None:
    for _ in range(2):
        Engine.open(workspace).close()
    assert recorded_versions(workspace) == [(m.version, m.name) for m in migrations.MIGRATIONS]


def test_a_new_migration_applies_on_next_open(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Migration(LATEST_VERSION + 1, "test table", "CREATE TABLE test_extra (x INTEGER)")
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, extra))
    monkeypatch.setattr(migrations, "LATEST_VERSION", extra.version)
    with Engine.open(workspace) as engine:
        assert engine.status().schema_version == extra.version
    assert recorded_versions(workspace)[-1] == (extra.version, "test table")


def test_a_failing_migration_leaves_nothing_behind(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Migration(LATEST_VERSION + 1, "broken", "CREATE TABLE half (x INTEGER); SELECT * FROM nowhere")
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr(migrations, "LATEST_VERSION", broken.version)
    with pytest.raises(duckdb.CatalogException):
        Engine.open(workspace)
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "half" not in tables
    assert recorded_versions(workspace)[-1][0] == LATEST_VERSION
    monkeypatch.undo()
    Engine.open(workspace).close()  # the failed open released the lock


def test_a_newer_workspace_is_refused_not_damaged(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Engine.open(workspace).close()
    monkeypatch.setattr(migrations, "LATEST_VERSION", 0)
    with pytest.raises(MlopsError, match="upgrade mlops-console"):
        Engine.open(workspace)
    monkeypatch.undo()
    Engine.open(workspace).close()
