"""Small modal forms shared by the screens.

``FormDialog`` asks for a few named text fields and returns them as a dict (or None when
cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = True


class FormDialog(ModalScreen[dict[str, str] | None]):
    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > Vertical {
        width: 80; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $primary; background: $surface; color: $foreground; padding: 0 2;
    }
    FormDialog .dialog-title { text-style: bold; margin: 1 0; }
    FormDialog Label { height: 1; }
    FormDialog #dialog-error { color: $error; height: auto; }
    FormDialog Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    FormDialog Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, fields: list[Field], submit_label: str = "OK") -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="dialog-title")
            for field in self._fields:
                yield Label(field.label)
                yield Input(value=field.value, placeholder=field.placeholder, id=f"field-{field.name}")
            yield Static("", id="dialog-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self._submit_label, id="submit", variant="primary")

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        values = {
            field.name: self.query_one(f"#field-{field.name}", Input).value.strip() for field in self._fields
        }
        missing = [field.label for field in self._fields if field.required and not values[field.name]]
        if missing:
            self.query_one("#dialog-error", Static).update(f"{missing[0]} is required")
            return
        self.dismiss(values)
