"""Suites in the workspace, validation results, required suites, quarantine and the training gate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
SUITE = SAMPLE / "churn_suite.json"


def test_suites_round_trip_in_gx_json(engine: Engine) -> None:
    stored = engine.suites.add(SUITE)
    assert stored.name == "churn_suite" and len(stored.suite.expectations) == 7
    original = json.loads(SUITE.read_text())
    assert stored.suite.to_json()["expectations"] == original["expectations"]
    renamed = engine.suites.add(SUITE, name="strict")
    assert renamed.suite.to_json()["name"] == "strict"
    assert [s.name for s in engine.suites.all()] == ["churn_suite", "strict"]
    with pytest.raises(InvalidInput, match="no suite named 'nope'; suites here: churn_suite, strict"):
        engine.suites.get("nope")


def test_validate_stores_the_report_and_sets_the_status(engine: Engine) -> None:
    engine.suites.add(SUITE)
    engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
    engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "churn")
    assert engine.quality.validate("churn@v1", "churn_suite").success
    report = engine.quality.validate("churn@v2", "churn_suite")
    assert not report.success
    failing = {(r.type, r.kwargs.get("column")): r.unexpected_count for r in report.results if not r.success}
    assert failing == {
        ("expect_column_values_to_not_be_null", "customer_id"): 75,
        ("expect_column_values_to_be_between", "age"): 50,
    }
    assert [v.status for v in engine.datasets.versions("churn")] == ["passed", "failed"]
    stored = engine.quality.latest_report("churn@v2")
    assert stored == report  # read back whole from what was stored


def test_a_required_suite_quarantines_a_failing_new_version_and_training_is_refused(engine: Engine) -> None:
    engine.suites.add(SUITE)
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
    engine.quality.require("weekly", "churn_suite")
    faulty = engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "weekly")
    assert faulty.validation is not None and not faulty.validation.success
    assert faulty.version.status == "quarantined"
    clean = engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "weekly")
    assert clean.version.status == "passed"
    assert engine.quality.check_trainable("weekly@v3").ref == "weekly@v3"
    with pytest.raises(InvalidInput) as refused:
        engine.quality.check_trainable("weekly@v2")
    message = str(refused.value)
    assert message.startswith("weekly@v2 is quarantined and cannot be used for training")
    assert "expect_column_values_to_not_be_null on customer_id (75 unexpected)" in message
    assert "expect_column_values_to_be_between on age (50 unexpected)" in message


def test_requiring_a_suite_that_names_a_missing_column_is_refused(engine: Engine, tmp_path: Path) -> None:
    document = json.loads(SUITE.read_text())
    email_not_null = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}}
    document["expectations"].append(email_not_null)
    (tmp_path / "suite.json").write_text(json.dumps(document))
    engine.suites.add(tmp_path / "suite.json", name="with_email")
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
    with pytest.raises(InvalidInput, match="email"):
        engine.quality.require("weekly", "with_email")
    assert engine.quality.required_suite("weekly") is None


def test_inferred_suites_pass_their_own_data_and_can_be_saved(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
    document = engine.quality.infer("weekly", "weekly_inferred", save=True)
    assert document["name"] == "weekly_inferred"
    assert engine.quality.validate("weekly@v1", "weekly_inferred").success
    engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "weekly")
    assert not engine.quality.validate("weekly@v2", "weekly_inferred").success


KILLED_AFTER_THE_COMMIT = """
import os, signal, sys
from engine.facade import Engine
with Engine.open(sys.argv[1]) as engine:
    engine.datasets.after_ingest = lambda version: os.kill(os.getpid(), signal.SIGKILL)
    engine.datasets.ingest(sys.argv[2], "weekly")
"""


def test_a_version_killed_before_its_validation_is_never_trainable(workspace: Path) -> None:
    """SIGKILL between the ingest's commit and its required suite: the version stays pending,
    training refuses it, and the next open validates it (here: quarantined)."""
    with Engine.open(workspace) as engine:
        engine.suites.add(SUITE)
        engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
        engine.quality.require("weekly", "churn_suite")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_COMMIT, str(workspace), str(SAMPLE / "churn_week_2.csv")],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as catalogue:
        left = catalogue.execute("SELECT status FROM dataset_versions WHERE version = 2").fetchone()
    assert left == ("pending",)

    with Engine.open(workspace) as engine:  # opening validates what a dead process left pending
        assert engine.datasets.resolve("weekly@v2").status == "quarantined"
        with pytest.raises(InvalidInput, match="weekly@v2 is quarantined"):
            engine.quality.check_trainable("weekly")
        again = engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "weekly")
        assert not again.created and again.version.status == "quarantined"


def test_a_pending_version_is_refused_until_validated(engine: Engine) -> None:
    engine.suites.add(SUITE)
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
    engine.quality.require("weekly", "churn_suite")
    engine.datasets.after_ingest = lambda version: None  # as if the process died right after the commit
    left = engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "weekly")
    assert left.version.status == "pending"
    with pytest.raises(InvalidInput, match=r"weekly@v2 has not been validated against its required suite"):
        engine.quality.check_trainable("weekly")
    engine.quality.validate_pending()
    assert engine.quality.check_trainable("weekly").status == "passed"


def test_ingests_into_one_dataset_at_once_take_turns(engine: Engine) -> None:
    files = ["churn_week_1.csv", "churn_week_2.csv", "churn_week_3.csv", "churn_week_4.csv"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda name: engine.datasets.ingest(SAMPLE / name, "weekly"), files))
        others = list(pool.map(lambda name: engine.datasets.ingest(SAMPLE / name, name[:-4]), files))
    assert sorted(result.version.version for result in results) == [1, 2, 3, 4]
    assert all(result.created for result in results + others)
    assert [v.version for v in engine.datasets.versions("weekly")] == [1, 2, 3, 4]
    assert len(engine.datasets.summaries()) == 5
