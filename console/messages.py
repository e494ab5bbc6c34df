"""Messages the console's workers post; named in the past tense (they report what happened)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from engine.facade import Engine
    from engine.status import WorkspaceStatus


class EngineOpened(Message):
    """The workspace database is open and migrated; screens may start asking the engine."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine


class LiveDataLoaded(Message):
    """A screen's periodic refresh finished: the status for the header and the screen's data."""

    def __init__(self, status: WorkspaceStatus, data: Any) -> None:
        super().__init__()
        self.status = status
        self.data = data


class FilterChanged(Message):
    """The text in a table's filter box changed."""

    def __init__(self, table_id: str, text: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.text = text
