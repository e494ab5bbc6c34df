"""Alerts: kept, deduplicated within the cool-down, acknowledged, and delivered to a log file
and a real webhook receiver on 127.0.0.1 (Slack's incoming-webhook JSON), a failing sink
retried and recorded without reaching the monitor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from engine.cli.output import Output
from engine.errors import InvalidInput
from engine.facade import Engine
from tests.conftest import mlops_json, run_mlops


class Receiver:
    """A webhook on 127.0.0.1 that keeps what it was sent, refusing the first ``failures`` posts."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[dict[str, object]] = []
        self.failures = failures
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(500)
                else:
                    outer.received.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/team"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver(failures=1)
    yield hook
    hook.close()


def configured(workspace: Path, webhook: str) -> None:
    (workspace / ".mlops" / "config.toml").write_text(
        f'[alerts]\nwebhook_url = "{webhook}"\nstdout = false\nretry_seconds = 0.05\n'
    )


def test_alerts_are_kept_deduplicated_delivered_and_acknowledged(workspace: Path, receiver: Receiver) -> None:
    configured(workspace, receiver.url)
    with Engine.open(workspace, command="pytest") as engine:
        first = engine.alerts.raise_alert(
            "drift:churn-api", "warning", "dataset drift: 6 of 10 columns", {"share": 0.6}
        )
        assert first is not None and first.status == "open"
        assert (
            engine.alerts.raise_alert("drift:churn-api", "warning", "dataset drift: 6 of 10 columns") is None
        )
        other = engine.alerts.raise_alert("accuracy:churn-api", "critical", "accuracy 0.61 < 0.75")
        assert other is not None
        assert engine.alerts.flush()
        assert [a.id for a in engine.alerts.all()] == [other.id, first.id]
        assert engine.alerts.all()[1].repeats == 1 and engine.alerts.all()[1].data == {"share": 0.6}
        assert [body["text"] for body in receiver.received] == [
            f"[warning] drift:churn-api: dataset drift: 6 of 10 columns (alert {first.id})",
            f"[critical] accuracy:churn-api: accuracy 0.61 < 0.75 (alert {other.id})",
        ]
        attempts = engine.alerts.deliveries(first.id)
        assert [(sink, ok) for sink, _, ok, _ in attempts if sink == "webhook"] == [
            ("webhook", False),
            ("webhook", True),
        ]
        assert "HTTPError" in next(error for sink, _, ok, error in attempts if not ok)
        logged = (workspace / ".mlops" / "alerts.log").read_text().splitlines()
        assert [json.loads(line)["id"] for line in logged] == [first.id, other.id]

        acknowledged = engine.alerts.acknowledge(first.id)
        assert acknowledged.status == "acknowledged" and acknowledged.acknowledged_by
        again = engine.alerts.raise_alert("drift:churn-api", "warning", "dataset drift: 6 of 10 columns")
        assert again is not None and again.id != first.id  # acknowledged: the next one is news
        with pytest.raises(InvalidInput, match="already acknowledged"):
            engine.alerts.acknowledge(first.id)
        with pytest.raises(InvalidInput, match="no alert 999"):
            engine.alerts.acknowledge(999)
        with pytest.raises(InvalidInput, match="severity 'loud'"):
            engine.alerts.raise_alert("x", "loud", "y")
        assert engine.status().counts.open_alerts == 2


def test_a_dead_webhook_is_given_up_on_without_failing_anyone(workspace: Path) -> None:
    configured(workspace, "http://127.0.0.1:9/nobody-listens")
    with Engine.open(workspace, command="pytest") as engine:
        alert = engine.alerts.raise_alert("drift:churn-api", "warning", "drift")
        assert alert is not None and engine.alerts.flush()
        webhook = [ok for sink, _, ok, _ in engine.alerts.deliveries(alert.id) if sink == "webhook"]
        assert webhook == [False, False, False]  # three attempts, all recorded
    listed = mlops_json(workspace, "alerts", "list")["alerts"]
    assert [a["id"] for a in listed] == [alert.id]
    assert mlops_json(workspace, "alerts", "ack", str(alert.id))["status"] == "acknowledged"
    assert mlops_json(workspace, "alerts", "list")["alerts"] == []
    missing = run_mlops("alerts", "ack", "77", "-w", str(workspace))
    assert (
        missing.returncode == 2
        and missing.stderr == "error: no alert 77; `mlops alerts list` shows the open ones\n"
    )


def test_an_alert_raised_just_before_closing_is_delivered_first(workspace: Path, receiver: Receiver) -> None:
    """A command owning the workspace for its own duration (`mlops monitor run`) exits right
    after raising: closing waits for the sinks, the first failure's retry included."""
    configured(workspace, receiver.url)
    with Engine.open(workspace, command="pytest") as engine:
        alert = engine.alerts.raise_alert("accuracy:churn-api", "critical", "f1 0.59 < 0.79")
        assert alert is not None
    assert [body["text"] for body in receiver.received] == [
        f"[critical] accuracy:churn-api: f1 0.59 < 0.79 (alert {alert.id})"
    ]
    with Engine.open(workspace, command="pytest") as engine:
        assert [ok for sink, _, ok, _ in engine.alerts.deliveries(alert.id) if sink == "webhook"] == [
            False,
            True,
        ]


def test_with_json_an_alert_printed_meanwhile_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """`[alerts] stdout` prints an alert line on the owner's stdout; a command run with --json
    owns its stdout for its one document, so the line goes to stderr instead."""
    import argparse

    from engine.cli import execute

    def raising_an_alert(args: argparse.Namespace, out: Output) -> int:
        print("ALERT 7 [warning] drift:churn-api: 4 of 10 columns drifted")  # as the stdout sink does
        out.emit({"checked": 1}, lambda console: None)
        return 0

    assert execute(argparse.Namespace(handler=raising_an_alert, json=True, debug=False)) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out) == {"checked": 1}
    assert printed.err == "ALERT 7 [warning] drift:churn-api: 4 of 10 columns drifted\n"
