"""Completion for free-text form fields whose answer is usually, not always, one of a few
known values: a new alias or an existing one, a list of a dataset's columns. The input shows
the rest of the first known value that starts with what was typed; right arrow takes it."""

from __future__ import annotations

from textual.suggester import Suggester

HINTED_OPTIONS = 6


class ItemSuggester(Suggester):
    """Completes the value from ``options`` (which may change: a followed field's choice); with
    ``several``, completes the last of comma-separated items, leaving out those already given."""

    def __init__(self, options: tuple[str, ...], several: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.options = options
        self.several = several

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(",") if self.several else ("", "", value)
        typed = last.lstrip()
        if not typed:
            return None
        given = {item.strip() for item in head.split(",")}
        for option in self.options:
            if option.startswith(typed) and option != typed and option not in given:
                return value + option[len(typed) :]
        return None


def hint(options: tuple[str, ...]) -> str:
    """A placeholder naming the first few options, so the field says what it completes."""
    shown = ", ".join(options[:HINTED_OPTIONS])
    return f"e.g. {shown}{', …' if len(options) > HINTED_OPTIONS else ''}" if options else ""
