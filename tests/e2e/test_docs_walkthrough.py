"""The README's CLI walkthrough and every docs page's examples, run as written in a fresh
workspace, so the docs cannot drift from the product.

A runnable example is a fenced block marked ```sh; a block marked ```text is a synopsis (with
placeholders such as RUN) and is not run. The README starts in a folder holding
``sample_data/``; every docs page starts where the README's first two lines leave a newcomer:
in a fresh workspace ``my-project`` beside ``sample_data/``, with ``mlops`` on PATH (the
pages say so). Each command line runs on its
own (a line ending in ``\\`` continues on the next) and must exit 0, or the code its trailing
comment names (``# exit 1``). What the runner does that a shell would do differently:
- ``. .venv/bin/activate`` puts the suite's own ``mlops`` on PATH (the tests' venv);
- ``cd DIR`` changes the folder the next commands run in (a ``&&`` chain runs part by part);
- ``mlops console`` is interactive: it is checked to be a command and not run.

The README runs as a newcomer types it, with nothing else running. The docs pages run beside
`mlops up` owning their workspace (started from another folder), as they would with the
console open: each command goes through the owner and must behave as the page says all the
same; the owner must then stop cleanly.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MLOPS, REPO_ROOT, SAMPLE, copy_workspace, start_owner

PAGES = [
    "README.md",
    "docs/data.md",
    "docs/features.md",
    "docs/experiments.md",
    "docs/evaluation.md",
    "docs/registry.md",
    "docs/serving.md",
    "docs/monitoring.md",
]
FENCE = re.compile(r"^```(?P<language>\S*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
EXPECTED_EXIT = re.compile(r"#\s*exit (?P<code>\d+)\b")


@dataclass(frozen=True)
class Command:
    text: str
    expected_exit: int


def runnable_commands(page: Path) -> list[Command]:
    """The page's ```sh blocks as commands, in order, comments kept only for ``# exit N``."""
    commands: list[Command] = []
    for block in FENCE.finditer(page.read_text(encoding="utf-8")):
        if block.group("language") != "sh":
            continue
        logical = block.group("body").replace("\\\n", " ")
        for line in logical.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            expected = EXPECTED_EXIT.search(line)
            commands.append(Command(line, int(expected.group("code")) if expected else 0))
    return commands


def run_page(page: str, root: Path, template: Path) -> None:
    shutil.copytree(SAMPLE, root / "sample_data", ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    env = {key: value for key, value in os.environ.items() if key != "MLOPS_WORKSPACE"}
    env["PATH"] = f"{MLOPS.parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    here = root
    owner = None
    if page != "README.md":  # `mlops init my-project`, as the README's walkthrough runs it, copied
        here = copy_workspace(template, root / "my-project")
        owner = start_owner(here, cwd=root)
    try:
        run_commands(page, here, env)
    finally:
        if owner is not None:
            owner.send_signal(signal.SIGTERM)
            assert owner.wait(90) == 0, owner.stderr.read() if owner.stderr else ""


def run_commands(page: str, here: Path, env: dict[str, str]) -> None:
    commands = runnable_commands(REPO_ROOT / page)
    assert commands, f"{page} has no ```sh example"
    for command in commands:
        parts = command.text.split(" && ")  # a chain runs part by part, so `cd` can take effect
        for position, part in enumerate(parts):
            expected = command.expected_exit if position == len(parts) - 1 else 0
            words = shlex.split(part, comments=True)
            if words[:2] == [".", ".venv/bin/activate"] or words[:2] == ["mlops", "console"]:
                continue
            if words[0] == "cd":
                here = (here / words[1]).resolve()
                continue
            result = subprocess.run(
                ["bash", "-c", part], cwd=here, env=env, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == expected, (
                f"{page}: `{part.strip()}` exited {result.returncode}, expected {expected}\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_the_examples_run_as_written(page: str, tmp_path: Path, workspace_template: Path) -> None:
    run_page(page, tmp_path, workspace_template)


def test_the_readme_walkthrough_starts_by_putting_mlops_on_path() -> None:
    """The README's first commands after `make` create a workspace with `mlops` reachable."""
    first = [command.text.split("#")[0].strip() for command in runnable_commands(REPO_ROOT / "README.md")[:2]]
    assert first == [". .venv/bin/activate", "mlops init my-project && cd my-project"]


def test_every_page_with_runnable_examples_is_run() -> None:
    """A new page's ```sh examples are run as soon as it is written (it is listed in PAGES)."""
    pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    with_examples = {str(page.relative_to(REPO_ROOT)) for page in pages if runnable_commands(page)}
    assert with_examples == set(PAGES)
