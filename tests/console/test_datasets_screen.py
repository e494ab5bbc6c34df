"""The Datasets screen driven by the Pilot: ingest from the form, browse, page, diff, errors."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from console.app import MlopsApp
from console.screens.datasets import DatasetsScreen
from console.screens.datasets.diff import DiffScreen
from console.widgets.dialogs import FormDialog
from tests.conftest import REPO_ROOT
from tests.console.conftest import form_opened, notified, rows_of, until

SIZE = (140, 40)
SAMPLE = REPO_ROOT / "sample_data"


async def open_datasets(app: MlopsApp, pilot: object) -> None:
    await until(pilot, lambda: app.engine is not None)  # type: ignore[arg-type]
    await pilot.press("2")  # type: ignore[attr-defined]
    assert isinstance(app.screen, DatasetsScreen)


async def test_ingest_from_the_form_shows_the_new_version_and_its_profile(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        await pilot.press("i")
        assert isinstance(console_app.screen, FormDialog)
        console_app.screen.query_one("#field-path", Input).value = str(SAMPLE / "churn_reference.csv")
        console_app.screen.query_one("#field-name", Input).value = "churn"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: any(row[0] == "churn@v1" for row in rows_of(console_app, "#versions")),
            what="the new version in the versions table",
        )
        await until(pilot, lambda: len(rows_of(console_app, "#profile")) == 13, what="the profile")
        profile = {row[0]: row for row in rows_of(console_app, "#profile")}
        assert profile["age"][4:6] == ["18", "90"]
        assert "churn@v1" in str(console_app.screen.query_one("#version-title", Static).render())
        await until(pilot, lambda: notified(console_app, "created churn@v1"))
        assert (
            console_app.engine is not None
            and console_app.engine.datasets.resolve("churn").row_count == 20_000
        )


async def test_rows_page_from_duckdb(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await until(pilot, lambda: rows_of(console_app, "#rows") != [], what="the first page")
        assert rows_of(console_app, "#rows")[0][0] == "100000" and len(rows_of(console_app, "#rows")) == 50
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: rows_of(console_app, "#rows")[0][0] == "100050", what="the second page")
        assert "rows 51 to 100 of 20,000" in str(console_app.screen.query_one("#page-info", Static).render())
        await pilot.press("left_square_bracket")
        await until(
            pilot, lambda: rows_of(console_app, "#rows")[0][0] == "100000", what="back to the first page"
        )


async def test_diff_of_the_selected_version_and_its_parent(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        console_app.engine.datasets.ingest(SAMPLE / "churn_week_3.csv", "churn")
        await until(pilot, lambda: len(rows_of(console_app, "#versions")) == 2)
        await until(
            pilot, lambda: "churn@v2" in str(console_app.screen.query_one("#version-title", Static).render())
        )
        await pilot.press("d")
        assert console_app.screen.query_one("#field-before", Input).value == "churn@v1"
        await pilot.click("#submit")
        await until(pilot, lambda: isinstance(console_app.screen, DiffScreen), what="the diff")
        summary = str(console_app.screen.query_one("#diff-summary", Static).render())
        assert "churn@v1 → churn@v2" in summary and "- column churned BIGINT" in summary
        await pilot.press("escape")
        assert isinstance(console_app.screen, DatasetsScreen)


async def test_a_bad_file_is_an_error_notification_and_nothing_is_stored(
    console_app: MlopsApp, tmp_path: object
) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        await pilot.press("i")
        console_app.screen.query_one("#field-path", Input).value = "/no/such/file.csv"
        console_app.screen.query_one("#field-name", Input).value = "churn"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: notified(console_app, "does not exist"),
            what="the error notification",
        )
        assert console_app.engine is not None and console_app.engine.datasets.summaries() == []
        assert console_app.is_running


async def test_slash_filters_datasets_by_name(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "week1")
        console_app.engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "week2")
        await until(pilot, lambda: len(rows_of(console_app, "#datasets DataTable")) == 2)
        await pilot.press("slash", *"k2")
        await until(pilot, lambda: [r[0] for r in rows_of(console_app, "#datasets DataTable")] == ["week2"])


async def test_validate_shows_failing_expectations_in_red_and_the_status(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_week_2.csv", "weekly")
        await until(
            pilot, lambda: "weekly@v1" in str(console_app.screen.query_one("#version-title", Static).render())
        )
        await pilot.press("v")
        await until(pilot, lambda: notified(console_app, "No suite stored yet"), what="no suite to choose")
        console_app.engine.suites.add(SAMPLE / "churn_suite.json")
        await pilot.press("v")  # the suite is chosen among the stored ones
        form = await form_opened(pilot, console_app)
        assert form.query_one("#field-suite", Select).value == "churn_suite"
        await pilot.click("#submit")
        await until(
            pilot, lambda: len(rows_of(console_app, "#validation")) == 7, what="the validation results"
        )
        failed = [(row[1], row[2], row[3]) for row in rows_of(console_app, "#validation") if row[0] == "✗"]
        assert failed == [
            ("column_values_to_not_be_null", "customer_id", "75"),
            ("column_values_to_be_between", "age", "50"),
        ]
        assert "failed" in str(console_app.screen.query_one("#validation-summary", Static).render())
        await until(
            pilot, lambda: rows_of(console_app, "#versions")[0][3] == "failed", what="the failed status"
        )


async def test_require_then_a_failing_ingest_is_quarantined(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.suites.add(SAMPLE / "churn_suite.json")
        console_app.engine.datasets.ingest(SAMPLE / "churn_week_1.csv", "weekly")
        await until(pilot, lambda: len(rows_of(console_app, "#versions")) == 1)
        await pilot.press("R")
        form = await form_opened(pilot, console_app)
        assert form.query_one("#field-suite", Select).value == "churn_suite"
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: (
                console_app.engine is not None
                and console_app.engine.quality.required_suite("weekly") == "churn_suite"
            ),
        )
        await pilot.press("i")
        console_app.screen.query_one("#field-path", Input).value = str(SAMPLE / "churn_week_2.csv")
        await pilot.click("#submit")
        await until(
            pilot,
            lambda: any(row[3] == "quarantined" for row in rows_of(console_app, "#versions")),
            what="the quarantined version",
        )


async def test_a_million_row_version_is_shown_a_page_at_a_time(console_app: MlopsApp, tmp_path: Path) -> None:
    import duckdb

    big = tmp_path / "million.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT range AS id, range % 7 AS bucket FROM range(1000000)) TO '{big}' (FORMAT PARQUET)"
        )
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(big, "million")
        await until(pilot, lambda: rows_of(console_app, "#rows") != [], what="the first page")
        assert len(console_app.screen.query_one("#rows", DataTable).rows) == 50
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: rows_of(console_app, "#rows")[0][0] == "100", what="the third page")
        assert "rows 101 to 150 of 1,000,000" in str(
            console_app.screen.query_one("#page-info", Static).render()
        )


async def test_cells_holding_markup_are_shown_as_written(console_app: MlopsApp, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("id,note\n1,[bold]loud[/bold]\n2,[/oops]\n")
    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(odd, "odd")
        await until(pilot, lambda: len(rows_of(console_app, "#rows")) == 2, what="the rows")
        await pilot.click("#version-tabs Tab#--content-tab-rows-tab")
        await pilot.pause()
        screen = console_app.export_screenshot().replace("&#160;", " ")
        assert "rows 1 to 2 of 2" in screen
        assert "[bold]loud[/bold]" in screen and "[/oops]" in screen
        assert console_app.is_running


async def test_the_ingest_form_takes_null_tokens_and_says_where_they_became_nulls(
    console_app: MlopsApp, tmp_path: Path
) -> None:
    exported = tmp_path / "r_export.csv"
    exported.write_text('"id","age","country [iso2]"\n1,34,"DE"\n2,NA,"FR"\n3,NA,"NA"\n')

    async def ingest(pilot: object, tokens: str) -> None:
        await pilot.press("i")  # type: ignore[attr-defined]
        assert isinstance(console_app.screen, FormDialog)
        console_app.screen.query_one("#field-path", Input).value = str(exported)
        console_app.screen.query_one("#field-name", Input).value = "survey"
        console_app.screen.query_one("#field-null_tokens", Input).value = tokens
        await pilot.click("#submit")  # type: ignore[attr-defined]

    async with console_app.run_test(size=SIZE) as pilot:
        await open_datasets(console_app, pilot)
        await ingest(pilot, "")
        await until(pilot, lambda: notified(console_app, "age: 2 values 'NA' read as null (BIGINT)"))
        assert notified(console_app, "country [iso2]: 1 value 'NA' read as null (VARCHAR)")
        await ingest(pilot, "''")
        await until(pilot, lambda: notified(console_app, "created survey@v2"))
        assert console_app.engine is not None
        assert dict(console_app.engine.datasets.resolve("survey").schema)["age"] == "VARCHAR"
