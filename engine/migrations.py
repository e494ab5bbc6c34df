"""Numbered schema migrations of ``workspace.duckdb``.

Each migration runs once, in its own transaction, and is recorded in ``schema_migrations``.
Later features add their tables by appending a migration here; a migration is never edited
after it has shipped, because workspaces already hold its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import MlopsError

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "activity log",
        """
        CREATE SEQUENCE events_id_seq;
        CREATE TABLE events (
            id BIGINT PRIMARY KEY DEFAULT nextval('events_id_seq'),
            occurred_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            kind VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            message VARCHAR NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "datasets and their versions",
        """
        CREATE SCHEMA data;  -- one table per dataset version: data."<name>@v<N>"
        CREATE TABLE datasets (
            name VARCHAR PRIMARY KEY,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            required_suite VARCHAR
        );
        CREATE TABLE dataset_versions (
            name VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            content_hash VARCHAR NOT NULL,
            row_count BIGINT NOT NULL,
            column_count INTEGER NOT NULL,
            schema_json VARCHAR NOT NULL,
            source_path VARCHAR NOT NULL,
            parent_version INTEGER,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            status VARCHAR NOT NULL DEFAULT 'unvalidated',
            profile_json VARCHAR,
            PRIMARY KEY (name, version)
        );
        -- Which runs used which version; written by training.
        CREATE TABLE dataset_lineage (
            name VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            run_id VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    Migration(
        3,
        "validation suites and results",
        """
        CREATE TABLE suites (
            name VARCHAR PRIMARY KEY,
            document_json VARCHAR NOT NULL,  -- the suite in Great Expectations 1.x JSON form
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE validations_id_seq;
        CREATE TABLE validations (
            id BIGINT PRIMARY KEY DEFAULT nextval('validations_id_seq'),
            dataset VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            suite VARCHAR NOT NULL,
            success BOOLEAN NOT NULL,
            report_json VARCHAR NOT NULL,
            validated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    Migration(
        4,
        "feature store registry and online schema",
        """
        CREATE TABLE feature_registry (
            kind VARCHAR NOT NULL,            -- entity, feature_view or on_demand_view
            name VARCHAR NOT NULL,
            definition JSON NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (kind, name)
        );
        CREATE TABLE feature_materializations (
            view VARCHAR PRIMARY KEY,
            relation VARCHAR NOT NULL,        -- the dataset version the online values came from
            materialized_until TIMESTAMP NOT NULL,
            row_count BIGINT NOT NULL,
            materialized_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        CREATE SCHEMA feature_online;         -- one table per online feature view, keyed by its join keys
        """,
    ),
    Migration(
        5,
        "pipeline runs and their steps",
        """
        CREATE SEQUENCE pipeline_runs_id_seq;
        CREATE TABLE pipeline_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('pipeline_runs_id_seq'),
            pipeline VARCHAR NOT NULL,
            path VARCHAR NOT NULL,             -- the pipeline file it ran
            definition_json VARCHAR NOT NULL,  -- the parsed steps, kept so `show` outlives file edits
            forced BOOLEAN NOT NULL,           -- run with the cache ignored
            status VARCHAR NOT NULL,           -- running, succeeded, failed, interrupted
            reason VARCHAR,                    -- why it failed
            started_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            finished_at TIMESTAMPTZ
        );
        CREATE TABLE pipeline_steps (
            pipeline_run BIGINT NOT NULL,
            position INTEGER NOT NULL,
            step VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            needs_json VARCHAR NOT NULL,
            status VARCHAR NOT NULL,           -- pending, running, succeeded, cached, failed, skipped
            cache_key VARCHAR,                 -- sha256 of the step's inputs; NULL for steps that always run
            started_at TIMESTAMPTZ,
            duration_seconds DOUBLE,
            output_json VARCHAR,
            verdicts_json VARCHAR,             -- a gate's checks with their values
            reason VARCHAR,
            PRIMARY KEY (pipeline_run, step)
        );
        """,
    ),
    Migration(
        6,
        "model evaluations",
        """
        CREATE SEQUENCE evaluations_id_seq;
        CREATE TABLE evaluations (
            id BIGINT PRIMARY KEY DEFAULT nextval('evaluations_id_seq'),
            run_id VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,          -- "run NAME" or "MODEL@ALIAS (vN)"
            dataset VARCHAR NOT NULL,          -- NAME@vN the rows came from
            scope VARCHAR NOT NULL,            -- held-out rows, or all labelled rows
            rows BIGINT NOT NULL,
            unlabelled_rows BIGINT NOT NULL,
            metrics_json VARCHAR NOT NULL,
            report_json VARCHAR NOT NULL,      -- scores, curves, calibration, business, fairness
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    Migration(
        7,
        "registry alias history and model exports",
        """
        CREATE SEQUENCE alias_moves_id_seq;
        -- Every move of a registered model's alias; MLflow keeps none (mlflow issue 2169).
        CREATE TABLE alias_moves (
            id BIGINT PRIMARY KEY DEFAULT nextval('alias_moves_id_seq'),
            model VARCHAR NOT NULL,
            alias VARCHAR NOT NULL,
            from_version INTEGER,              -- NULL: the alias was not set before
            to_version INTEGER NOT NULL,
            action VARCHAR NOT NULL,           -- promote, forced promote, rollback
            user_name VARCHAR NOT NULL,
            reason VARCHAR,
            verdicts_json VARCHAR NOT NULL,    -- the gates' verdicts at the time
            moved_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        -- Converted model files, checked for parity with the trained model.
        CREATE TABLE model_exports (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            format VARCHAR NOT NULL,           -- onnx
            path VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            parity_json VARCHAR NOT NULL,
            exported_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (model, version, format)
        );
        """,
    ),
    Migration(
        8,
        "deployments",
        """
        -- Grows with every change of any deployment: serving processes reload when it moves.
        CREATE SEQUENCE deployment_revisions;
        -- An endpoint the inference server answers on, and the models it routes to.
        CREATE TABLE deployments (
            endpoint VARCHAR PRIMARY KEY,
            strategy VARCHAR NOT NULL,         -- single, shadow, canary, bluegreen, ab
            variants_json VARCHAR NOT NULL,    -- [{"role": "primary", "reference": "churn@champion"}]
            settings_json VARCHAR NOT NULL,    -- the strategy's settings (percent, split, key)
            revision BIGINT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        -- The revision of the last removal (a removal leaves no row to carry it).
        CREATE TABLE deployment_removals (
            endpoint VARCHAR NOT NULL,
            revision BIGINT NOT NULL,
            removed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    Migration(
        9,
        "prediction log and labels",
        """
        -- One row per answered instance (a refused request: one row with its error and no
        -- row index); the serving processes hand batches to the owner (engine/serving/log.py).
        CREATE TABLE prediction_log (
            logged_at TIMESTAMPTZ NOT NULL,    -- when it was answered
            event_time TIMESTAMP NOT NULL,     -- the request's X-Event-Time (a replayed row's own
                                               -- time), else when it was answered, in UTC
            endpoint VARCHAR NOT NULL,
            variant VARCHAR,                   -- primary, canary, shadow, blue, green, a, b
            model VARCHAR,
            version INTEGER,
            request_id VARCHAR NOT NULL,
            "row" INTEGER,                     -- the instance's index in its request
            entity_key VARCHAR,                -- the request's X-Entity: customer_id=42
            entity VARCHAR,
            features JSON,
            score DOUBLE,
            label VARCHAR,
            latency_ms DOUBLE NOT NULL,
            status SMALLINT NOT NULL,
            error VARCHAR
        );
        -- Late labels, joined to the prediction they are the truth for.
        CREATE TABLE prediction_labels (
            request_id VARCHAR NOT NULL,
            "row" INTEGER NOT NULL,
            label VARCHAR NOT NULL,
            labelled_at TIMESTAMP,
            ingested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (request_id, "row")
        );
        """,
    ),
    Migration(
        10,
        "alerts",
        """
        CREATE SEQUENCE alert_ids;
        -- What monitors raised; an open alert with the same key is not raised again within the
        -- cool-down (its repeats are counted instead).
        CREATE TABLE alerts (
            id BIGINT PRIMARY KEY DEFAULT nextval('alert_ids'),
            raised_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            source VARCHAR NOT NULL,           -- drift:churn-api, accuracy:churn-api, ...
            severity VARCHAR NOT NULL,         -- info, warning, critical
            message VARCHAR NOT NULL,
            data_json VARCHAR NOT NULL,
            dedupe_key VARCHAR NOT NULL,
            repeats INTEGER NOT NULL DEFAULT 0,
            last_seen_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            status VARCHAR NOT NULL DEFAULT 'open',   -- open, acknowledged
            acknowledged_at TIMESTAMPTZ,
            acknowledged_by VARCHAR
        );
        -- Each attempt to hand an alert to a sink (log file, stdout, webhook).
        CREATE TABLE alert_deliveries (
            alert_id BIGINT NOT NULL,
            sink VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            ok BOOLEAN NOT NULL,
            error VARCHAR
        );
        """,
    ),
    Migration(
        11,
        "scheduled jobs and monitor results",
        """
        -- Every run of a scheduled job (or of `mlops jobs run`), with what it found.
        CREATE SEQUENCE job_run_ids;
        CREATE TABLE job_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('job_run_ids'),
            job VARCHAR NOT NULL,
            trigger VARCHAR NOT NULL,          -- schedule, manual
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status VARCHAR NOT NULL,           -- running, ok, failed
            error VARCHAR,
            summary VARCHAR
        );
        -- Jobs paused by `mlops jobs pause`, kept across restarts.
        CREATE TABLE paused_jobs (
            job VARCHAR PRIMARY KEY,
            paused_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );
        -- Each scheduled drift check's verdicts, for history and sparklines.
        CREATE TABLE drift_checks (
            checked_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            endpoint VARCHAR NOT NULL,
            reference VARCHAR NOT NULL,
            current VARCHAR NOT NULL,
            dataset_drift BOOLEAN NOT NULL,
            share_drifted DOUBLE NOT NULL,
            report_json VARCHAR NOT NULL
        );
        """,
    ),
    Migration(
        12,
        "accuracy checks and the automatic retrain loop",
        """
        -- Each scheduled accuracy check's figures per variant: the realised metrics of the
        -- newest window with enough labels, and the estimated ones of the newest window.
        CREATE TABLE accuracy_checks (
            checked_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            endpoint VARCHAR NOT NULL,
            variant VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            estimated BOOLEAN NOT NULL,
            window_end VARCHAR NOT NULL,
            "rows" INTEGER NOT NULL,           -- labelled predictions, or for an estimate all
            accuracy DOUBLE,
            "precision" DOUBLE,
            recall DOUBLE,
            f1 DOUBLE,
            roc_auc DOUBLE
        );
        -- Each turn of the automatic loop: why it started, what it trained and how it ended.
        CREATE SEQUENCE loop_run_ids;
        CREATE TABLE loop_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('loop_run_ids'),
            started_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            finished_at TIMESTAMPTZ,
            trigger VARCHAR NOT NULL,          -- drift, accuracy, schedule, manual
            endpoint VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            champion_version INTEGER,
            challenger_version INTEGER,
            outcome VARCHAR NOT NULL,          -- running, canary, promoted, rolled_back, failed, skipped
            reason VARCHAR
        );
        -- Each step of a turn, with its evidence (a data version, gate results, a comparison).
        CREATE TABLE loop_steps (
            run_id BIGINT NOT NULL,
            happened_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            step VARCHAR NOT NULL,
            status VARCHAR NOT NULL,           -- ok, failed, skipped, waiting
            detail VARCHAR NOT NULL,
            evidence_json VARCHAR
        );
        """,
    ),
    Migration(
        13,
        "the metric, evaluation and floor of each accuracy check",
        """
        -- What the console's accuracy chart draws its lines from; NULL in older checks.
        ALTER TABLE accuracy_checks ADD COLUMN metric VARCHAR;
        ALTER TABLE accuracy_checks ADD COLUMN baseline DOUBLE;  -- the metric in the model's evaluation
        ALTER TABLE accuracy_checks ADD COLUMN floor DOUBLE;     -- baseline - tolerance: the alert line
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def applied_versions(cursor: duckdb.DuckDBPyConnection) -> list[int]:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    rows = cursor.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [row[0] for row in rows]


def migrate(cursor: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply every pending migration in order; returns the ones applied now."""
    done = applied_versions(cursor)
    if done and done[-1] > LATEST_VERSION:
        raise MlopsError(
            f"workspace schema is at version {done[-1]} but this mlops knows only up to "
            f"{LATEST_VERSION}; upgrade mlops-console to open it"
        )
    pending = [m for m in MIGRATIONS if m.version not in done]
    for migration in pending:
        cursor.begin()
        try:
            cursor.execute(migration.sql)
            cursor.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
        except BaseException:
            cursor.rollback()
            raise
        cursor.commit()
    return pending
