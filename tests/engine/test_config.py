from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.config import DEFAULT_CONFIG_TOML, Config, load_config, parse_config
from engine.errors import ConfigError


def test_the_documented_defaults_are_the_defaults() -> None:
    assert parse_config(tomllib.loads(DEFAULT_CONFIG_TOML)) == Config()


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_values_override_defaults_and_ints_count_as_floats() -> None:
    config = parse_config({"serving": {"port": 9001}, "gates": {"min_f1": 1}})
    assert config.serving.port == 9001
    assert config.gates.min_f1 == 1.0 and isinstance(config.gates.min_f1, float)
    assert config.serving.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"serving": {"prot": 1}}, "unknown setting serving.prot"),
        ({"servng": {}}, r"unknown section \[servng\]"),
        ({"serving": {"port": "8080"}}, "serving.port = '8080' is a str; expected a int"),
        ({"console": {"refresh_seconds": True}}, "console.refresh_seconds = True is a bool"),
        ({"fairness": {"sensitive_attributes": "gender"}}, "fairness.sensitive_attributes"),
        ({"serving": 3}, r"\[serving\] must be a table"),
        (
            {"monitors": {"drift_share": 0}},
            r"\[monitors\] drift_share: 0 is not a share; expected a number above 0",
        ),
        ({"monitors": {"drift_share": 1.5}}, r"drift_share: 1.5 is not a share"),
    ],
)
def test_wrong_settings_name_the_key_and_the_expectation(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[serving\n")
    with pytest.raises(ConfigError, match=rf"{path}: not valid TOML"):
        load_config(path)


def test_the_written_file_documents_only_settings_a_command_reads() -> None:
    """Monitoring settings arrive with their command (the monitoring issue: through the loop);
    serving's are read by `mlops serve` and its serving processes."""
    sections = set(tomllib.loads(DEFAULT_CONFIG_TOML))
    assert sections == {
        "tracking",
        "serving",
        "kserve",
        "gates",
        "fairness",
        "business",
        "accuracy",
        "monitors",
        "alerts",
        "loop",
        "console",
    }


def test_a_workspace_made_with_the_old_monitoring_section_still_opens() -> None:
    assert parse_config({"monitoring": {"drift_threshold": 0.1, "drift_share": 0.5}}) == Config()
