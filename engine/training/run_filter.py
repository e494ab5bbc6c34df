"""MLflow's run filter syntax, plus ``or`` and parentheses (which MLflow lacks: mlflow#6075).

    metrics.f1 > 0.8 and (params.model = 'random_forest' or params.model = 'gradient_boosting')
    tags.`mlops.dataset` = 'churn' and attributes.status != 'FAILED'
    params.max_depth IN ('5', '10') and metrics.roc_auc >= 0.9 or attributes.run_name LIKE 'sweep-%'

Identifiers are ``metrics.``, ``params.``, ``tags.`` or ``attributes.`` (singular forms too)
followed by a name, bare or quoted with backticks or double quotes. ``and`` binds tighter
than ``or``. A run without the named metric, param or tag does not match, as in MLflow.
Metrics compare as numbers, and so do the numeric attributes (start_time, end_time).

Params and tags are stored as text. Compared with a quoted string they compare as text
(``params.max_depth = '10'``); compared with an unquoted number they compare as numbers
(``params.max_depth = 10`` matches "10" and "10.0", ``params.max_depth >= 8`` works too), and a
run whose value is not a number does not match. Text compared as text against ``10`` would
be "10.0" against "10" and silently match nothing; MLflow refuses the unquoted number instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.errors import InvalidInput
from engine.types.training import RUN_ATTRIBUTES, Run

KINDS = {
    **dict.fromkeys(("metric", "metrics"), "metrics"),
    **dict.fromkeys(("param", "params", "parameter", "parameters"), "params"),
    **dict.fromkeys(("tag", "tags"), "tags"),
    **dict.fromkeys(("attribute", "attributes", "attr", "run"), "attributes"),
}
ATTRIBUTES = frozenset(RUN_ATTRIBUTES)
TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<identifier>[A-Za-z_][A-Za-z0-9_]*\.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_.\-/]+))
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


Predicate = Callable[[Run], bool]


def parse_filter(text: str) -> Predicate:
    """A predicate over runs; an empty filter matches every run."""
    if not text.strip():
        return lambda run: True
    parser = _Parser(text)
    predicate = parser.expression()
    parser.expect_end()
    return predicate


def parse_key(text: str) -> tuple[str, str]:
    """``metrics.f1`` → ("metrics", "f1"), for orderings."""
    match = TOKEN.fullmatch(text.strip())
    if match is None or match.group("identifier") is None:
        raise InvalidInput(
            f"{text!r} is not a run field; expected e.g. metrics.f1, params.model, attributes.start_time"
        )
    return _split_identifier(match.group("identifier"))


def _split_identifier(identifier: str) -> tuple[str, str]:
    prefix, _, name = identifier.partition(".")
    kind = KINDS.get(prefix.lower())
    if kind is None:
        raise InvalidInput(
            f"{identifier!r}: expected metrics., params., tags. or attributes. before the name"
        )
    name = name[1:-1] if name[:1] in '`"' else name
    if kind == "attributes" and name not in ATTRIBUTES:
        raise InvalidInput(
            f"{identifier!r}: unknown attribute; expected one of {', '.join(sorted(ATTRIBUTES))}"
        )
    return kind, name


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise InvalidInput(
                    f"filter: cannot read {text[position:].strip()[:20]!r} at character {position + 1}"
                )
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise InvalidInput(f"filter {self.text!r} ends too early; expected more after it")
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in words

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise InvalidInput(
                f"filter: unexpected {token[1]!r} at character {token[2] + 1}; expected and, or or the end"
            )

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.at_word("or"):
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda run: any(term(run) for term in terms))

    def conjunction(self) -> Predicate:
        terms = [self.atom()]
        while self.at_word("and"):
            self.take()
            terms.append(self.atom())
        return terms[0] if len(terms) == 1 else (lambda run: all(term(run) for term in terms))

    def atom(self) -> Predicate:
        token = self.take()
        if token[0] == "punct" and token[1] == "(":
            inner = self.expression()
            closing = self.take()
            if closing[1] != ")":
                raise InvalidInput(
                    f"filter: expected ')' at character {closing[2] + 1}, found {closing[1]!r}"
                )
            return inner
        if token[0] != "identifier":
            raise InvalidInput(
                f"filter: expected a field like metrics.f1 at character {token[2] + 1}, found {token[1]!r}"
            )
        kind, name = _split_identifier(token[1])
        operator = self.operator()
        value = self.values() if operator in ("in", "not in") else self.value()
        return _comparison(kind, name, operator, value)

    def operator(self) -> str:
        token = self.take()
        if token[0] == "op":
            return token[1]
        word = token[1].lower()
        if word == "not" and self.at_word("in"):
            self.take()
            return "not in"
        if word in ("like", "ilike", "in"):
            return word
        raise InvalidInput(
            f"filter: expected an operator (=, !=, <, >, LIKE, IN…) at character {token[2] + 1}"
        )

    def value(self) -> Any:
        kind, text, position = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1].replace("\\'", "'").replace('\\"', '"')
        raise InvalidInput(f"filter: expected a number or a quoted string at character {position + 1}")

    def values(self) -> list[Any]:
        opening = self.take()
        if opening[1] != "(":
            raise InvalidInput(f"filter: expected '(' after IN at character {opening[2] + 1}")
        items = [self.value()]
        while (token := self.take())[1] == ",":
            items.append(self.value())
        if token[1] != ")":
            raise InvalidInput(f"filter: expected ',' or ')' at character {token[2] + 1}")
        return items


def _comparison(kind: str, name: str, operator: str, expected: Any) -> Predicate:
    numeric_field = kind == "metrics" or (kind == "attributes" and name in ("start_time", "end_time"))
    given = expected if isinstance(expected, list) else [expected]
    numbers = all(isinstance(item, float) for item in given)
    if not numbers and any(isinstance(item, float) for item in given):
        raise InvalidInput(f"filter: {kind}.{name} IN (...) mixes numbers and quoted text; expected one kind")
    numeric = numeric_field or (numbers and operator not in ("like", "ilike"))
    if operator in ("like", "ilike"):
        if not isinstance(expected, str):
            raise InvalidInput(f"filter: {operator.upper()} needs a quoted pattern like 'sweep-%'")
        flags = re.IGNORECASE if operator == "ilike" else 0
        pattern = re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in expected), flags
        )
        return lambda run: (v := run.value(kind, name)) is not None and pattern.fullmatch(str(v)) is not None
    if numeric:
        if not numbers:
            raise InvalidInput(f"filter: {kind}.{name} is a number; compare it with a number, not a string")
    else:
        expected = [str(i) for i in expected] if isinstance(expected, list) else str(expected)
        if operator in ("<", "<=", ">", ">="):
            raise InvalidInput(
                f"filter: {kind}.{name} {operator} {expected!r} compares text; expected =, !=, LIKE, ILIKE"
                " or IN with quoted text, or an unquoted number to compare as numbers"
            )
    compare: Callable[[Any], bool] = {
        "=": lambda v: v == expected, "!=": lambda v: v != expected, "<": lambda v: v < expected,
        "<=": lambda v: v <= expected, ">": lambda v: v > expected, ">=": lambda v: v >= expected,
        "in": lambda v: v in expected, "not in": lambda v: v not in expected,
    }[operator]  # fmt: skip
    if numeric:
        return lambda run: (v := _number(run.value(kind, name))) is not None and compare(v)
    return lambda run: (v := run.value(kind, name)) is not None and compare(str(v))


def _number(value: Any) -> float | None:
    """A field's value as a number; None (no match) when it is missing or not a number."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
