"""``ConsoleScreen``: the frame every screen shares and its live-refresh loop.

A screen subclasses it, sets ``MODE``/``TITLE``, yields its body from ``compose_body`` and,
if it shows live data, implements ``load_live_data`` (runs in a thread worker, may call
the engine) and ``show_live_data`` (runs on the event loop, updates widgets). The loop
reschedules itself only after a refresh has been shown, so refreshes never pile up, and it
pauses while the screen is not the one shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, get_current_worker

from console.collector import FREEZER
from console.host import ConsoleHost
from console.messages import FilterChanged, LiveDataLoaded, WorkProgressed
from console.widgets.demo_bar import DemoBar
from console.widgets.filter_table import FilterableTable
from console.widgets.header import WorkspaceHeader
from console.widgets.nav import NavBar
from console.widgets.work_panel import WorkPanel
from console.workers import NotifiesWorkerErrors, showing_work

if TYPE_CHECKING:
    from engine.facade import Facade
    from engine.types.workspace import WorkspaceStatus

LIVE_REFRESH_GROUP = "live-refresh"
STALE_REFRESHES = 3  # a refresh this many intervals late marks the screen's figures stale
NARROW_COLUMNS = 100


class ConsoleScreen(NotifiesWorkerErrors, Screen[None]):
    MODE: ClassVar[str]
    TITLE: ClassVar[str]

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("slash", "filter", "Filter"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._next_refresh: Timer | None = None
        self.filters: dict[str, str] = {}
        self._refresh_started: datetime | None = None  # a refresh in flight since
        self._shown_at: datetime | None = None  # when the figures on screen were read
        self._failed = False  # the last refresh failed
        self._shown_once = False

    def on_mount(self) -> None:
        self.set_interval(1.0, self._mark_if_stale)

    @property
    def host(self) -> ConsoleHost:
        """The app, as what a screen needs of it (console/host.py)."""
        assert isinstance(self.app, ConsoleHost)
        return self.app

    @property
    def engine(self) -> Facade:
        """The open engine, for workers: they are started only once the workspace has opened."""
        engine = self.host.engine
        if engine is None:
            raise RuntimeError("the workspace is still opening")
        return engine

    def on_resize(self, event: Resize) -> None:
        """Below ``NARROW_COLUMNS`` the screen is ``-narrow``: side-by-side panes (``Horizontal``
        with class ``panes``) stack, so no pane's columns are cut to a sliver."""
        self.set_class(event.size.width < NARROW_COLUMNS, "-narrow")

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader(self.host.workspace_label)
        yield NavBar(self.MODE, self.host.navigation)
        yield from self.compose_body()
        yield DemoBar()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    # -- live data -------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> Any:
        """Fetch what the screen shows; runs in a worker thread."""
        return None

    def show_live_data(self, status: WorkspaceStatus, data: Any) -> None:
        """Put freshly loaded data on screen; runs on the event loop."""

    def refresh_now(self) -> None:
        if self._next_refresh is not None:
            self._next_refresh.stop()
            self._next_refresh = None
        if self.host.engine is not None:
            self._load_live()

    @showing_work(LIVE_REFRESH_GROUP)
    def _load_live(self) -> None:
        engine = self.host.engine
        if engine is None:  # taken over meanwhile: the app refreshes once the new engine opens
            return
        self._refresh_started = self._refresh_started or datetime.now()
        status = engine.status()
        data = self.load_live_data(engine)
        if not get_current_worker().is_cancelled:
            self.post_message(LiveDataLoaded(status, data))

    def on_live_data_loaded(self, message: LiveDataLoaded) -> None:
        self._refresh_started = None
        self._failed = False
        self._shown_at = datetime.now()
        self.query_one(WorkspaceHeader).show_status(message.status)
        self.query_one(WorkspaceHeader).show_stale(None)
        self.show_live_data(message.status, message.data)
        if self._shown_once is False:  # its widgets now live as long as the app (console/collector.py)
            self._shown_once = True
            self.call_after_refresh(FREEZER.freeze)
        self._schedule_next_refresh()

    def _schedule_next_refresh(self) -> None:
        interval = self.host.refresh_seconds
        self._next_refresh = self.set_timer(interval, self._refresh_if_shown)

    def _refresh_if_shown(self) -> None:
        self._next_refresh = None
        if self.is_current and self.host.engine is not None:  # None: being taken over; it refreshes
            self._load_live()

    def on_screen_resume(self) -> None:
        self.show_demo()
        self.refresh_now()

    def show_demo(self) -> None:
        """Mirror the demo running in this console, if any, in this screen's bar (a screen still
        composing has none yet: its bar reads the demo as it mounts)."""
        for bar in self.query(DemoBar):
            bar.show(self.host.demo)

    def _mark_if_stale(self) -> None:
        """A refresh slower than ``STALE_REFRESHES`` intervals, or one that failed, leaves the
        last figures on screen: the header says since when they are that old."""
        started = self._refresh_started
        late = started is not None and (datetime.now() - started).total_seconds() > (
            STALE_REFRESHES * self.host.refresh_seconds
        )
        self.query_one(WorkspaceHeader).show_stale(self._shown_at if late or self._failed else None)

    def worker_failed(self, worker: Worker[object]) -> None:
        if worker.group == LIVE_REFRESH_GROUP:
            self._refresh_started = None
            self._failed = True
            self._mark_if_stale()
            self._schedule_next_refresh()

    def report_progress(self, stage: str, fraction: float | None) -> None:
        """The engine's progress callback for work in a worker: it becomes a message."""
        self.post_message(WorkProgressed(stage, fraction))

    # -- actions shared by every screen -----------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_now()

    def action_filter(self) -> None:
        """Open the filter box of the focused table (or of the screen's first table)."""
        tables = list(self.query(FilterableTable))
        if tables:
            target = next((table for table in tables if table.has_focus_within), tables[0])
            target.open_filter()

    def on_filter_changed(self, message: FilterChanged) -> None:
        self.filters[message.table_id] = message.text
        self.refresh_now()


class WorkScreen(ConsoleScreen):
    """A screen with a ``WorkPanel`` where its long work shows: the engine's progress reports
    move the panel's bar and log, and a failed worker of one of ``WORK_GROUPS`` ends the log in
    red (as well as in the error notification every worker failure gets)."""

    WORK_GROUPS: ClassVar[frozenset[str]] = frozenset()

    @property
    def work_panel(self) -> WorkPanel:
        return self.query_one(WorkPanel)

    def on_work_progressed(self, message: WorkProgressed) -> None:
        self.work_panel.progressed(message.stage, message.fraction)

    def worker_failed(self, worker: Worker[object]) -> None:
        super().worker_failed(worker)
        if worker.group in self.WORK_GROUPS:
            self.work_panel.failed(f"failed: {worker.error}")
