"""Serving's bearer tokens (engine/serving/tokens.py): named, revocable, kept as digests, and
checked by a serving process from the file alone."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.facade import Engine
from engine.serving.tokens import TOKENS_FILE, TokenCheck
from tests.conftest import mlops_json, run_mlops


def test_tokens_are_named_accepted_and_revoked_at_the_next_check(engine: Engine) -> None:
    check = TokenCheck(engine.workspace)
    default = engine.workspace.default_token_path.read_text().strip()
    assert check.name_of(default) == "default"
    issued = engine.tokens.create("ci-bot")
    assert check.name_of(issued.token) == "ci-bot"
    assert check.name_of(issued.token + "x") is None and check.name_of("") is None
    engine.tokens.revoke("ci-bot")
    assert check.name_of(issued.token) is None
    assert check.name_of(default) == "default"
    engine.tokens.revoke("default")
    assert check.name_of(default) is None
    assert [(token.name, token.active) for token in engine.tokens.all()] == [
        ("default", False),
        ("ci-bot", False),
    ]


def test_only_digests_are_kept_in_a_private_file(engine: Engine) -> None:
    issued = engine.tokens.create("ci-bot")
    path = engine.workspace.mlops_dir / TOKENS_FILE
    assert issued.token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bad_names_are_refused_and_nothing_changes(engine: Engine) -> None:
    engine.tokens.create("ci-bot")
    path = engine.workspace.mlops_dir / TOKENS_FILE
    before = path.read_bytes()
    for name, message in [
        ("ci-bot", "token name 'ci-bot' is already used"),
        ("default", "token name 'default' is already used"),
        ("bad name", "token name 'bad name' is not valid"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            engine.tokens.create(name)
    with pytest.raises(InvalidInput, match="no token named 'nope'; tokens here: default, ci-bot"):
        engine.tokens.revoke("nope")
    assert path.read_bytes() == before


def test_a_damaged_tokens_file_is_one_line(engine: Engine) -> None:
    (engine.workspace.mlops_dir / TOKENS_FILE).write_text("{not json")
    with pytest.raises(InvalidInput, match=r"tokens\.json is not valid JSON .*; fix or remove it"):
        engine.tokens.all()


def test_the_tokens_commands(workspace: Path) -> None:
    issued = mlops_json(workspace, "tokens", "create", "ci-bot")
    assert issued["name"] == "ci-bot" and len(issued["token"]) >= 40
    listed = mlops_json(workspace, "tokens", "list")["tokens"]
    assert [(token["name"], token["active"]) for token in listed] == [("default", True), ("ci-bot", True)]
    assert issued["token"] not in json.dumps(listed)
    revoked = mlops_json(workspace, "tokens", "revoke", "ci-bot")
    assert revoked["active"] is False and revoked["revoked_at"]
    refused = run_mlops("tokens", "create", "ci-bot", "-w", str(workspace))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
