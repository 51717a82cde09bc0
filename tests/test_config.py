"""Configuration: defaults load, a user's file merges over them, errors name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cardcheck.config import SWITCHES, config_with, defaults_folder, load_config
from cardcheck.engines import Engine
from cardcheck.errors import ConfigError
from cardcheck.model import SCHEMAS
from cardcheck.rules import by_code, catalogue
from cardcheck.rules.base import Context
from cardcheck.rules.cases import frames

BASE = load_config()


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


@pytest.mark.parametrize("text, message", [
    ("rules:\n  C01:\n    max_cards: 2\n", "rules.C01.max_cards: unknown setting (known: none)"),
    ("rules:\n  C04:\n    min_househods: 4\n",
     "rules.C04.min_househods: unknown setting (known: hubs, min_households)"),
    ("rules:\n  C04:\n    min_households: many\n",
     "rules.C04.min_households: expected int, got 'many'"),
    ("rules:\n  C04:\n    min_households: 2.5\n",
     "rules.C04.min_households: expected int, got 2.5"),
    ("rules:\n  C04:\n    hubs: holder\n", "rules.C04.hubs: expected list, got 'holder'"),
    ("rules:\n  C05:\n    require_period: 1\n", "rules.C05.require_period: expected bool, got 1"),
    ("rules:\n  C07:\n    min_households: true\n",
     "rules.C07.min_households: expected int, got True"),
    ("rules:\n  E01:\n    months: 2\n", "rules.E01.months: unknown setting (known: none)"),
    ("rules: [C01]\n", "rules: expected a mapping of rule codes to settings, got ['C01']"),
])
def test_rule_settings_are_checked_against_configs_rules_yaml(tmp_path: Path, text: str,
                                                               message: str) -> None:
    """A rule's settings are the ones configs/rules.yaml lists under its code, each taking a
    value of its default's type; anything else is refused when the config loads."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {message}"


def test_a_whole_number_may_stand_for_a_decimal_setting(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "rules:\n  C07:\n    min_share: 1\n"))
    assert by_code(cfg)["C07"].params(cfg) == {"min_households": 3, "min_share": 1}


def test_a_rule_given_as_null_keeps_its_settings(tmp_path: Path) -> None:
    for text in ("rules:\n  C04:\n", "rules:\n"):
        cfg = load_config(write(tmp_path, text))
        assert by_code(cfg)["C04"].params(cfg) == by_code(BASE)["C04"].params(BASE), text


def test_every_bad_rule_setting_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  C04: {min_households: x, colour: red}\n"
                           "  C08: {min_idle_months: 2.0, severity: low}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"3 problems in the configuration: {path}: rules.C04.min_households: expected int, "
        f"got 'x'；{path}: rules.C04.colour: unknown setting (known: hubs, min_households)；"
        f"{path}: rules.C08.min_idle_months: expected int, got 2.0")


def test_config_with_is_a_user_file_of_that_mapping(tmp_path: Path) -> None:
    overrides = {"rules": {"C04": {"min_households": 5}},
                 "tables": {"roll": {"columns": {"name": ["救助人"]}}}}
    mine = config_with(overrides)
    same = load_config(write(tmp_path, yaml.safe_dump(overrides, allow_unicode=True)))
    assert mine.rules == same.rules and mine.tables == same.tables and mine.funds == same.funds
    assert overrides["tables"]  # the caller's mapping is left as it was
    with pytest.raises(ConfigError, match="^case: rules.C04.min_households: expected int"):
        config_with({"rules": {"C04": {"min_households": "5"}}}, "case")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


class _Asked(dict[str, Any]):
    """A rule's ctx.params that remember which settings the rule asked for."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def test_every_setting_a_rule_reads_is_declared_in_configs_rules_yaml() -> None:
    """configs/rules.yaml is the one place a rule's settings are declared: every rule, its
    query built on empty tables of every kind and on the tables it needs alone (a rule reads its
    settings as it builds the query), asks ctx.params only for the settings listed under its
    code there (besides the facts its `prepare` adds), and asks for each of them (none is left
    over)."""
    shipped = yaml.safe_load((defaults_folder() / "rules.yaml").read_text(encoding="utf-8"))
    config, engine = load_config(), Engine()
    every = frames({table: [] for table in SCHEMAS}, config)
    for rule in catalogue(config):
        entry = shipped["rules"].get(rule.code) or {}
        declared = set(entry) - set(SWITCHES)
        assert all(entry[k] is not None for k in declared), f"{rule.code}: a default is its type"
        asked: set[str] = set()
        for tables in (every, {table: every[table] for table in rule.needs}):
            facts = rule.prepare(tables)[0] if rule.prepare else {}
            params = _Asked({**rule.params(config), **facts})
            ctx = Context({n: engine.lazy(df) for n, df in tables.items()}, config, params)
            try:
                rule.check(ctx)
            except KeyError:
                if params.asked <= set(params):  # not a setting: a real error
                    raise
            asked |= params.asked - set(facts)
        assert asked <= declared, (f"{rule.code} reads {sorted(asked - declared)}, not declared "
                                   f"under rules.{rule.code} in configs/rules.yaml")
        assert declared <= asked, (f"configs/rules.yaml: rules.{rule.code} declares "
                                   f"{sorted(declared - asked)}, which {rule.code} never reads")


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


def test_explain_checklists_replace_per_rule_and_fall_back_to_default(tmp_path: Path) -> None:
    base = load_config()
    assert {f"C0{i}" for i in range(1, 9)} | {f"E0{i}" for i in range(1, 10)} | {
        f"P0{i}" for i in range(1, 7)} | {"default"} == set(base.checklists)
    cfg = load_config(write(tmp_path, "explain:\n  checklists:\n    C04: [拨打关联手机号]\n"))
    assert cfg.checklist("C04") == ("拨打关联手机号",)
    assert cfg.checklist("E08") == base.checklist("E08") and cfg.checklist("E08")
    assert cfg.checklist("X01") == base.checklists["default"]


@pytest.mark.parametrize("text, message", [
    ("explain:\n  checklists:\n    C99: [看卡]\n",
     "explain.checklists.C99: expected a rule code (C01, C02"),
    ("explain:\n  checklists:\n    C04: 看卡\n",
     "explain.checklists.C04: expected a list of non-empty texts, got '看卡'"),
    ("explain:\n  checklist:\n    C04: [看卡]\n",
     "explain.checklist: expected the key checklists, got 'checklist'"),
])
def test_explain_checklists_are_checked(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {message}")
