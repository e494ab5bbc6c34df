"""Names users give things, and how every identifier reaches SQL.

Two kinds of identifier reach DuckDB. Names the user gives to things the workspace stores
(datasets, suites, feature views, entities) become part of table and view names, so they must
match ``NAME_PATTERN``, checked where they enter. Column names are the user's data and may
hold anything (quotes, spaces, unicode). Both go into SQL only through ``quote``, so no name
is ever pasted between double quotes by hand.
"""

from __future__ import annotations

import re

from engine.errors import InvalidInput

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
NAME_RULE = "a letter then up to 63 letters, digits, '_' or '-'"


def check_name(name: str, kind: str) -> str:
    """``name`` if it is a valid name for a stored thing; ``kind`` says which (``dataset name``)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidInput(f"{kind} {name!r} is not valid; expected {NAME_RULE}")
    return name


def string_literal(text: str) -> str:
    """A DuckDB string literal, for the few places a value cannot be a bound parameter (inside a
    relation text built once and read from later, a table function's arguments)."""
    return "'" + text.replace("'", "''") + "'"


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted so keywords and odd characters are safe."""
    return '"' + identifier.replace('"', '""') + '"'


def json_path(key: str) -> str:
    """A JSON path to a top-level key, whatever characters it holds (``$."a \\"b\\""``)."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_limit(limit: int) -> int:
    """A ``--limit`` as a query's LIMIT takes it: 1 or more (DuckDB refuses a negative one, and
    Python's slicing would read it from the other end)."""
    if limit < 1:
        raise InvalidInput(f"--limit {limit}: expected at least 1")
    return limit
