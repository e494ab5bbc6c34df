"""Serving: the deployments and how they route, the inference server, live traffic per endpoint
and variant, and the newest requests.

The server runs in the engine that owns the workspace (this console's, or the owner's it is
attached to). Live figures come from the prediction log (the serving processes hand it over
twice a second): requests per second, latency percentiles and the error rate over the last
minute, each with a sparkline of its 5-second steps; a shadow deployment's split says how often
the shadow agreed with the primary over the last hour. Keys: ``s``/``x`` start and stop the
server, ``n`` deploys a model (choosing among the registered aliases and versions), ``t`` sends
a test request, ``R`` replays a dataset as traffic and ``X`` stops the replay
early, ``c`` changes a canary's percent, ``w`` switches blue/green and ``d`` removes a
deployment (both confirmed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from console.choices import dataset_columns, model_references
from console.messages import (
    DeploymentChanged,
    FormChoicesLoaded,
    ServerChanged,
    TestRequestAnswered,
    TrafficReplayed,
)
from console.screens.base import WorkScreen
from console.screens.deploy_form import deploy_arguments, deploy_fields
from console.widgets.dialogs import ConfirmDialog, Field, FormDialog
from console.widgets.filter_table import FilterableTable
from console.widgets.sparkline import sparkline
from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.facade import Facade
from engine.types.serving import (
    Deployment,
    LoggedPrediction,
    ServerState,
    ShadowAgreement,
    TrafficStats,
)
from engine.types.workspace import WorkspaceStatus

WINDOW_SECONDS = 60
STEPS = 12
REQUESTS_SHOWN = 100
AGREEMENT_HOURS = 1
AGREEMENT_SECONDS = AGREEMENT_HOURS * 3600
DEPLOY_FORM, REPLAY_FORM = "deploy", "replay:"  # which form a FormChoicesLoaded is for


@dataclass(frozen=True)
class ServingData:
    server: ServerState
    deployments: list[Deployment]
    stats: list[TrafficStats]
    recent: list[LoggedPrediction]
    agreements: dict[str, ShadowAgreement | None]  # of the shadow deployments, over the last hour


class ServingScreen(WorkScreen):
    WORK_GROUPS: ClassVar[frozenset[str]] = frozenset({"serving", "replay"})
    MODE: ClassVar[str] = "serving"
    TITLE: ClassVar[str] = "Serving"
    CSS_PATH = "serving.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("n", "new_deployment", "New deployment"),
        Binding("s", "start_server", "Start server"),
        Binding("x", "stop_server", "Stop server"),
        Binding("t", "test_request", "Test request"),
        Binding("R", "replay", "Replay traffic"),
        Binding("X", "stop_replay", "Stop replay"),
        Binding("c", "canary_percent", "Canary percent"),
        Binding("w", "switch", "Blue/green switch"),
        Binding("d", "remove", "Remove deployment"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._data: ServingData | None = None
        self._replaying: str | None = None  # the endpoint this screen's replay sends to

    def compose_body(self) -> ComposeResult:
        with Vertical(id="serving-body"):
            yield Static("Inference server: …", id="server-state")
            with Horizontal(id="serving-upper", classes="panes"):
                with Vertical(classes="panel", id="deployments-panel"):
                    yield Static("Deployments", classes="panel-title")
                    yield DataTable(id="deployments", cursor_type="row", zebra_stripes=True)
                with Vertical(classes="panel", id="traffic-panel"):
                    yield Static(f"Live traffic, last {WINDOW_SECONDS} s", classes="panel-title")
                    yield DataTable(id="traffic", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="panel", id="requests-panel"):
                yield Static("Newest requests", classes="panel-title")
                yield FilterableTable(
                    id="requests", placeholder="filter requests (endpoint, variant, status)…"
                )
            yield WorkPanel(id="serving-work", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#deployments", DataTable).add_columns("endpoint", "strategy", "variants", "split")
        self.query_one("#traffic", DataTable).add_columns(
            "endpoint", "variant", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "req/s trend", "p99 trend"
        )
        self.query_one("#requests", FilterableTable).table.add_columns(
            "time (UTC)", "endpoint", "variant", "model", "status", "ms", "score", "label", "truth"
        )

    # -- live data ------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> ServingData:
        wanted = self.filters.get("requests", "").lower()
        recent = [
            row
            for row in engine.predictions.recent(None, REQUESTS_SHOWN)
            if wanted in f"{row.endpoint} {row.variant} {row.status} {row.error or ''}".lower()
        ]
        deployments = engine.deployments.all()
        return ServingData(
            engine.server.state(),
            deployments,
            engine.predictions.stats(WINDOW_SECONDS, STEPS),
            recent,
            {
                deployment.endpoint: engine.deployments.shadow_agreement(
                    deployment.endpoint, AGREEMENT_SECONDS
                )
                for deployment in deployments
                if deployment.strategy == "shadow"
            },
        )

    def show_live_data(self, status: WorkspaceStatus, data: ServingData) -> None:
        if data == self._data:
            return
        self._data = data
        self.query_one("#server-state", Static).update(_server_text(data.server))
        show_rows(
            self.query_one("#deployments", DataTable),
            [
                (deployment.endpoint, _deployment_row(deployment, data.agreements.get(deployment.endpoint)))
                for deployment in data.deployments
            ],
        )
        show_rows(
            self.query_one("#traffic", DataTable),
            [(f"{stats.endpoint}/{stats.variant}", _traffic_row(stats)) for stats in data.stats],
        )
        show_rows(
            self.query_one("#requests", FilterableTable).table,
            [(f"{row.request_id}/{row.row}/{row.variant}", _request_row(row)) for row in data.recent],
            feed=True,
        )

    # -- the server -----------------------------------------------------------------------------

    def action_start_server(self) -> None:
        self.work_panel.start("starting the inference server")
        self._start()

    @blocking_work("serving")
    def _start(self) -> None:
        self.post_message(ServerChanged(self.engine.server.start()))

    def action_stop_server(self) -> None:
        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self.work_panel.start("stopping the inference server (requests in flight are answered first)")
                self._stop()

        body = Text("Every deployment stops answering; the requests in flight are answered first.")
        self.app.push_screen(ConfirmDialog("Stop the inference server?", body, "Stop"), confirmed)

    @blocking_work("serving")
    def _stop(self) -> None:
        self.post_message(ServerChanged(self.engine.server.stop()))

    def on_server_changed(self, message: ServerChanged) -> None:
        message.stop()
        state = message.state
        self.work_panel.succeeded(f"serving at {state.url}" if state.url else "the inference server stopped")
        self.app.post_message(ServerChanged(state))  # the app says it, as for the palette's start and stop
        self.refresh_now()

    # -- requests and traffic -------------------------------------------------------------------

    def _selected_endpoint(self) -> Deployment | None:
        key = selected_key(self.query_one("#deployments", DataTable))
        deployments = self._data.deployments if self._data else []
        found = next((d for d in deployments if d.endpoint == key), None)
        if found is None:
            self.app.notify("No deployment selected", severity="warning")
        return found

    def action_test_request(self) -> None:
        deployment = self._selected_endpoint()
        if deployment is None:
            return
        example = self._example(deployment.endpoint)
        fields = [Field("instance", "One instance, as JSON (its features by name)", value=example)]

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                instance = json.loads(values["instance"])
            except json.JSONDecodeError as error:
                self.app.notify(f"not JSON: {error}", title="Test request", severity="error")
                return
            if not isinstance(instance, dict):
                self.app.notify("expected a JSON object of features", title="Test request", severity="error")
                return
            self._send(deployment.endpoint, instance)

        self.app.push_screen(FormDialog(f"Test request to {deployment.endpoint}", fields, "Send"), chosen)

    def _example(self, endpoint: str) -> str:
        """The features of the endpoint's newest logged request, to edit (else an empty object)."""
        rows = self._data.recent if self._data else []
        found = next((row.features for row in rows if row.endpoint == endpoint and row.features), None)
        return json.dumps(found or {})

    @blocking_work("serving")
    def _send(self, endpoint: str, instance: dict[str, Any]) -> None:
        status, answer = self.engine.traffic.send(endpoint, instance)
        self.post_message(TestRequestAnswered(endpoint, status, answer))

    def on_test_request_answered(self, message: TestRequestAnswered) -> None:
        said = f"{message.endpoint} answered {message.status}: {json.dumps(message.answer)[:300]}"
        if message.status == 200:
            self.work_panel.succeeded(said)
        else:
            self.work_panel.failed(said)
        self.refresh_now()

    def action_replay(self) -> None:
        deployment = self._selected_endpoint()
        if deployment is not None:
            self._load_datasets(deployment.endpoint)

    @blocking_work("serving")
    def _load_datasets(self, endpoint: str) -> None:
        self.post_message(FormChoicesLoaded(f"{REPLAY_FORM}{endpoint}", dataset_columns(self.engine)))

    def on_form_choices_loaded(self, message: FormChoicesLoaded) -> None:
        if message.form == DEPLOY_FORM:
            self._open_deploy_form(message.choices["references"])
        else:
            self._open_replay_form(message.form.removeprefix(REPLAY_FORM), message.datasets)

    def _open_replay_form(self, endpoint: str, datasets: dict[str, tuple[str, ...]]) -> None:
        """The replay form, once the datasets to send are known."""
        if not datasets:
            self.app.notify("No dataset to replay yet: ingest one first (Datasets, i)", severity="warning")
            return
        fields = [
            Field("dataset", "Dataset (NAME: its latest version)", choices=tuple(datasets)),
            Field("rate", "Requests per second", value="50"),
            Field("duration", "Seconds at most", value="30"),
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                rate, duration = float(values["rate"]), float(values["duration"])
            except ValueError:
                self.app.notify("rate and duration are numbers", title="Replay", severity="error")
                return
            self.work_panel.start(f"replaying {values['dataset']} to {endpoint} at {rate:g}/s (X stops it)")
            self._replaying = endpoint
            self._replay(endpoint, values["dataset"], rate, duration)

        self.app.push_screen(FormDialog(f"Replay traffic to {endpoint}", fields, "Start"), chosen)

    @blocking_work("replay")
    def _replay(self, endpoint: str, dataset: str, rate: float, duration: float) -> None:
        report = self.engine.traffic.replay(endpoint, dataset, rate, duration, progress=self.report_progress)
        self.post_message(TrafficReplayed(report))

    def on_traffic_replayed(self, message: TrafficReplayed) -> None:
        report = message.report
        self._replaying = None
        how = "stopped after sending" if report.stopped else "sent"
        self.work_panel.succeeded(
            f"{how} {report.sent:,} rows of {report.dataset} to {report.endpoint} at {report.rate:.0f}/s"
        )
        self.refresh_now()

    def action_stop_replay(self) -> None:
        if self._replaying is None:
            self.app.notify("No replay is running from this console (R starts one)", severity="warning")
            return
        self.work_panel.log_line(f"stopping the replay to {self._replaying}")
        self._stop_replay(self._replaying)

    @blocking_work("serving")
    def _stop_replay(self, endpoint: str) -> None:
        self.engine.traffic.stop(endpoint)

    # -- rollouts -------------------------------------------------------------------------------

    def action_new_deployment(self) -> None:
        self._load_references()

    @blocking_work("serving")
    def _load_references(self) -> None:
        self.post_message(FormChoicesLoaded(DEPLOY_FORM, {}, {"references": model_references(self.engine)}))

    def _open_deploy_form(self, references: tuple[str, ...]) -> None:
        if not references:
            self.app.notify(
                "No registered model to deploy yet (Models: register a run first)", severity="warning"
            )
            return
        endpoints = tuple(deployment.endpoint for deployment in self._data.deployments) if self._data else ()

        def chosen(values: dict[str, str] | None) -> None:
            if values is not None:
                arguments = deploy_arguments(values)
                self.work_panel.start(f"deploying {arguments['model']} on {arguments['endpoint']}")
                self._deploy(arguments)

        self.app.push_screen(
            FormDialog("New deployment", deploy_fields(endpoints, references), "Deploy", deploy_arguments),
            chosen,
        )

    @blocking_work("serving")
    def _deploy(self, arguments: dict[str, Any]) -> None:
        deployed = self.engine.deployments.deploy(**arguments)
        variants = ", ".join(f"{variant.role}: {variant.reference}" for variant in deployed.variants)
        self.post_message(
            DeploymentChanged(deployed, f"{deployed.endpoint} deployed ({deployed.strategy}; {variants})")
        )

    def action_canary_percent(self) -> None:
        deployment = self._selected_endpoint()
        if deployment is None:
            return
        if deployment.strategy != "canary":
            self.app.notify(f"{deployment.endpoint} is not a canary", severity="warning")
            return
        fields = [
            Field("percent", "Percent of requests to the canary", value=f"{deployment.settings['percent']:g}")
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                percent = float(values["percent"])
            except ValueError:
                self.app.notify("a percent is a number", title="Canary", severity="error")
                return
            self._redeploy(deployment, percent)

        self.app.push_screen(FormDialog(f"Canary of {deployment.endpoint}", fields, "Apply"), chosen)

    @blocking_work("serving")
    def _redeploy(self, deployment: Deployment, percent: float) -> None:
        primary, canary = (variant.reference for variant in deployment.variants)
        changed = self.engine.deployments.deploy(deployment.endpoint, primary, canary=canary, percent=percent)
        self.post_message(DeploymentChanged(changed, f"{changed.endpoint}: the canary takes {percent:g}%"))

    def action_switch(self) -> None:
        deployment = self._selected_endpoint()
        if deployment is None:
            return
        if deployment.strategy != "bluegreen":
            self.app.notify(f"{deployment.endpoint} is not a blue/green deployment", severity="warning")
            return
        live = deployment.settings.get("live", "blue")
        body = Text(f"All of {deployment.endpoint}'s traffic moves from {live} to the other colour at once.")

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._switch(deployment.endpoint)

        self.app.push_screen(ConfirmDialog(f"Switch {deployment.endpoint}?", body, "Switch"), confirmed)

    @blocking_work("serving")
    def _switch(self, endpoint: str) -> None:
        changed = self.engine.deployments.switch(endpoint)
        self.post_message(
            DeploymentChanged(changed, f"{endpoint} switched: {changed.settings.get('live')} is live")
        )

    def action_remove(self) -> None:
        deployment = self._selected_endpoint()
        if deployment is None:
            return
        body = Text(f"{deployment.endpoint} stops answering; its prediction log stays.")

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._remove(deployment.endpoint)

        self.app.push_screen(ConfirmDialog(f"Remove {deployment.endpoint}?", body, "Remove"), confirmed)

    @blocking_work("serving")
    def _remove(self, endpoint: str) -> None:
        removed = self.engine.deployments.remove(endpoint)
        self.post_message(DeploymentChanged(removed, f"{endpoint} removed"))

    def on_deployment_changed(self, message: DeploymentChanged) -> None:
        self.work_panel.succeeded(message.said)
        self.app.notify(message.said, title="Deployment changed")
        self.refresh_now()


def _server_text(state: ServerState) -> Text:
    if state.url is None:
        return Text.assemble(("Inference server: ", "bold"), ("stopped", "yellow"), "  (s starts it)")
    return Text.assemble(
        ("Inference server: ", "bold"),
        (state.url, "bold green"),
        f"  {state.workers} worker(s), pids {', '.join(str(pid) for pid in state.pids)},"
        f" since {state.started_at}",
    )


def _deployment_row(deployment: Deployment, agreement: ShadowAgreement | None) -> list[object]:
    settings = deployment.settings
    split = {
        "canary": f"{settings.get('percent', 0):g}% canary",
        "ab": f"{settings.get('split', 0):g}% b by {settings.get('key') or 'random'}",
        "bluegreen": f"{settings.get('live', 'blue')} live",
        "shadow": _agreement_text(agreement),
    }.get(deployment.strategy, "all")
    return [
        deployment.endpoint,
        deployment.strategy,
        ", ".join(f"{variant.role}: {variant.reference}" for variant in deployment.variants),
        split,
    ]


def _agreement_text(agreement: ShadowAgreement | None) -> str:
    if agreement is None or not agreement.pairs:
        return f"shadow: no pairs in {AGREEMENT_HOURS} h"
    return (
        f"shadow agrees {agreement.agreement:.1%} of {agreement.pairs:,} in {AGREEMENT_HOURS} h,"
        f" |score diff| {agreement.mean_absolute_score_difference:.3f}"
    )


def _traffic_row(stats: TrafficStats) -> list[object]:
    def newest(series: list[float | None]) -> str:
        value = next((v for v in reversed(series) if v is not None), None)
        return "" if value is None else f"{value:.2f}"

    errors = [rate for rate in stats.error_rate if rate is not None]
    error_rate = sum(errors) / len(errors) if errors else None
    return [
        stats.endpoint,
        stats.variant,
        f"{stats.requests_per_second[-1]:.1f}",
        newest(stats.p50_ms),
        newest(stats.p95_ms),
        newest(stats.p99_ms),
        Text("" if error_rate is None else f"{error_rate:.1%}", style="red" if error_rate else ""),
        sparkline(stats.requests_per_second),
        sparkline(stats.p99_ms),
    ]


def _request_row(row: LoggedPrediction) -> list[object]:
    return [
        row.logged_at.strftime("%H:%M:%S.%f")[:12],
        row.endpoint,
        row.variant or "",
        f"{row.model} v{row.version}" if row.model else "",
        Text(str(row.status), style="" if row.status == 200 else "red"),
        f"{row.latency_ms:.2f}",
        "" if row.score is None else f"{row.score:.3f}",
        row.label or row.error or "",
        row.truth or "",
    ]
