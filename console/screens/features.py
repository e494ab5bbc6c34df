"""Features: entities' feature views with their TTL and online freshness, online lookups,
materialize and apply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Static

from console.messages import FeaturesApplied, FeaturesMaterialized, OnlineFeaturesLoaded
from console.screens.base import ConsoleScreen
from console.widgets.dialogs import Field, FormDialog, absolute_path
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import show_rows
from console.workers import blocking_work
from engine.errors import InvalidInput
from engine.facade import Facade
from engine.formatting import cell, duration
from engine.types.features import FeatureView, ViewStatus
from engine.types.workspace import WorkspaceStatus


class FeaturesScreen(ConsoleScreen):
    MODE: ClassVar[str] = "features"
    TITLE: ClassVar[str] = "Features"
    CSS_PATH = "features.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("a", "apply", "Apply definitions"),
        Binding("m", "materialize", "Materialize"),
        Binding("l", "lookup", "Look up entity"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._statuses: list[ViewStatus] = []
        self.selected_view: str | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="features-body"):
            with Vertical(classes="panel", id="views-panel"):
                yield Static("Feature views", classes="panel-title")
                yield FilterableTable(id="views", placeholder="filter views by name…")
            with Horizontal(id="features-lower"):
                with Vertical(classes="panel", id="view-panel"):
                    yield Static("Select a feature view", id="view-title", classes="panel-title")
                    yield DataTable(id="view-features", zebra_stripes=True)
                with Vertical(classes="panel", id="lookup-panel"):
                    yield Static("Online lookup", classes="panel-title")
                    with Horizontal(id="lookup-form"):
                        yield Input(placeholder="customer_id=100005", id="lookup-entity")
                        yield Button("Look up", id="lookup-button", variant="primary")
                    yield DataTable(id="lookup-result", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#views", FilterableTable).table.add_columns(
            # Freshness first: at 80 columns what the view joins on and reads from scroll into view.
            "view",
            "kind",
            "ttl",
            "online",
            "materialized until",
            "online rows",
            "entities (keys)",
            "source",
        )
        self.query_one("#view-features", DataTable).add_columns("feature", "type")
        self.query_one("#lookup-result", DataTable).add_columns("feature", "value")

    # -- live list ------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> list[ViewStatus]:
        wanted = self.filters.get("views", "").lower()
        return [status for status in engine.features.views() if wanted in status.view.name.lower()]

    def show_live_data(self, status: WorkspaceStatus, data: list[ViewStatus]) -> None:
        if data == self._statuses:
            return
        self._statuses = data
        names = [item.view.name for item in data]
        selected = self.selected_view if self.selected_view in names else (names[0] if names else None)
        show_rows(
            self.query_one("#views", FilterableTable).table,
            [(item.view.name, _view_row(item)) for item in data],
            select=selected,
        )
        if selected is not None:
            self._select(selected)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.parent is self.query_one("#views", FilterableTable) and event.row_key.value:
            self._select(event.row_key.value)

    def _select(self, name: str) -> None:
        status = next((s for s in self._statuses if s.view.name == name), None)
        if status is None:
            return
        self.selected_view = name
        view = status.view
        description = f"  {view.description}" if view.description else ""
        self.query_one("#view-title", Static).update(Text.assemble((view.name, "bold"), description))
        show_rows(
            self.query_one("#view-features", DataTable),
            [(feature.name, [feature.name, feature.dtype]) for feature in view.features],
        )

    # -- actions --------------------------------------------------------------------------------

    def action_apply(self) -> None:
        fields = [Field("path", "Definitions file (.toml)", placeholder="sample_data/features.toml")]
        self.app.push_screen(FormDialog("Apply feature definitions", fields, "Apply"), self._start_apply)

    def _start_apply(self, values: dict[str, str] | None) -> None:
        if values is not None:
            self._apply(values["path"])

    @blocking_work("apply features")
    def _apply(self, path: str) -> None:
        self.post_message(FeaturesApplied(self.engine.features.apply(absolute_path(path))))

    def on_features_applied(self, message: FeaturesApplied) -> None:
        self.app.notify(message.result.summary, title="Feature definitions applied")
        self.refresh_now()

    def action_materialize(self) -> None:
        self.app.notify("materializing online views…", title="Materialize")
        self._materialize()

    @blocking_work("materialize")
    def _materialize(self) -> None:
        self.post_message(FeaturesMaterialized(self.engine.features.materialize()))

    def on_features_materialized(self, message: FeaturesMaterialized) -> None:
        rows = sum(item.rows_written for item in message.done)
        self.app.notify(f"{len(message.done)} views, {rows:,} rows written", title="Materialized")
        self.refresh_now()

    def action_lookup(self) -> None:
        self.query_one("#lookup-entity", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "lookup-entity":
            self._start_lookup()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "lookup-button":
            self._start_lookup()

    def _start_lookup(self) -> None:
        text = self.query_one("#lookup-entity", Input).value
        status = next((s for s in self._statuses if s.view.name == self.selected_view), None)
        if status is None:
            self.app.notify("Select a feature view first", severity="warning")
            return
        try:
            entity = self.engine.features.parse_entity(text.split(","))
        except InvalidInput as error:
            self.app.notify(str(error), severity="error")
            return
        self._lookup(entity, [f"{status.view.name}:{feature.name}" for feature in status.view.features])

    @blocking_work("online lookup")
    def _lookup(self, entity: dict[str, Any], features: list[str]) -> None:
        self.post_message(OnlineFeaturesLoaded(entity, self.engine.features.online(entity, features)))

    def on_online_features_loaded(self, message: OnlineFeaturesLoaded) -> None:
        found = message.found
        show_rows(
            self.query_one("#lookup-result", DataTable),
            [
                (name, [name, _online_cell(value, found.statuses[name])])
                for name, value in found.values.items()
            ],
        )


def _online_cell(value: Any, status: str) -> str | Text:
    """A present value as itself; an expired or missing one says which, dimmed."""
    return cell(value) if status == "present" else Text(status.replace("_", " "), style="dim")


def _view_row(status: ViewStatus) -> list[Any]:
    view = status.view
    if not isinstance(view, FeatureView):
        return [view.name, "on demand", "", "", "", "", "", ""]
    until = status.materialized_until
    freshness: Text | str = ""
    if until is not None:
        aware = until if until.tzinfo else until.replace(tzinfo=UTC)
        stale = view.ttl is not None and datetime.now(UTC) - aware > view.ttl
        freshness = Text(aware.strftime("%Y-%m-%d %H:%M"), style="yellow" if stale else "green")
    elif view.online:
        freshness = Text("never", style="dim")
    return [
        view.name,
        "feature view",
        duration(view.ttl),
        "yes" if view.online else "no",
        freshness,
        "" if status.online_rows is None else f"{status.online_rows:,}",
        f"{', '.join(view.entities)} ({', '.join(view.join_keys)})",
        view.source,
    ]
