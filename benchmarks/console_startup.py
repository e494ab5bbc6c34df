"""Cold start of the console to its first paint, as a user sees it in a real terminal.

Each run starts ``mlops console`` in a fresh tmux pane (a real pseudo-terminal) and polls
the pane until the Home screen's frame is drawn ("first paint") and until the workspace
status is on it ("status shown": the database opened in a worker after the paint). Side by
side, the same measurement of a bare Textual app that draws one line: the floor any
Textual console pays. Needs tmux (`apt-get install tmux`).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
POLL_SECONDS = 0.005
TIMEOUT_SECONDS = 20.0
BIN = Path(sys.executable).parent
BARE_TEXTUAL_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Bare(App):\n"
    "    def compose(self):\n"
    "        yield Static('bare textual app painted')\n"
    "Bare().run()\n"
)


def time_to_text(command: list[str], *markers: str) -> list[float]:
    """Seconds from launch until each marker is on screen, in one tmux pane."""
    session = f"bench-{time.monotonic_ns()}"
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", *command], check=True
    )
    seen: list[float] = []
    try:
        while len(seen) < len(markers):
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise TimeoutError(f"{markers[len(seen)]!r} never appeared for {command}")
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            while len(seen) < len(markers) and markers[len(seen)] in screen:
                seen.append(time.perf_counter() - started)
            time.sleep(POLL_SECONDS)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return seen


def wait_for_release(workspace: Path) -> None:
    from engine.lock import read_owner

    deadline = time.monotonic() + TIMEOUT_SECONDS
    while read_owner(workspace / ".mlops") is not None:
        if time.monotonic() > deadline:
            raise TimeoutError("the console did not release the workspace")
        time.sleep(0.01)


def main() -> None:
    if shutil.which("tmux") is None:
        sys.exit("console_startup needs tmux: apt-get install tmux")
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "ws"
        subprocess.run(
            [str(BIN / "mlops"), "init", str(workspace), "--json"], check=True, capture_output=True
        )
        script = Path(folder) / "bare.py"
        script.write_text(BARE_TEXTUAL_APP)
        paint, status, bare = [], [], []
        for _ in range(RUNS):
            first_paint, status_shown = time_to_text(
                [str(BIN / "mlops"), "console", "--workspace", str(workspace)], "Recent activity", "owner pid"
            )
            wait_for_release(workspace)
            paint.append(first_paint)
            status.append(status_shown)
            bare.extend(time_to_text([sys.executable, str(script)], "bare textual app painted"))
    print(f"### Console cold start ({RUNS} runs, tmux 120x36, median / max seconds)\n")
    print("| what | median | max |")
    print("| --- | --- | --- |")
    for label, values in (
        ("bare Textual app: first paint", bare),
        ("`mlops console`: first paint (frame and Home drawn)", paint),
        ("`mlops console`: workspace status shown (DuckDB opened in a worker)", status),
    ):
        print(f"| {label} | {statistics.median(values):.3f} | {max(values):.3f} |")
    print()


if __name__ == "__main__":
    main()
