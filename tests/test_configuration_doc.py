"""docs/configuration.md stays true: every YAML example on it is a valid --config file, every
section of configs/ is described, the error messages it quotes are the ones given, and the
merge behaves as its table says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cardcheck.config import DEFAULT_FILES, defaults_folder, load_config
from cardcheck.errors import ConfigError
from cardcheck.ledger.sampling import weights_of
from cardcheck.report.spec import report_spec
from cardcheck.rules import catalogue

ROOT = Path(__file__).parent.parent
PAGE = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", PAGE, flags=re.DOTALL | re.MULTILINE)
BASE = load_config()


def _load(tmp_path: Path, text: str):
    path = tmp_path / "本县设置.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("text", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_every_example_is_a_valid_config(text: str, tmp_path: Path) -> None:
    config = _load(tmp_path, text)
    weights_of(config, report_spec(config).statuses)
    for rule in catalogue(config):
        rule.params(config)


def test_every_file_and_section_is_described() -> None:
    for name in DEFAULT_FILES:
        assert f"configs/{name}" in PAGE, name
        raw = yaml.safe_load((defaults_folder() / name).read_text(encoding="utf-8"))
        for section in raw:
            assert f"`{section}`" in PAGE, f"{name}: section {section} is not described"
    assert "`layouts`" in PAGE and "bank-layouts.md" in PAGE


def test_the_quoted_errors_are_the_real_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("本县设置.yaml").write_text("funds:\n  城市低保:\n    deadline_day: 40\n",
                                  encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config("本县设置.yaml")
    assert f"cardcheck: error: {err.value}" in PAGE
    Path("本县设置.yaml").write_text("rules:\n  C04:\n    min_househods: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config("本县设置.yaml")
    assert f"cardcheck: error: {err.value}" in PAGE


def test_the_merge_is_as_the_page_says(tmp_path: Path) -> None:
    config = _load(tmp_path, """\
tables:
  payments:
    required: [card_no, amount]
    columns:
      card_no: [收款人卡号, 卡号]
    units: {amount: fen}
funds:
  特困供养:
    variants: [五保]
rules:
  C04:
    hubs: [holder]
""")
    default, mine = BASE.tables["payments"], config.tables["payments"]
    # aliases appended after the defaults, none repeated; required replaced; units added
    assert mine.columns["card_no"] == (*default.columns["card_no"], "收款人卡号")
    assert mine.columns["amount"] == default.columns["amount"]
    assert mine.required == ("card_no", "amount")
    assert mine.units == {"amount": "fen"}
    # mappings merged key by key, lists replaced
    fund, before = config.funds["特困供养"], BASE.funds["特困供养"]
    assert fund.variants == ("五保",) and fund.memo == before.memo
    assert fund.level == before.level and fund.deadline_day == before.deadline_day
    assert config.rules["C04"] == {**BASE.rules["C04"], "hubs": ["holder"]}
    assert set(config.funds) == set(BASE.funds)
