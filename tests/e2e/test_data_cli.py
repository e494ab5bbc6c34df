"""`mlops data ...` as a user runs it: every verb's --json document, errors as one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import REPO_ROOT, mlops_json, run_mlops

SAMPLE = REPO_ROOT / "sample_data"


def test_every_data_verb_prints_one_json_document(workspace: Path, tmp_path: Path) -> None:
    first = mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    assert (first["ref"], first["row_count"], first["created"]) == ("churn@v1", 20_000, True)
    again = mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_reference.csv"), "--name", "churn")
    assert (again["ref"], again["created"]) == ("churn@v1", False)
    mlops_json(workspace, "data", "ingest", str(SAMPLE / "churn_week_3.csv"), "--name", "churn")

    listed = mlops_json(workspace, "data", "list")
    assert [(d["name"], d["versions"], d["latest"]["ref"]) for d in listed["datasets"]] == [
        ("churn", 2, "churn@v2")
    ]

    shown = mlops_json(workspace, "data", "show", "churn@v1")
    age = next(p for p in shown["profile"] if p["name"] == "age")
    assert age["min"] == 18 and len(age["histogram"]) == 10

    head = mlops_json(workspace, "data", "head", "churn@v1", "--offset", "5", "--limit", "2")
    assert [row[0] for row in head["rows"]] == [100_005, 100_006]

    sql = mlops_json(workspace, "data", "sql", 'SELECT count(*) AS n FROM "churn@v1"')
    assert (sql["columns"], sql["rows"]) == (["n"], [[20_000]])

    diff = mlops_json(workspace, "data", "diff", "churn@v1", "churn@v2")
    assert diff["rows"] == {"before": 20_000, "after": 5_000, "change": -15_000}
    assert diff["schema"]["removed"] == [{"name": "churned", "type": "BIGINT"}]

    exported = mlops_json(workspace, "data", "export", "churn@v2", str(tmp_path / "week3.parquet"))
    assert exported["rows"] == 5_000 and (tmp_path / "week3.parquet").stat().st_size > 0

    status = mlops_json(workspace, "status")
    assert status["counts"]["datasets"] == 1


def test_human_output_and_errors(workspace: Path, tmp_path: Path) -> None:
    ingest = run_mlops(
        "data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "week1", "-w", str(workspace)
    )
    assert ingest.returncode == 0 and "Created week1@v1: 5,000 rows x 12 columns" in ingest.stdout
    missing = run_mlops("data", "ingest", str(tmp_path / "nope.csv"), "--name", "x", "-w", str(workspace))
    assert (missing.returncode, missing.stderr) == (
        2,
        f"error: file {tmp_path / 'nope.csv'} does not exist\n",
    )
    write = run_mlops("data", "sql", "DELETE FROM events", "-w", str(workspace), "--json")
    assert write.returncode == 2 and "only SELECT queries run here" in json.loads(write.stderr)["error"]
    unknown = run_mlops("data", "show", "week1@v9", "-w", str(workspace))
    assert unknown.stderr == "error: dataset 'week1' has no version 9; it has v1..v1\n"


def test_wide_rows_stay_readable_and_cells_are_literal(workspace: Path, tmp_path: Path) -> None:
    """31 columns in an 80-column terminal: one block per row, not a grid of empty cells; a cell
    holding Rich markup is shown as written."""
    header = [f"measurement_{number:02d}" for number in range(1, 32)]
    rows = [[f"{row}.{column}" for column in range(1, 32)] for row in range(3)]
    rows[0][1], rows[1][1] = "[bold]loud[/bold]", "[/oops]"
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join(",".join(line) for line in [header, *rows]) + "\n")
    assert run_mlops("data", "ingest", str(wide), "--name", "wide", "-w", str(workspace)).returncode == 0

    narrow = run_mlops("data", "head", "wide", "-w", str(workspace), env={**os.environ, "COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert sum(line.startswith("row ") for line in lines) == 3
    assert any(line.split() == ["measurement_31", "0.31"] for line in lines)
    assert any(line.split() == ["measurement_02", "[bold]loud[/bold]"] for line in lines)
    assert any(line.split() == ["measurement_02", "[/oops]"] for line in lines)

    roomy = run_mlops(
        "data", "head", "wide", "--limit", "1", "-w", str(workspace), env={**os.environ, "COLUMNS": "600"}
    )
    assert roomy.returncode == 0 and "row 1" not in roomy.stdout
    assert "measurement_01" in roomy.stdout and "measurement_31" in roomy.stdout


def test_a_validation_report_reads_as_marks_not_markup(workspace: Path) -> None:
    run_mlops("suite", "add", str(SAMPLE / "churn_suite.json"), "-w", str(workspace))
    run_mlops("data", "ingest", str(SAMPLE / "churn_week_1.csv"), "--name", "weekly", "-w", str(workspace))
    report = run_mlops("data", "validate", "weekly", "--suite", "churn_suite", "-w", str(workspace))
    assert report.returncode == 0 and "✓" in report.stdout and "[green]" not in report.stdout


def test_missing_value_tokens_are_nulls_said_in_the_summary_and_overridable(
    workspace: Path, tmp_path: Path
) -> None:
    """An R export: a bare NA is missing, in numeric columns as in text ("NA" is Namibia here)."""
    exported = tmp_path / "r_export.csv"
    exported.write_text('"id","age","height","country"\n1,34,172.5,"DE"\n2,NA,N/A,"NA"\n3,NA,NaN,"US"\n')
    human = run_mlops("data", "ingest", str(exported), "--name", "survey", "-w", str(workspace))
    assert human.returncode == 0, human.stderr
    assert "  age: 2 values 'NA' read as null (BIGINT)\n" in human.stdout
    assert "  height: 2 values ('N/A' 1, 'NaN' 1) read as null (DOUBLE)\n" in human.stdout
    assert "  country: 1 value 'NA' read as null (VARCHAR)\n" in human.stdout

    shown = mlops_json(workspace, "data", "show", "survey@v1")
    assert [(p["name"], p["type"], p["null_count"]) for p in shown["profile"]] == [
        ("id", "BIGINT", 0),
        ("age", "BIGINT", 2),
        ("height", "DOUBLE", 2),
        ("country", "VARCHAR", 1),
    ]
    typed = mlops_json(
        workspace, "data", "ingest", str(exported), "--name", "typed", "--schema", "age=DOUBLE"
    )
    assert typed["schema"][1] == {"name": "age", "type": "DOUBLE"}
    assert typed["nulls_from_tokens"][0] == {
        "column": "age",
        "type": "DOUBLE",
        "count": 2,
        "tokens": {"NA": 2},
    }

    kept = mlops_json(workspace, "data", "ingest", str(exported), "--name", "survey", "--null-token", "")
    assert (kept["ref"], kept["created"], kept["null_tokens"], kept["nulls_from_tokens"]) == (
        "survey@v2",
        True,
        [""],
        [],
    )
    assert [column["type"] for column in kept["schema"]] == ["BIGINT", "VARCHAR", "VARCHAR", "VARCHAR"]
    again = mlops_json(
        workspace,
        "data",
        "ingest",
        str(exported),
        "--name",
        "survey",
        "--null-token",
        "NA",
        "--null-token",
        "N/A",
    )
    assert (again["ref"], again["null_tokens"]) == ("survey@v3", ["NA", "N/A"])

    bad = run_mlops(
        "data", "ingest", str(exported), "--name", "survey", "--null-token", "N\nA", "-w", str(workspace)
    )
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: --null-token 'N\\nA' holds a control character; expected text on one line, e.g. NA or -999\n",
    )
    assert [d["latest"]["ref"] for d in mlops_json(workspace, "data", "list")["datasets"]] == [
        "survey@v3",
        "typed@v1",
    ]
