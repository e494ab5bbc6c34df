"""The Features screen driven by the Pilot: apply, freshness after materialize, online lookup."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import DataTable, Input

from console.app import MlopsApp
from console.screens.features import FeaturesScreen
from console.widgets.dialogs import FormDialog
from tests.conftest import REPO_ROOT
from tests.console.conftest import notified, rows_of, until

SIZE = (140, 40)
SAMPLE = REPO_ROOT / "sample_data"


async def test_apply_materialize_and_look_up(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        await pilot.press("3")
        assert isinstance(console_app.screen, FeaturesScreen)
        await pilot.press("a")
        assert isinstance(console_app.screen, FormDialog)
        console_app.screen.query_one("#field-path", Input).value = str(SAMPLE / "features.toml")
        await pilot.click("#submit")
        await until(
            pilot, lambda: len(rows_of(console_app, "#views DataTable")) == 4, what="the applied views"
        )
        views = {row[0]: row for row in rows_of(console_app, "#views DataTable")}
        assert views["customer_support"][2:4] == ["12h", "yes"]
        assert views["customer_support"][6:8] == ["customer (customer_id)", "churn"]
        assert views["customer_orders"][4] == "never"

        console_app.engine.features.materialize(datetime(2026, 6, 29))
        await until(
            pilot,
            lambda: (
                {row[0]: row for row in rows_of(console_app, "#views DataTable")}["customer_orders"][4]
                == "2026-06-29 00:00"
            ),
            what="the freshness",
        )

        await until(pilot, lambda: rows_of(console_app, "#view-features") != [])
        table = console_app.screen.query_one("#views DataTable", DataTable)
        names = [row[0] for row in rows_of(console_app, "#views DataTable")]
        table.move_cursor(row=names.index("customer_orders"))
        await until(pilot, lambda: rows_of(console_app, "#view-features")[0][0] == "tenure_days")
        await pilot.press("l")
        await pilot.press(*"customer_id=119999", "enter")
        await until(pilot, lambda: rows_of(console_app, "#lookup-result") != [], what="the lookup")
        values = dict(rows_of(console_app, "#lookup-result"))
        assert set(values) == {"tenure_days", "total_orders", "avg_order_value", "days_since_last_order"}
        assert all(value == "expired" for value in values.values())  # the sample is older than 30 days
        await pilot.press("l")
        console_app.screen.query_one("#lookup-entity", Input).value = ""
        await pilot.press(*"customer_id=1", "enter")
        await until(pilot, lambda: dict(rows_of(console_app, "#lookup-result")) != values, what="2nd lookup")
        assert set(dict(rows_of(console_app, "#lookup-result")).values()) == {"not found"}


async def test_a_bad_entity_is_an_error_notification(console_app: MlopsApp) -> None:
    async with console_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: console_app.engine is not None)
        assert console_app.engine is not None
        console_app.engine.datasets.ingest(SAMPLE / "churn_reference.csv", "churn")
        console_app.engine.features.apply(SAMPLE / "features.toml")
        await pilot.press("3")
        await until(pilot, lambda: len(rows_of(console_app, "#views DataTable")) == 4)
        await pilot.press("l")
        await pilot.press(*"customer_id", "enter")
        await until(pilot, lambda: notified(console_app, "expected JOIN_KEY=VALUE"))
