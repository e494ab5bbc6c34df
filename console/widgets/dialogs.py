"""Small modal forms shared by the screens.

``FormDialog`` asks for a few named fields and returns them as a dict (or None when
cancelled); given a ``check`` (the engine's parser for what the form asks), it keeps the form
open and shows the problem until the answers parse. A field with ``choices`` is a Select
instead of free text; one that ``follows`` another offers the choices its value picks (a
dataset's columns for the target, once the dataset is chosen). A ``typed`` field with choices
stays free text and completes from them (a new alias or an existing one; with ``several``, a
comma-separated list of columns). ``ConfirmDialog`` asks before a change,
with a reason when one is required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from console.widgets.completion import ItemSuggester, hint
from engine.errors import InvalidInput


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()  # a Select of these instead of free text
    follows: str | None = None  # the field whose value picks this one's choices...
    choices_for: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict)  # ...from here
    typed: bool = False  # free text completed from the choices, instead of a Select
    several: bool = False  # typed: comma-separated items, each completed

    @property
    def is_select(self) -> bool:
        return not self.typed and (bool(self.choices) or self.follows is not None)

    def options_after(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """The choices given the form's other values so far."""
        return self.choices_for.get(values.get(self.follows, ""), ()) if self.follows else self.choices


def absolute_path(typed: str) -> str:
    """A file path typed in a form, as the engine must get it: absolute, since the engine may
    run in another process (the owner this console is attached to) with another working folder."""
    return str(Path(typed).expanduser().absolute()) if typed else typed


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

    def __init__(
        self,
        title: str,
        fields: list[Field],
        submit_label: str = "OK",
        check: Callable[[dict[str, str]], object] | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._submit_label = submit_label
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="dialog-title")
            initial = {field.name: field.value for field in self._fields}
            for field in self._fields:
                yield Label(field.label)
                if field.is_select:
                    options = field.options_after(initial)
                    yield Select(
                        [(option, option) for option in options],
                        value=field.value if field.value in options else Select.NULL,
                        allow_blank=True,
                        prompt=field.placeholder or "choose…",
                        id=f"field-{field.name}",
                    )
                elif field.typed:
                    options = field.options_after(initial)
                    yield Input(
                        value=field.value,
                        placeholder=field.placeholder or hint(options),
                        suggester=ItemSuggester(options, field.several),
                        id=f"field-{field.name}",
                    )
                else:
                    yield Input(value=field.value, placeholder=field.placeholder, id=f"field-{field.name}")
            yield Static("", id="dialog-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self._submit_label, id="submit", variant="primary")

    def on_input_submitted(self) -> None:
        self._submit()

    def on_select_changed(self, event: Select.Changed) -> None:
        """A choice made: the fields that follow it offer the choices it picks."""
        changed = (event.select.id or "").removeprefix("field-")
        values = self._values()
        for field in self._fields:
            if field.follows != changed:
                continue
            options = field.options_after(values)
            if field.typed:
                typed = self.query_one(f"#field-{field.name}", Input)
                assert isinstance(typed.suggester, ItemSuggester)
                typed.suggester.options = options
                typed.placeholder = field.placeholder or hint(options)
                continue
            select = self.query_one(f"#field-{field.name}", Select)
            select.set_options([(option, option) for option in options])
            if field.value in options:
                select.value = field.value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _values(self) -> dict[str, str]:
        values = {}
        for field in self._fields:
            widget = self.query_one(f"#field-{field.name}")
            if isinstance(widget, Select):
                values[field.name] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                assert isinstance(widget, Input)
                values[field.name] = widget.value.strip()
        return values

    def _submit(self) -> None:
        values = self._values()
        missing = [field.label for field in self._fields if field.required and not values[field.name]]
        if missing:
            self._show_problem(f"{missing[0]} is required")
            return
        if self._check is not None:
            try:
                self._check(values)
            except InvalidInput as problem:
                self._show_problem(str(problem))
                return
        self.dismiss(values)

    def _show_problem(self, problem: str) -> None:
        self.query_one("#dialog-error", Static).update(Text(problem))


class ConfirmDialog(ModalScreen[str | None]):
    """Asks before a change that moves what is served: shows what will happen (and, for a
    promotion, each gate's verdict), and asks for a reason when one is required. Returns the
    reason ("" when none was asked) or None when cancelled."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 100; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $warning; background: $surface; color: $foreground; padding: 0 2;
    }
    ConfirmDialog .dialog-title { text-style: bold; margin: 1 0; }
    ConfirmDialog #confirm-body { height: auto; margin-bottom: 1; }
    ConfirmDialog #dialog-error { color: $error; height: auto; }
    ConfirmDialog Horizontal { height: auto; margin: 1 0; align-horizontal: right; }
    ConfirmDialog Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, title: str, body: RenderableType, confirm_label: str, reason_label: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm_label = confirm_label
        self._reason_label = reason_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="dialog-title")
            yield Static(self._body, id="confirm-body")
            if self._reason_label:
                yield Label(self._reason_label)
                yield Input(id="field-reason")
            yield Static("", id="dialog-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self._confirm_label, id="confirm", variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self._confirm()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _confirm(self) -> None:
        if self._reason_label is None:
            self.dismiss("")
            return
        reason = self.query_one("#field-reason", Input).value.strip()
        if not reason:
            self.query_one("#dialog-error", Static).update(f"{self._reason_label} is required")
            return
        self.dismiss(reason)
