"""docs/writing-a-rule.md works: its example rule, put in place as the page says (a module of
cardcheck/rules/payment/, found by the catalogue's own discovery), runs its YAML cases on polars
and DuckDB as tests/test_rule_cases.py runs every rule's, documents itself, and finds the same
with only the columns it declares. The module is written to a temporary folder added to the
package's path for the test, never into cardcheck/."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from test_rule_needs import declared, restricted

import cardcheck.rules.payment
from cardcheck.config import Config, load_config
from cardcheck.engines import make_engine
from cardcheck.engines.runner import run_rules
from cardcheck.model import SCHEMAS
from cardcheck.rules import by_code
from cardcheck.rules.cases import frames

PAGE = (Path(__file__).parent.parent / "docs" / "writing-a-rule.md").read_text(encoding="utf-8")
BASE = load_config()


def _block(lang: str, marker: str) -> str:
    blocks = [b for b in re.findall(rf"^```{lang}\n(.*?)^```", PAGE, flags=re.DOTALL | re.MULTILINE)
              if marker in b]
    assert len(blocks) == 1, f"docs/writing-a-rule.md: one ```{lang} block with {marker!r}"
    return blocks[0]


SOURCE = _block("python", "RULE = Rule(")
CASES = yaml.safe_load(_block("yaml", "cases:"))
CODE = CASES["rule"]
MODULE = f"cardcheck.rules.payment.{CODE}"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The page's module as cardcheck/rules/payment/<CODE>.py, for this test only."""
    assert f"cardcheck/rules/payment/{CODE}.py" in PAGE
    (tmp_path / f"{CODE}.py").write_text(SOURCE, encoding="utf-8")
    package = cardcheck.rules.payment
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    yield
    sys.modules.pop(MODULE, None)


def _config(overrides: dict[str, Any] | None, tmp: Path) -> Config:
    if not overrides:
        return BASE
    path = tmp / "case.yaml"
    path.write_text(yaml.safe_dump(overrides, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def _normal(value: Any) -> Any:
    return None if value is None else str(value)


def test_the_example_is_new_and_found_by_the_catalogue(example) -> None:
    assert CODE not in {p.stem for p in Path(cardcheck.rules.payment.__file__).parent.iterdir()}
    rule = by_code(BASE)[CODE]
    assert rule.doc.startswith(f"{CODE} {rule.name}")
    doc = rule.doc.lower()
    assert "finds" in doc and "why" in doc and "false positive" in doc
    for table, cols in declared(rule).items():
        assert set(cols) <= set(SCHEMAS[table]), table
    kinds = {bool(case.get("expect")) for case in CASES["cases"]}
    assert kinds == {True, False}, "positive and negative cases"
    assert any("evidence" in row for case in CASES["cases"] for row in case.get("expect") or [])


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_the_example_case(case: dict[str, Any], engine: str, example, tmp_path: Path) -> None:
    config = _config(case.get("config"), tmp_path)
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
