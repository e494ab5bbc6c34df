"""``MlopsApp``: the console frame. Screens are app modes switched by number keys.

``console.__main__`` claims the workspace before the app starts, or, when another process owns
and hosts it, finds that owner to attach to (a program owning it without hosting fails at once
with the one-line error). The database is opened, or the owner attached to, in a worker after
the first paint, keeping start-up under a second. An attached console whose owner stops says so
and takes the workspace over, or attaches to whoever owns it next, keeping its screens.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from console.collector import FREEZER
from console.demo_tour import STOP_SECONDS, DemoStopped, DemoTour
from console.host import NavTarget
from console.messages import (
    DemoFinished,
    DemoPartStarted,
    DemoProgressed,
    EngineOpened,
    OwnerLeft,
    ServerChanged,
)
from console.screens import SCREENS
from console.screens.base import ConsoleScreen
from console.screens.help import HelpRow, HelpScreen
from console.styles import load_widget_styles, screen_stylesheets, styled_on_arrival
from console.widgets.dialogs import ConfirmDialog
from console.workers import NotifiesWorkerErrors, blocking_work
from engine.errors import OwnerGone, WorkspaceLocked
from engine.facade import AttachedEngine, Attachment, Claim, Engine, Facade

CONSOLE_COMMAND = "mlops console"
TAKE_OVER_RETRY_SECONDS = 0.25
"""How often a console whose owner left tries again while that owner is still closing."""


class MlopsApp(NotifiesWorkerErrors, App[None]):
    """The console; it is the ``ConsoleHost`` (console/host.py) its screens rely on."""

    TITLE = "mlops-console"
    # Every screen's sheet too (console/styles.py); absolute, so a subclass elsewhere finds them.
    CSS_PATH: ClassVar = [Path(__file__).with_name("app.tcss"), *screen_stylesheets()]
    MODES: ClassVar = {entry.mode: styled_on_arrival(entry.screen) for entry in SCREENS}
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "back", "Back", show=False),
        Binding("ctrl+t", "toggle_dark", "Dark/light", show=False),
        *(Binding(entry.key, f"go('{entry.mode}')", f"Go to {entry.title}", show=False) for entry in SCREENS),
    ]

    def __init__(
        self,
        opening: Claim | Attachment,
        *,
        warm_up: bool = True,
        serve: Callable[[Engine], None] | None = None,
        demo: bool = False,
    ) -> None:
        """``opening``: the workspace claimed, or its owner found (``Engine.claim_or_attach``).
        ``warm_up``: import the training libraries once the workspace is open here (see
        ``_warm_up``); off only where a test or benchmark wants them imported on first use.
        ``serve``: called with an engine opened here so this process hosts other ``mlops`` commands.
        ``demo``: run the demo once the workspace is open here (console/demo_tour.py)."""
        super().__init__()
        self.workspace_label = str(opening.workspace.mlops_dir)
        self.refresh_seconds = opening.config.console.refresh_seconds
        self.navigation = tuple(NavTarget(entry.key, entry.mode, entry.title) for entry in SCREENS)
        self.engine: Facade | None = None
        self.warm_up = warm_up
        self._workspace_root = opening.workspace.root
        self._opening: Claim | Attachment | None = opening
        self._serve = serve
        self._leaving = threading.Event()
        self._visited: list[str] = []
        self._demo_wanted = demo
        self.demo: DemoTour | None = None
        self._following: Timer | None = None  # the tour's next screen, due when this fires
        self._demo_ended = threading.Event()

    def on_mount(self) -> None:
        # SIGTERM ends the app like `q`, so the caller still checkpoints and unlocks.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        FREEZER.start(asyncio.get_running_loop())
        self.switch_mode(SCREENS[0].mode)
        # Opening DuckDB (import included) holds the GIL for a while: start it only once the
        # first frame is on screen, so it cannot delay the first paint; the widgets' styles too.
        self.call_after_refresh(self._open_engine)
        self.call_after_refresh(load_widget_styles, self)

    @blocking_work("open workspace")
    def _open_engine(self) -> None:
        """Open what the app was given; after its owner left, own the workspace or attach to
        whoever owns it now, trying again while the old owner is still closing (its clients'
        grace period, engine/host/server.py)."""
        took_over = self._opening is None
        while not self._leaving.is_set():
            try:
                if self._opening is None:
                    self._opening = Engine.claim_or_attach(self._workspace_root, command=CONSOLE_COMMAND)
                self.post_message(EngineOpened(self._open(self._opening), took_over))
                return
            except (WorkspaceLocked, OwnerGone):  # the old owner is closing still, or left as we attached
                self._opening = None
                self._leaving.wait(TAKE_OVER_RETRY_SECONDS)

    def _open(self, opening: Claim | Attachment) -> Facade:
        if isinstance(opening, Attachment):
            return opening.open(self._post_owner_left)
        engine = opening.open()
        if self._serve is not None:  # the console as a long-lived owner: it hosts and runs the monitors
            self._serve(engine)
            if not self._demo_wanted:  # else once the demo ends (_run_demo)
                engine.scheduler.start()
        return engine

    def _post_owner_left(self, pid: int) -> None:
        self.post_message(OwnerLeft(pid))  # from the attachment's thread: post_message is thread-safe

    def on_unmount(self) -> None:
        FREEZER.stop()

    def on_engine_opened(self, message: EngineOpened) -> None:
        self.engine, self._opening = message.engine, None
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_now()
        if message.took_over:
            self.notify(
                f"attached to the workspace's new owner, pid {message.engine.owner_pid}"
                if isinstance(message.engine, AttachedEngine)
                else "this console now owns the workspace",
                title="workspace",
            )
        if self._demo_wanted:
            self._demo_wanted = False
            self._start_demo(message.engine)
        elif self.warm_up and isinstance(message.engine, Engine):  # attached: the owner has them
            self._warm_up()

    def on_owner_left(self, message: OwnerLeft) -> None:
        """Keep every screen as it is; own the workspace, or attach to its next owner."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()
        self.notify(
            f"the workspace's owner (pid {message.pid}) stopped: this console carries on and takes over",
            title="workspace",
            severity="warning",
        )
        self._open_engine()

    # -- the demo (console/demo_tour.py) ---------------------------------------------------

    def _start_demo(self, engine: Facade) -> None:
        if not isinstance(engine, Engine):
            owner = f"pid {engine.owner_pid}" if isinstance(engine, AttachedEngine) else "another process"
            self.notify(
                f"{owner} owns this workspace: the demo needs it to "
                "itself; stop that process and open the demo again",
                title="demo",
                severity="error",
                timeout=20,
            )
            return
        self.demo = DemoTour()
        self._show_demo()
        self.notify(
            "The demo runs here: each screen follows it as it goes. A number key looks around "
            "(the demo goes on); q asks before quitting.",
            title="demo",
            timeout=12,
        )
        self._run_demo(engine)

    @blocking_work("demo")
    def _run_demo(self, engine: Engine) -> None:
        """The demo in this console's engine; the scheduler starts only once it ends, as its
        monitors would otherwise run in the middle of the demo's story."""

        def stop_if_leaving() -> None:
            if self._leaving.is_set():
                raise DemoStopped("the console quit")

        def progressed(stage: str, fraction: float | None) -> None:
            stop_if_leaving()
            self.post_message(DemoProgressed(stage, fraction))

        def began(part: str) -> None:
            stop_if_leaving()
            self.post_message(DemoPartStarted(part))

        try:
            report = engine.demo.run(progressed, began)
        finally:
            self._demo_ended.set()
            if self._serve is not None and not self._leaving.is_set():
                engine.scheduler.start()
        self.post_message(DemoFinished(report))

    def on_demo_part_started(self, message: DemoPartStarted) -> None:
        if self.demo is None:
            return
        self.demo.began(message.part)
        if self._following is None:
            wait = self.demo.wait_before_showing(time.monotonic())
            self._following = self.set_timer(wait, self._follow_demo)

    def _follow_demo(self) -> None:
        self._following = None
        if self.demo is None:
            return
        mode = self.demo.take_wanted(time.monotonic())
        if mode is not None and mode != self.current_mode and len(self.screen_stack) == 1:
            self._visited.append(self.current_mode)
            self.switch_mode(mode)

    def on_demo_progressed(self, message: DemoProgressed) -> None:
        if self.demo is not None:
            self.demo.progressed(message.stage, message.fraction)
            self._show_demo()

    def on_demo_finished(self, message: DemoFinished) -> None:
        report = message.report
        if self.demo is not None:
            self.demo.running = False
            self._show_demo()
        loop = report.loop
        self.notify(
            f"The demo finished in {report.seconds:.0f} s. Champion {report.champion_before} -> "
            f"{report.champion_after} (the retrain loop: {loop['outcome']}); {len(report.alerts)} alerts "
            f"raised. `mlops demo --workspace {report.workspace}` prints its summary again.",
            title="demo",
            timeout=30,
        )

    def worker_failed(self, worker: Worker[object]) -> None:
        if worker.group == "demo" and self.demo is not None:
            self.demo.failed(str(worker.error))
            self._show_demo()

    def _show_demo(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.screen.show_demo()

    async def action_quit(self) -> None:
        """Quit; while the demo runs, ask first: it cannot be resumed."""
        if self.demo is None or not self.demo.running:
            self.exit()
            return
        body = (
            "The demo stops where it is, and the workspace keeps what it made so far; it cannot "
            f"be resumed. To run it again, remove {self._workspace_root} and open the demo again "
            "(`make run`, or `mlops demo --console`)."
        )
        self.push_screen(ConfirmDialog("Quit while the demo runs?", body, "Quit"), self._quit_if_confirmed)

    def _quit_if_confirmed(self, reason: str | None) -> None:
        if reason is not None:
            self._leaving.set()  # the demo stops now, while the console closes
            self.exit()

    @blocking_work("warm up")
    def _warm_up(self) -> None:
        """Import the training libraries now (``Engine.warm_up``), so the first run or sweep does
        not stall the event loop importing them."""
        Engine.warm_up()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications quote what users typed and what the data holds (``dataset name '[x]'``):
        they are shown as plain text unless a caller asks for markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def close_engine(self) -> None:
        """Checkpoint and give up the workspace, or detach from its owner (the engine, or just
        the claim if not open)."""
        self._leaving.set()
        if self.demo is not None:  # it stops at its next progress report, before the database closes
            self._demo_ended.wait(STOP_SECONDS)
        if self.engine is not None:
            self.engine.close()
        elif self._opening is not None:
            self._opening.release()

    # -- navigation ------------------------------------------------------------------------

    def action_go(self, mode: str) -> None:
        if self.demo is not None:  # the person looks around: the screens stop following the demo
            self.demo.following = False
            self._show_demo()
        if mode == self.current_mode:
            return
        self._visited.append(self.current_mode)
        self.switch_mode(mode)

    async def action_back(self) -> None:
        """Close an overlay, else return to the previously shown screen."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self._visited:
            self.switch_mode(self._visited.pop())

    def action_help(self) -> None:
        screen = self.screen
        title = screen.TITLE if isinstance(screen, ConsoleScreen) else "console"
        self.push_screen(HelpScreen(title, _binding_rows(screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette offers the screen's and the app's actions, then Textual's own.

        Widget-level keys (cursor moves, copy) stay out: they are not commands.
        """
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or not active.enabled or active.node not in (self, screen):
                continue
            yield SystemCommand(
                binding.description,
                f"key {_key_label(key)}",
                partial(self.run_action, binding.action, active.node),
            )
        if self.engine is not None:
            yield SystemCommand(
                "Start the inference server",
                "serve every deployment over HTTP ([serving] host and port; stops when the console quits)",
                self._start_server,
            )
            yield SystemCommand(
                "Stop the inference server", "the requests in flight are answered first", self._stop_server
            )
        yield from super().get_system_commands(screen)

    @blocking_work("inference server")
    def _start_server(self) -> None:
        assert self.engine is not None
        self.post_message(ServerChanged(self.engine.server.start()))

    @blocking_work("inference server")
    def _stop_server(self) -> None:
        assert self.engine is not None
        self.post_message(ServerChanged(self.engine.server.stop()))

    def on_server_changed(self, message: ServerChanged) -> None:
        state = message.state
        if state.url is None:
            self.notify("The inference server stopped", title="serving")
        else:
            self.notify(
                f"Serving every deployment at {state.url} with {state.workers} worker(s)", title="serving"
            )


def _binding_rows(screen: Screen[object]) -> list[HelpRow]:
    """Every active key: the screen's first, then the console's, then the focused widget's."""
    rows: list[tuple[int, HelpRow]] = []
    for key, active in screen.active_bindings.items():
        if active.node is screen:
            rank, where = 0, f"{screen.TITLE or 'this'} screen"
        elif isinstance(active.node, App):
            rank, where = 1, "everywhere"
        else:
            rank, where = 2, type(active.node).__name__
        rows.append((rank, (_key_label(key), active.binding.description or active.binding.action, where)))
    return [row for _, row in sorted(rows, key=lambda ranked: ranked[0])]


def _key_label(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "escape": "esc"}.get(key, key)
