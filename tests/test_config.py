"""Configuration: defaults load, a user's file merges over them, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardcheck.config import load_config
from cardcheck.errors import ConfigError
from cardcheck.rules import by_code


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load() -> None:
    cfg = load_config()
    assert set(cfg.household_funds) == {"城市低保", "农村低保"}
    assert "特困供养" in cfg.person_funds
    assert ("城市低保", "特困供养") in cfg.exclusive_pairs
    assert "户名" in cfg.tables["accounts"].columns["holder_name"]
    assert cfg.lists["deaths"].code == "E01" and cfg.lists["deaths"].from_offset_months == 1
    assert len(cfg.digest) == 64


def test_user_aliases_are_appended(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "tables:\n  roll:\n    columns:\n      name: [救助人]\n"))
    aliases = cfg.tables["roll"].columns["name"]
    assert aliases[0] == "姓名" and aliases[-1] == "救助人"


def test_user_rule_setting_overrides(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "rules:\n  C04:\n    min_households: 5\n"))
    assert by_code(cfg)["C01"].params(cfg) == {}
    assert cfg.rule_params("C04")["min_households"] == 5


@pytest.mark.parametrize(
    "text, message",
    [
        ("funds:\n  城市低保:\n    level: family\n",
         "funds.城市低保.level: expected one of ['household', 'person'], got 'family'"),
        ("exclusive_pairs:\n  - [城市低保, 五保户]\n", "exclusive_pairs[0]: expected funds named"),
        ("rules:\n  C01:\n    severity: urgent\n", "rules.C01.severity: expected one of"),
        ("lists:\n  deaths:\n    window: {from: died_on}\n", "lists.deaths.window.from: expected null or a column"),
        ("tables:\n  roll:\n    columns:\n      name: 姓名\n", "tables.roll.columns.name: expected a list"),
        ("colour: red\n", "colour: expected one of the sections"),
        ("rules: [C01\n", "not valid YAML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_unknown_rule_setting_is_named() -> None:
    cfg = load_config()
    cfg.rules["C01"] = {"max_cards": 2}
    with pytest.raises(ConfigError, match=r"rules.C01.max_cards: unknown setting"):
        by_code(cfg)["C01"].params(cfg)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_every_rules_settings_in_configs_match_its_declared_defaults() -> None:
    """configs/rules.yaml is where an inspector reads and changes a rule's settings; the rule
    module declares the same keys and values (its types check a user's values)."""
    from cardcheck.rules import catalogue

    config = load_config()
    for rule in catalogue(config):
        listed = {k: v for k, v in config.rules.get(rule.code, {}).items()
                  if k not in ("enabled", "severity")}
        assert listed == rule.defaults, rule.code


def test_every_problem_of_a_config_is_reported_at_once(tmp_path: Path) -> None:
    cfg = write(tmp_path, "rules:\n  C01: {severity: urgent}\n  C02: 5\n"
                          "tables:\n  payments:\n    units: {amount: cents}\n"
                          "reversals: {window_days: -1}\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    text = str(info.value)
    assert text.startswith("4 problems in the configuration: ")
    for key in ("tables.payments.units.amount: expected yuan or fen, got 'cents'",
                "rules.C01.severity: expected one of", "rules.C02: expected a mapping of settings",
                "reversals.window_days: expected a whole number of days"):
        assert key in text, key
