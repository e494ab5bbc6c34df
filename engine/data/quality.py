"""Validation gates on dataset versions: validate, require a suite, quarantine, refuse to train.

A version's ``status`` is ``unvalidated`` until validated; then ``passed`` or ``failed``.
A dataset can require a suite: every new version is committed ``pending``, validated as it is
ingested and, if it fails, marked ``quarantined``. A version still pending when the workspace
opens (its ingest died between the commit and the validation) is validated then. Training
asks ``check_trainable`` first, which refuses a pending, failed or quarantined version and
lists the failing expectations.
"""

from __future__ import annotations

import json
from typing import Any

from engine.data.datasets import Datasets
from engine.data.suite_store import Suites
from engine.data.suites import check_columns, infer_suite, parse_suite
from engine.data.validation import validate
from engine.db import Database
from engine.errors import InvalidInput, MlopsError
from engine.events import EventLog
from engine.types.data import DatasetVersion, ValidationReport

BLOCKED_STATUSES = ("pending", "failed", "quarantined")


class DataQuality:
    def __init__(self, db: Database, events: EventLog, datasets: Datasets, suites: Suites) -> None:
        self._db = db
        self._events = events
        self._datasets = datasets
        self._suites = suites

    def validate(self, ref: str, suite_name: str, *, on_ingest: bool = False) -> ValidationReport:
        """Run a stored suite on a version, store the report and set the version's status."""
        version = self._datasets.resolve(ref)
        suite = self._suites.get(suite_name).suite
        with self._db.cursor() as cursor:
            report = validate(cursor, version.relation, suite)
            status = "passed" if report.success else ("quarantined" if on_ingest else "failed")
            cursor.execute(
                "INSERT INTO validations (dataset, version, suite, success, report_json)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    version.name,
                    version.version,
                    suite_name,
                    report.success,
                    json.dumps(report.to_dict(), default=str),
                ],
            )
            cursor.execute(
                "UPDATE dataset_versions SET status = ? WHERE name = ? AND version = ?",
                [status, version.name, version.version],
            )
        failed = sum(not result.success for result in report.results)
        verdict = (
            "passed" if report.success else f"{status}: {failed} of {len(report.results)} expectations failed"
        )
        self._events.record("validation", version.ref, f"suite {suite_name} {verdict}")
        return report

    def validate_if_required(self, version: DatasetVersion) -> ValidationReport | None:
        """The ingest hook: validate a new version against its dataset's required suite, if any."""
        suite_name = self.required_suite(version.name)
        if suite_name:
            return self.validate(version.ref, suite_name, on_ingest=True)
        with self._db.cursor() as cursor:
            cursor.execute(
                "UPDATE dataset_versions SET status = 'unvalidated'"
                " WHERE name = ? AND version = ? AND status = 'pending'",
                [version.name, version.version],
            )
        return None

    def validate_pending(self) -> None:
        """Validate the versions a process left pending: it died after committing them and
        before validating them. A suite that cannot run leaves them pending (training refuses
        them) and says so in the activity log."""
        with self._db.cursor() as cursor:
            pending = cursor.execute(
                "SELECT name, version FROM dataset_versions WHERE status = 'pending' ORDER BY name, version"
            ).fetchall()
        for name, number in pending:
            version = self._datasets.resolve(f"{name}@v{number}")
            try:
                self.validate_if_required(version)
            except MlopsError as error:
                self._events.record("validation", version.ref, f"still pending: {error}")

    def validate_waiting(self) -> list[ValidationReport]:
        """Validate every version waiting for its dataset's required suite: left pending by a
        process that died, or ingested before the suite was required (the scheduled job)."""
        with self._db.cursor() as cursor:
            waiting = cursor.execute(
                "SELECT v.name, v.version, d.required_suite"
                " FROM dataset_versions v JOIN datasets d USING (name)"
                " WHERE v.status IN ('pending', 'unvalidated') AND d.required_suite IS NOT NULL"
                " ORDER BY v.name, v.version"
            ).fetchall()
        return [self.validate(f"{name}@v{number}", suite) for name, number, suite in waiting]

    def required_suite(self, dataset: str) -> str | None:
        with self._db.cursor() as cursor:
            row = cursor.execute("SELECT required_suite FROM datasets WHERE name = ?", [dataset]).fetchone()
        return row[0] if row else None

    def require(self, dataset: str, suite_name: str) -> None:
        """Make every new version of ``dataset`` pass ``suite_name`` (checked against its columns)."""
        latest = self._datasets.resolve(dataset)
        check_columns(self._suites.get(suite_name).suite, [name for name, _ in latest.schema])
        with self._db.cursor() as cursor:
            cursor.execute("UPDATE datasets SET required_suite = ? WHERE name = ?", [suite_name, latest.name])
        self._events.record("validation", latest.name, f"new versions must pass suite {suite_name}")

    def latest_report(self, ref: str) -> ValidationReport | None:
        """The newest stored report for a version; None if it was never validated."""
        version = self._datasets.resolve(ref)
        with self._db.cursor() as cursor:
            row = cursor.execute(
                "SELECT report_json FROM validations WHERE dataset = ? AND version = ?"
                " ORDER BY id DESC LIMIT 1",
                [version.name, version.version],
            ).fetchone()
        return ValidationReport.from_dict(json.loads(row[0])) if row else None

    def check_trainable(self, ref: str) -> DatasetVersion:
        """The version, if training may use it; else an error listing what failed."""
        version = self._datasets.resolve(ref)
        if version.status not in BLOCKED_STATUSES:
            return version
        if version.status == "pending":
            suite = self.required_suite(version.name)
            raise InvalidInput(
                f"{version.ref} has not been validated against its required suite {suite} yet and cannot"
                f" be used for training; run `mlops data validate {version.ref} --suite {suite}`"
            )
        latest = self.latest_report(version.ref)
        failures = [
            f"{result.type}{f' on {result.column}' if result.column else ''}"
            f" ({result.unexpected_count or 0} unexpected)"
            for result in (latest.failures if latest else [])
        ]
        raise InvalidInput(
            f"{version.ref} is {version.status} and cannot be used for training; failing expectations: "
            f"{'; '.join(failures) or 'see its validation report'}"
        )

    def infer(self, ref: str, name: str, save: bool = False) -> dict[str, Any]:
        """Propose a suite from a version's data; stored under ``name`` when ``save``."""
        version = self._datasets.resolve(ref)
        with self._db.cursor() as cursor:
            document = infer_suite(cursor, version.relation, name)
        if save:
            self._suites.save(parse_suite(document), name, f"inferred from {version.ref}")
        return document
