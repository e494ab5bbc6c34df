from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engine.errors import InvalidInput, WorkspaceNotFound
from engine.types.workspace import MLOPS_DIR_NAME
from engine.workspace import WORKSPACE_ENV_VAR, create_workspace_files, find_workspace


def test_creates_the_documented_layout(tmp_path: Path) -> None:
    workspace, created = create_workspace_files(tmp_path / "new")
    assert created
    assert workspace.config_path.read_text().startswith("# mlops-console workspace settings")
    assert workspace.artifacts_dir.is_dir()
    token = workspace.default_token_path
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert len(token.read_text().strip()) >= 40


def test_creating_again_keeps_config_and_token(tmp_path: Path) -> None:
    workspace, _ = create_workspace_files(tmp_path)
    workspace.config_path.write_text("[serving]\nport = 9000\n")
    token = workspace.default_token_path.read_text()
    again, created = create_workspace_files(tmp_path)
    assert not created
    assert again.config_path.read_text() == "[serving]\nport = 9000\n"
    assert again.default_token_path.read_text() == token


def test_refuses_a_file_as_workspace_directory(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(InvalidInput, match="is a file, not a directory"):
        create_workspace_files(target)


def test_discovery_order_explicit_then_env_then_upward(tmp_path: Path) -> None:
    explicit, _ = create_workspace_files(tmp_path / "explicit")
    from_env, _ = create_workspace_files(tmp_path / "env")
    upward, _ = create_workspace_files(tmp_path / "up")
    deep = upward.root / "a" / "b"
    deep.mkdir(parents=True)
    env = {WORKSPACE_ENV_VAR: str(from_env.root)}
    assert find_workspace(explicit.root, env, deep) == explicit
    assert find_workspace(None, env, deep) == from_env
    assert find_workspace(None, {}, deep) == upward


def test_explicit_path_may_name_the_mlops_folder_itself(tmp_path: Path) -> None:
    workspace, _ = create_workspace_files(tmp_path)
    assert find_workspace(tmp_path / MLOPS_DIR_NAME, {}, tmp_path) == workspace


def test_outside_any_workspace_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match=r"not inside a workspace.*mlops init"):
        find_workspace(None, {}, tmp_path)


def test_a_wrong_explicit_path_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match=rf"--workspace {tmp_path} is not a workspace.*mlops init"):
        find_workspace(tmp_path, {}, tmp_path)
    with pytest.raises(WorkspaceNotFound, match=WORKSPACE_ENV_VAR):
        find_workspace(None, {WORKSPACE_ENV_VAR: str(tmp_path)}, tmp_path)
