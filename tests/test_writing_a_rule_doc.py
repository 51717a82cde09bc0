"""docs/writing-a-rule.md works: its example rule, put in place as the page says (a module of
cardcheck/rules/payment/, found by the catalogue's own discovery, and its setting under its code in
configs/rules.yaml), runs its YAML cases on polars and DuckDB as tests/test_rule_cases.py runs
every rule's, documents itself, and finds the same with only the columns it declares. The module
is written to a temporary folder added to the package's path, and configs/ copied to a temporary
folder with the page's entry added, for the test only: neither cardcheck/ nor configs/ is
touched."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from test_rule_needs import declared, restricted

import cardcheck.config
import cardcheck.rules.payment
from cardcheck.config import Config, config_with, defaults_folder, load_config
from cardcheck.engines import make_engine
from cardcheck.engines.runner import run_rules
from cardcheck.errors import ConfigError
from cardcheck.model import SCHEMAS
from cardcheck.rules import by_code
from cardcheck.rules.cases import frames

ROOT = Path(__file__).parent.parent
PAGE = (ROOT / "docs" / "writing-a-rule.md").read_text(encoding="utf-8")


def _block(lang: str, marker: str) -> str:
    blocks = [b for b in re.findall(rf"^```{lang}\n(.*?)^```", PAGE, flags=re.DOTALL | re.MULTILINE)
              if marker in b]
    assert len(blocks) == 1, f"docs/writing-a-rule.md: one ```{lang} block with {marker!r}"
    return blocks[0]


SOURCE = _block("python", "RULE = Rule(")
SETTINGS = yaml.safe_load(_block("yaml", "# configs/rules.yaml"))
CASES = yaml.safe_load(_block("yaml", "cases:"))
CODE = CASES["rule"]
MODULE = f"cardcheck.rules.payment.{CODE}"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    """The page's module as cardcheck/rules/payment/<CODE>.py and its entry in a copy of
    configs/rules.yaml, for this test only; the defaults config with them."""
    assert f"cardcheck/rules/payment/{CODE}.py" in PAGE
    (tmp_path / f"{CODE}.py").write_text(SOURCE, encoding="utf-8")
    package = cardcheck.rules.payment
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    configs = shutil.copytree(defaults_folder(), tmp_path / "configs")
    shipped = yaml.safe_load((configs / "rules.yaml").read_text(encoding="utf-8"))
    shipped["rules"].update(SETTINGS["rules"])
    (configs / "rules.yaml").write_text(yaml.safe_dump(shipped, allow_unicode=True),
                                        encoding="utf-8")
    monkeypatch.setattr(cardcheck.config, "defaults_folder", lambda: configs)
    yield load_config()
    sys.modules.pop(MODULE, None)


def _config(overrides: dict[str, Any] | None, base: Config) -> Config:
    return config_with(overrides, "case config") if overrides else base


def _normal(value: Any) -> Any:
    return None if value is None else str(value)


def test_the_example_is_new_and_found_by_the_catalogue(example: Config) -> None:
    assert CODE not in {p.stem for p in Path(cardcheck.rules.payment.__file__).parent.iterdir()}
    rule = by_code(example)[CODE]
    assert rule.doc.startswith(f"{CODE} {rule.name}")
    doc = rule.doc.lower()
    assert "finds" in doc and "why" in doc and "false positive" in doc
    for table, cols in declared(rule).items():
        assert set(cols) <= set(SCHEMAS[table]), table
    kinds = {bool(case.get("expect")) for case in CASES["cases"]}
    assert kinds == {True, False}, "positive and negative cases"
    assert any("evidence" in row for case in CASES["cases"] for row in case.get("expect") or [])


def test_the_example_setting_is_in_configs_only(example: Config) -> None:
    shipped = yaml.safe_load((ROOT / "configs" / "rules.yaml").read_text(encoding="utf-8"))
    assert CODE not in shipped["rules"], "the page's entry is new as its rule is"
    assert by_code(example)[CODE].params(example) == SETTINGS["rules"][CODE]
    assert "defaults" not in SOURCE
    with pytest.raises(ConfigError, match=rf"rules\.{CODE}\.max_amount_fen: expected int"):
        config_with({"rules": {CODE: {"max_amount_fen": "5000"}}})


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_the_example_case(case: dict[str, Any], engine: str, example: Config) -> None:
    config = _config(case.get("config"), example)
    data = frames(case["tables"], config)
    result = run_rules(data, config, engine=make_engine(engine), select=[CODE])
    ran = [r for r in result.runs if r.code == CODE]
    assert ran and ran[0].status == "ran", ran
    expected = case.get("expect") or []
    columns = sorted({c for row in expected for c in row}) or ["id_number", "card_no"]
    got = result.findings.filter(pl.col("rule") == CODE).select(columns).to_dicts()
    got_rows = sorted(tuple(_normal(r[c]) for c in columns) for r in got)
    want_rows = sorted(tuple(_normal(r.get(c)) for c in columns) for r in expected)
    assert got_rows == want_rows, f"columns {columns}"
    # and the same with only the tables and columns the rule declares
    rule = by_code(config)[CODE]
    again = run_rules(restricted(data, rule), config, select=[CODE])
    assert again.findings.equals(run_rules(data, config, select=[CODE]).findings)
