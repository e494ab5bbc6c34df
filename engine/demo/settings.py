"""The demo workspace's settings: the few defaults the demo changes, and why.

They are written into the workspace's own ``config.toml`` (each key replaced where the file
has it), so a person opening the demo workspace later sees the same settings the demo ran
with, each marked by a comment, instead of a hidden override in code.
"""

from __future__ import annotations

import re

WEEK_ROWS = 5_000
"""Every row of a production week is replayed: the drift tests and the accuracy windows then
see the weeks docs/monitoring.md describes."""
REPLAY_RATE = 1_250.0
"""Requests a second; a week takes four seconds at this rate (the server keeps it on two cores)."""
DRIFT_WINDOW_SECONDS = 4
"""The drift monitor's live window is by logged time (docs/monitoring.md): a replayed week is
logged within the seconds it takes, so a window as long as one week's replay, checked once the
week's log has landed, holds that week's rows and none of the week before."""
DRIFT_SHARE = 0.2
"""The share of drifted columns that alerts. Week 2's drift is mild and narrow (age and order
value, 2 of 10 columns), under the default half; the demo alerts on a fifth, as a team would
whose model leans on a few columns, so both drifting weeks raise an alert and week 1 none."""
CANARY_PERCENT = 50.0
CANARY_REQUESTS = 100

FAIRNESS_NOTE = (
    "the sample data treats age groups and genders unequally on purpose, so the default fairness "
    "bounds (ratio >= 0.8, differences <= 0.1) refuse every model trained on it; this demo workspace "
    "loosens them in .mlops/config.toml ([fairness] min_ratio = 0.6, max_difference = 0.3) so the "
    "gates, the pipeline and the retrain loop run as they would on fair data; the fairness table "
    "still shows the gaps"
)

DRIFT_NOTE = (
    f"a drift alert when at least {DRIFT_SHARE:.0%} of the columns drift ([monitors] drift_share = "
    f"{DRIFT_SHARE:g} in .mlops/config.toml; the default is 50%), so week 2's mild drift on two "
    "columns is seen"
)

OVERRIDES: dict[str, dict[str, str]] = {
    "fairness": {"min_ratio": "0.6", "max_difference": "0.3"},
    "monitors": {"drift_window": f'"{DRIFT_WINDOW_SECONDS}s"', "drift_share": str(DRIFT_SHARE)},
    "alerts": {"stdout": "false", "cooldown_minutes": "0.0"},
    "loop": {
        "enabled": "true",
        "triggers": '["accuracy"]',
        "canary_percent": str(CANARY_PERCENT),
        "canary_requests": str(CANARY_REQUESTS),
    },
}
"""What the demo changes. Alerts: not on standard output (``--json`` prints one document; the
summary lists them), and no cool-down, so week 3's drift is an alert of its own after week 2's.
Loop: on, retraining on the accuracy alert (drift comes before any label, when the loop has
nothing new to learn from), with a canary small enough to judge in a second of traffic."""

MARK = "  # set by mlops demo"


def with_overrides(text: str, overrides: dict[str, dict[str, str]] = OVERRIDES) -> str:
    """``text`` (a config.toml) with each key of ``overrides`` set: replaced in its section,
    added under the section's header if the file lacks it, or in a new section at the end."""
    lines = text.splitlines()
    for section, keys in overrides.items():
        for key, value in keys.items():
            lines = _set(lines, section, key, value)
    return "\n".join(lines) + "\n"


def _set(lines: list[str], section: str, key: str, value: str) -> list[str]:
    header = f"[{section}]"
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    current: str | None = None
    header_at: int | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped
            if current == header:
                header_at = index
        elif current == header and assignment.match(line):
            return [*lines[:index], f"{key} = {value}{MARK}", *lines[index + 1 :]]
    if header_at is not None:
        return [*lines[: header_at + 1], f"{key} = {value}{MARK}", *lines[header_at + 1 :]]
    return [*lines, "", header, f"{key} = {value}{MARK}"]
