"""Datasets on a real workspace: versions, hashing, profiles, paging, SQL, diff, export, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
REFERENCE = SAMPLE / "churn_reference.csv"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_ingest_records_a_version_and_identical_content_is_not_duplicated(engine: Engine) -> None:
    first = engine.datasets.ingest(REFERENCE, "churn")
    assert first.created
    version = first.version
    assert (version.ref, version.row_count, version.column_count, version.parent_version) == (
        "churn@v1",
        20_000,
        13,
        None,
    )
    assert version.schema[:2] == [("customer_id", "BIGINT"), ("event_timestamp", "TIMESTAMP")]
    assert version.source_path == str(REFERENCE)
    again = engine.datasets.ingest(REFERENCE, "churn")
    assert not again.created and again.version.ref == "churn@v1"
    second = engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "churn").version
    assert (second.ref, second.parent_version) == ("churn@v2", 1)
    assert [v.ref for v in engine.datasets.versions("churn")] == ["churn@v1", "churn@v2"]
    assert engine.datasets.resolve("churn").ref == "churn@v2"
    assert engine.status().counts.datasets == 1


def test_the_hash_ignores_format_and_row_order(engine: Engine, tmp_path: Path) -> None:
    frame = pd.read_csv(REFERENCE, parse_dates=["event_timestamp"])
    shuffled = tmp_path / "shuffled.parquet"
    frame.sample(frac=1, random_state=3).to_parquet(shuffled, index=False)  # nanosecond timestamps
    csv_version = engine.datasets.ingest(REFERENCE, "churn").version
    parquet = engine.datasets.ingest(shuffled, "churn")
    assert not parquet.created
    assert parquet.version.content_hash == csv_version.content_hash


def test_one_changed_value_changes_the_hash(engine: Engine, tmp_path: Path) -> None:
    frame = pd.read_csv(REFERENCE)
    frame.loc[123, "age"] += 1
    frame.to_csv(tmp_path / "changed.csv", index=False)
    original = engine.datasets.ingest(REFERENCE, "churn").version
    changed = engine.datasets.ingest(tmp_path / "changed.csv", "churn").version
    assert changed.ref == "churn@v2" and changed.content_hash != original.content_hash


def test_profile_matches_pandas_and_is_cached(engine: Engine) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    profiles = {p.name: p for p in engine.datasets.profile("churn@v1")}
    frame = pd.read_csv(REFERENCE)
    age = profiles["age"]
    assert (age.min, age.max, age.null_count) == (frame.age.min(), frame.age.max(), 0)
    assert age.mean == pytest.approx(frame.age.mean())
    assert age.std == pytest.approx(frame.age.std())
    assert age.quantiles["p25"] == pytest.approx(frame.age.quantile(0.25))
    assert age.quantiles["p50"] == pytest.approx(frame.age.median())
    assert sum(count for _, _, count in age.histogram) == 20_000
    assert abs(age.approx_distinct - frame.age.nunique()) <= 0.05 * frame.age.nunique()
    assert profiles["gender"].top_values[0] == ("male", int((frame.gender == "male").sum()))
    assert engine.datasets.profile("churn@v1") == list(profiles.values())


def test_nulls_are_counted(engine: Engine) -> None:
    engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "week2")
    customer = next(p for p in engine.datasets.profile("week2") if p.name == "customer_id")
    assert customer.null_count == 75 and customer.null_share == pytest.approx(75 / 5000)


def test_head_pages_in_stored_order(engine: Engine) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    columns, rows = engine.datasets.head("churn", offset=10, limit=3)
    assert columns[0] == "customer_id"
    assert [row[0] for row in rows] == [100_010, 100_011, 100_012]


def test_sql_is_read_only_and_sees_every_version(engine: Engine) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "churn")
    result = engine.datasets.query('SELECT (SELECT count(*) FROM "churn@v1"), (SELECT count(*) FROM churn)')
    assert result.rows == [(20_000, 5_000)]
    for statement in (
        'DROP TABLE "churn@v1"',
        "DELETE FROM events",
        "CREATE TABLE x (a INT)",
        "SELECT 1; SELECT 2",
    ):
        with pytest.raises(InvalidInput):
            engine.datasets.query(statement)
    assert engine.datasets.query('SELECT count(*) FROM "churn@v1"').rows == [(20_000,)]
    limited = engine.datasets.query('SELECT * FROM "churn@v1"', limit=5)
    assert len(limited.rows) == 5 and limited.truncated


def test_diff_reports_schema_rows_and_profile_changes(engine: Engine) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "churn")
    diff = engine.datasets.diff("churn@v1", "churn@v2")
    assert diff.removed_columns == [("churned", "BIGINT")] and not diff.added_columns
    assert (diff.row_count_before, diff.row_count_after) == (20_000, 5_000)
    recency = {d.statistic: d for d in diff.column_deltas if d.column == "days_since_last_order"}
    assert recency["mean"].change is not None and recency["mean"].change > 20
    assert engine.datasets.diff("churn@v1", "churn@v1").same_content


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trips(engine: Engine, tmp_path: Path, suffix: str) -> None:
    version = engine.datasets.ingest(REFERENCE, "churn").version
    target = engine.datasets.export("churn@v1", tmp_path / f"out{suffix}")
    back = engine.datasets.ingest(target, "roundtrip").version
    assert back.content_hash == version.content_hash


def test_keyword_and_mixed_case_column_names_work(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "keywords.csv", ["select", "from", "Group"], [[1, "a", 2.5], [2, "b", None]])
    version = engine.datasets.ingest(path, "keywords").version
    assert [name for name, _ in version.schema] == ["select", "from", "Group"]
    assert engine.datasets.query('SELECT sum("select") FROM keywords').rows == [(3,)]
    assert {p.name for p in engine.datasets.profile("keywords")} == {"select", "from", "Group"}


def test_schema_overrides(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "codes.csv", ["zip", "n"], [["01234", 1], ["98765", 2]])
    version = engine.datasets.ingest(path, "codes", schema="zip=VARCHAR,n=INTEGER").version
    assert version.schema == [("zip", "VARCHAR"), ("n", "INTEGER")]
    assert engine.datasets.head("codes")[1][0] == ("01234", 1)


@pytest.mark.parametrize(
    "kind",
    ["INTEGER) AS n FROM read_csv('/etc/passwd') --", "INTEGER); DROP TABLE datasets; --", "NOSUCHTYPE"],
)
def test_a_parquet_schema_override_is_checked_like_a_csv_one(
    engine: Engine, tmp_path: Path, kind: str
) -> None:
    """Parquet overrides become casts in SQL: a type that is not a DuckDB type name is refused
    in one line before any SQL is built, and nothing is stored."""
    pd.DataFrame({"zip": ["01234"], "n": [1]}).to_parquet(tmp_path / "codes.parquet", index=False)
    with pytest.raises(InvalidInput, match=r"^--schema n=.* is not a DuckDB type; expected e\.g\. INTEGER"):
        engine.datasets.ingest(tmp_path / "codes.parquet", "codes", schema=f"n={kind}")
    assert engine.datasets.summaries() == []
    version = engine.datasets.ingest(tmp_path / "codes.parquet", "codes", schema="n=DOUBLE").version
    assert version.schema == [("zip", "VARCHAR"), ("n", "DOUBLE")]


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str | None, str]]:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "notes.json").write_text("{}")
    mixed = "a,b\n" + "1,2\n" * 30_000 + "x,3\n"
    (tmp_path / "mixed.csv").write_text(mixed)
    return {
        "missing": (tmp_path / "nope.csv", None, "does not exist"),
        "empty": (tmp_path / "empty.csv", None, "is empty"),
        "header only": (tmp_path / "header.csv", None, "has a header but no rows"),
        "wrong suffix": (tmp_path / "notes.json", None, "expected .csv"),
        "mixed types": (tmp_path / "mixed.csv", None, "line 30002: column 'a' holds 'x'"),
        "duplicate names": (
            write_csv(tmp_path / "dup.csv", ["a", "b", "A"], [[1, 2, 3]]),
            None,
            "appears twice",
        ),
        "unnamed column": (
            write_csv(tmp_path / "unnamed.csv", ["a", ""], [[1, 2]]),
            None,
            "column 2 has no name",
        ),
        "unknown override": (write_csv(tmp_path / "ok.csv", ["a"], [[1]]), "b=INTEGER", "names column 'b'"),
        "bad type": (tmp_path / "ok.csv", "a=INTEGR", "'INTEGR' is not a DuckDB type"),
        "bad override": (tmp_path / "ok.csv", "a", "expected COLUMN=TYPE"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "header only",
        "wrong suffix",
        "mixed types",
        "duplicate names",
        "unnamed column",
        "unknown override",
        "bad type",
        "bad override",
    ],
)
def test_bad_files_are_one_line_errors_and_leave_nothing(engine: Engine, tmp_path: Path, case: str) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    path, schema, message = bad_inputs(tmp_path)[case]
    with pytest.raises(InvalidInput, match=message) as error:
        engine.datasets.ingest(path, "churn", schema=schema)
    assert "\n" not in str(error.value)
    assert [v.ref for v in engine.datasets.versions("churn")] == ["churn@v1"]
    with engine._db.cursor() as cursor:
        tables = [
            row[0]
            for row in cursor.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'data'"
            ).fetchall()
        ]
    assert tables == ["churn@v1"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "no dataset named 'nope'; datasets here: churn"),
        ("churn@v7", "has no version 7; it has v1..v1"),
        ("churn@7", "expected NAME or NAME@vN"),
        ("1bad", "is not valid"),
    ],
)
def test_unknown_references_say_what_exists(engine: Engine, ref: str, message: str) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    with pytest.raises(InvalidInput, match=message):
        engine.datasets.resolve(ref)


def test_bad_names_are_refused_before_reading(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="dataset name 'my data' is not valid"):
        engine.datasets.ingest(REFERENCE, "my data")


def test_versions_are_stored_as_tables_in_the_data_schema(engine: Engine, workspace: Path) -> None:
    engine.datasets.ingest(REFERENCE, "churn")
    engine.close()
    with duckdb.connect(str(workspace / ".mlops" / "workspace.duckdb"), read_only=True) as con:
        assert con.execute('SELECT count(*) FROM data."churn@v1"').fetchone() == (20_000,)
        assert con.execute('SELECT count(*) FROM data."churn"').fetchone() == (20_000,)


def small_table(rows: str) -> tuple[duckdb.DuckDBPyConnection, list[tuple[str, str]]]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {rows}) v(i, f, s, ts)")
    return con, [(row[0], row[1]) for row in con.execute("DESCRIBE t").fetchall()]


def test_the_content_hash_is_pinned_so_an_upstream_hash_change_is_caught() -> None:
    from engine.data.hashing import content_hash

    con, schema = small_table("(1, 2.5, 'a', TIMESTAMP '2026-01-01 00:00:00'), (2, NULL, NULL, NULL)")
    assert (
        content_hash(con, "t", schema) == "7ad92271b7de074dedb54c4e2b0adf66327e4039ab99bcfbcfc5ad6f259b1b5e"
    )


def test_duplicates_nulls_and_widths_are_told_apart_or_folded_as_documented() -> None:
    from engine.data.hashing import content_hash

    def digest(rows: str) -> str:
        con, schema = small_table(rows)
        return content_hash(con, "t", schema)

    base = digest("(1, 2.5, 'a', TIMESTAMP '2026-01-01'), (2, 3.5, 'b', TIMESTAMP '2026-01-02')")
    assert base == digest("(2, 3.5, 'b', TIMESTAMP '2026-01-02'), (1, 2.5, 'a', TIMESTAMP '2026-01-01')")
    assert base == digest(
        "(1::BIGINT, 2.5, 'a', TIMESTAMP_NS '2026-01-01'), (2, 3.5, 'b', TIMESTAMP '2026-01-02')"
    )
    assert base != digest("(1, 2.5, 'a', TIMESTAMP '2026-01-01'), (1, 2.5, 'a', TIMESTAMP '2026-01-01')")
    assert digest("(1, 2.5, '', TIMESTAMP '2026-01-01')") != digest("(1, 2.5, NULL, TIMESTAMP '2026-01-01')")
