"""Models: registered models, their versions and aliases, and every alias move.

Promotion shows each gate's verdict before asking to confirm (a failed gate can be overridden
only with a reason, which is recorded); rollback confirms first; ONNX export shows the parity
figures; the KServe manifest is written next to the ONNX file and shown. The work runs in
workers; the tables refresh live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from console.messages import (
    KServeManifestWritten,
    ModelExported,
    ModelGatesChecked,
    ModelPromoted,
    ModelRolledBack,
)
from console.screens.base import WorkScreen
from console.widgets.dialogs import ConfirmDialog, Field, FormDialog
from console.widgets.filter_table import FilterableTable
from console.widgets.table_rows import selected_key, show_rows
from console.widgets.work_panel import WorkPanel
from console.workers import blocking_work
from engine.facade import Facade
from engine.formatting import number
from engine.types.registry import CHAMPION, AliasMove, ModelSummary, OnnxExportRecord
from engine.types.workspace import WorkspaceStatus


@dataclass(frozen=True)
class RegistryData:
    models: list[ModelSummary]
    moves: list[AliasMove]  # of the selected model


USUAL_ALIASES = ("challenger", "staging")  # offered beside the model's own aliases when promoting


class ModelsScreen(WorkScreen):
    WORK_GROUPS: ClassVar[frozenset[str]] = frozenset({"registry"})
    MODE: ClassVar[str] = "models"
    TITLE: ClassVar[str] = "Models"
    CSS_PATH = "models.tcss"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("p", "promote", "Promote version"),
        Binding("b", "rollback", "Roll back alias"),
        Binding("o", "export_onnx", "Export ONNX"),
        Binding("k", "kserve", "KServe manifest"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected_model: str | None = None
        self._data: RegistryData | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="models-body"):
            with Horizontal(id="models-upper", classes="panes"):
                with Vertical(classes="panel", id="models-panel"):
                    yield Static("Registered models", classes="panel-title")
                    yield FilterableTable(id="models", placeholder="filter models by name…")
                with Vertical(classes="panel", id="versions-panel"):
                    yield Static("Versions", id="versions-title", classes="panel-title")
                    yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="panel", id="history-panel"):
                yield Static("Alias history", classes="panel-title")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            yield WorkPanel("Registry", id="registry-work", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#models", FilterableTable).table.add_columns("model", "versions", "aliases")
        self.query_one("#versions", DataTable).add_columns(
            "version", "aliases", "run", "data", "f1", "roc_auc", "onnx sha256"
        )
        self.query_one("#history", DataTable).add_columns(
            "when", "alias", "from", "to", "action", "user", "reason", "gates"
        )

    # -- live data ------------------------------------------------------------------------------

    def load_live_data(self, engine: Facade) -> RegistryData:
        wanted = self.filters.get("models", "").lower()
        models = [model for model in engine.registry.models() if wanted in model.name.lower()]
        names = [model.name for model in models]
        selected = self.selected_model if self.selected_model in names else (names[0] if names else None)
        return RegistryData(models, engine.registry.moves(selected) if selected else [])

    def show_live_data(self, status: WorkspaceStatus, data: RegistryData) -> None:
        if data == self._data:
            return
        self._data = data
        show_rows(
            self.query_one("#models", FilterableTable).table,
            [
                (
                    model.name,
                    [
                        model.name,
                        str(len(model.versions)),
                        ", ".join(f"@{alias} v{version}" for alias, version in sorted(model.aliases.items())),
                    ],
                )
                for model in data.models
            ],
            select=self.selected_model,
        )
        self._show_selected()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table_is_models = event.data_table.parent is self.query_one("#models")
        if table_is_models and event.row_key.value and event.row_key.value != self.selected_model:
            self.selected_model = event.row_key.value
            self._show_selected()
            self.refresh_now()

    @property
    def model(self) -> ModelSummary | None:
        models = self._data.models if self._data else []
        if self.selected_model is None and models:
            self.selected_model = models[0].name
        return next((m for m in models if m.name == self.selected_model), None)

    def _show_selected(self) -> None:
        model = self.model
        self.query_one("#versions-title", Static).update(
            Text(f"Versions of {model.name}")
            if model
            else "Versions (register one with `mlops models register`)"
        )
        show_rows(
            self.query_one("#versions", DataTable),
            [
                (
                    str(version.version),
                    [
                        f"v{version.version}",
                        Text(" ".join(f"@{a}" for a in version.aliases), style="bold green"),
                        version.run_name,
                        version.dataset,
                        number(version.metrics.get("f1")),
                        number(version.metrics.get("roc_auc")),
                        (version.onnx_sha256 or "")[:16],
                    ],
                )
                for version in (model.versions if model else [])
            ],
        )
        moves = self._data.moves if self._data and model else []
        show_rows(
            self.query_one("#history", DataTable),
            [
                (str(move.id), _move_row(move))
                for move in reversed([m for m in moves if m.model == (model.name if model else None)])
            ],
        )

    def _selected_version(self) -> int | None:
        key = selected_key(self.query_one("#versions", DataTable))
        if self.model is None or key is None:
            self.app.notify("No model version selected", severity="warning")
            return None
        return int(key)

    # -- promote --------------------------------------------------------------------------------

    def action_promote(self) -> None:
        version = self._selected_version()
        if version is None:
            return
        assert self.selected_model is not None
        name = self.selected_model
        known = tuple(sorted({CHAMPION, *USUAL_ALIASES, *(self.model.aliases if self.model else {})}))
        fields = [
            Field(
                "alias",
                f"Move which alias of {name} to v{version}? (→ completes a known one)",
                value=CHAMPION,
                choices=known,
                typed=True,
            )
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if values is not None:
                self.work_panel.start(f"checking the gates of {name} v{version} for @{values['alias']}")
                self._check_gates(name, version, values["alias"])

        self.app.push_screen(FormDialog(f"Promote {name} v{version}", fields, "Check gates"), chosen)

    @blocking_work("registry")
    def _check_gates(self, name: str, version: int, alias: str) -> None:
        verdicts, _ = self.engine.registry.gates(name, version, self.report_progress)
        self.post_message(ModelGatesChecked(name, version, alias, verdicts))

    def on_model_gates_checked(self, message: ModelGatesChecked) -> None:
        lines = [
            Text.assemble(
                ("✓ " if v.passed else "✗ ", "green" if v.passed else "red"),
                (v.check, "bold"),
                f"  {v.detail}",
            )
            for v in message.verdicts
        ]
        failed = [v for v in message.verdicts if not v.passed]
        lines.append(
            Text(
                f"{len(failed)} gate(s) failed: promoting overrides them and records your reason."
                if failed
                else "Every gate passed.",
                style="red" if failed else "green",
            )
        )
        target = f"{message.name}@{message.alias}"
        dialog = ConfirmDialog(
            f"Move {target} to v{message.version}?",
            Group(*lines),
            "Force promote" if failed else "Promote",
            reason_label="Reason for overriding the gates" if failed else None,
        )

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._promote(message.name, message.version, message.alias, bool(failed), reason or None)

        self.app.push_screen(dialog, confirmed)

    @blocking_work("registry")
    def _promote(self, name: str, version: int, alias: str, force: bool, reason: str | None) -> None:
        promotion = self.engine.registry.promote(name, version, alias, force, reason, self.report_progress)
        self.post_message(ModelPromoted(promotion))

    def on_model_promoted(self, message: ModelPromoted) -> None:
        promotion = message.promotion
        target = f"{promotion.model}@{promotion.alias}"
        if not promotion.promoted:
            self.work_panel.failed(f"{target} unchanged: the gates refused")
            self.app.notify(f"{target} unchanged", title="Promotion refused", severity="error")
        else:
            summary = f"{target} is now v{promotion.version}"
            if promotion.export:
                summary += f"; ONNX parity max |Δp| {promotion.export.max_abs_difference:.1e}"
            self.work_panel.succeeded(summary)
            self.app.notify(summary, title="Model promoted")
        self.refresh_now()

    # -- rollback -------------------------------------------------------------------------------

    def action_rollback(self) -> None:
        model = self.model
        if model is None:
            self.app.notify("No model selected", severity="warning")
            return
        if not model.aliases:
            self.app.notify(f"{model.name} has no alias to roll back", severity="warning")
            return
        fields = [
            Field(
                "alias",
                f"Roll back which alias of {model.name}?",
                value=CHAMPION,
                choices=tuple(sorted(model.aliases)),
            )
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            alias = values["alias"]
            current = model.aliases.get(alias)
            body = Text(
                f"{model.name}@{alias} moves from v{current} back to the version before it."
                if current
                else f"{model.name}@{alias} is not set."
            )

            def confirmed(reason: str | None) -> None:
                if reason is not None:
                    self._rollback(model.name, alias)

            self.app.push_screen(
                ConfirmDialog(f"Roll back {model.name}@{alias}?", body, "Roll back"), confirmed
            )

        self.app.push_screen(FormDialog(f"Roll back {model.name}", fields, "Next"), chosen)

    @blocking_work("registry")
    def _rollback(self, name: str, alias: str) -> None:
        self.post_message(ModelRolledBack(self.engine.registry.rollback(name, alias)))

    def on_model_rolled_back(self, message: ModelRolledBack) -> None:
        move = message.move
        summary = f"{move.model}@{move.alias} rolled back from v{move.from_version} to v{move.to_version}"
        self.work_panel.log_line(Text(summary, style="yellow"))
        self.app.notify(summary, title="Rolled back")
        self.refresh_now()

    # -- export ---------------------------------------------------------------------------------

    def action_export_onnx(self) -> None:
        version = self._selected_version()
        if version is not None:
            assert self.selected_model is not None
            self.work_panel.start(f"exporting {self.selected_model} v{version} to ONNX")
            self._export(self.selected_model, version)

    @blocking_work("registry")
    def _export(self, name: str, version: int) -> None:
        self.post_message(ModelExported(name, version, self.engine.registry.export_onnx(name, version)))

    def on_model_exported(self, message: ModelExported) -> None:
        summary = f"{message.name} v{message.version}: {_parity(message.export)}"
        self.work_panel.succeeded(summary)
        self.app.notify(summary, title="Exported to ONNX")
        self.refresh_now()

    def action_kserve(self) -> None:
        version = self._selected_version()
        if version is not None:
            assert self.selected_model is not None
            self.work_panel.start(f"writing the KServe manifest of {self.selected_model} v{version}")
            self._kserve(self.selected_model, version)

    @blocking_work("registry")
    def _kserve(self, name: str, version: int) -> None:
        path = self.engine.registry.write_kserve_manifest(name, version)
        self.post_message(KServeManifestWritten(name, version, path))

    def on_kserve_manifest_written(self, message: KServeManifestWritten) -> None:
        self.work_panel.succeeded(
            f"{message.name} v{message.version}: InferenceService written to {message.path}"
        )
        self.work_panel.log_line(message.path.read_text())
        self.app.notify(str(message.path), title="KServe manifest written")
        self.refresh_now()

    # -- progress -------------------------------------------------------------------------------


def _move_row(move: AliasMove) -> list[Any]:
    passed = sum(v.passed for v in move.verdicts)
    return [
        move.moved_at.strftime("%Y-%m-%d %H:%M:%S"),
        f"@{move.alias}",
        f"v{move.from_version}" if move.from_version is not None else "-",
        f"v{move.to_version}",
        Text(move.action, style="yellow" if move.action != "promote" else ""),
        move.user,
        move.reason or "",
        f"{passed}/{len(move.verdicts)} passed" if move.verdicts else "",
    ]


def _parity(export: OnnxExportRecord) -> str:
    return (
        f"ONNX {export.sha256[:16]}…, parity max |Δp| {export.max_abs_difference:.1e} "
        f"on {export.rows_checked:,} rows, labels identical"
    )
