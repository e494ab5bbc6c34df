"""One browser session's console: what ``mlops console --web`` runs for each tab.

``python -P -m console.web_session SERVER_PID DIR`` is ``mlops console --workspace DIR``: it owns
the workspace or attaches to its owner (console/web.py), with one duty more. When the server
that started it is gone without asking it to quit (killed with SIGKILL), the console quits as
SIGTERM makes it, instead of owning the workspace with nobody left to see it: Textual's web
driver does not stop at the end of its input. This module is light: a tab's first paint pays
for nothing of the server's (aiohttp, textual-serve).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

WATCH_SECONDS = 0.5


def main(argv: list[str] | None = None) -> None:
    server_pid, root = sys.argv[1:] if argv is None else argv
    threading.Thread(
        target=_quit_when_orphaned, args=(int(server_pid),), name="mlops-web-session-watch", daemon=True
    ).start()
    from console.launcher import main as mlops

    mlops(["console", "--workspace", root])


def _quit_when_orphaned(server_pid: int) -> None:
    """SIGTERM this process once its parent is no longer the server (it was re-parented)."""
    ticking = threading.Event()
    while os.getppid() == server_pid:
        ticking.wait(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    main()
