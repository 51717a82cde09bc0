"""E09 from files as they come: an ID Excel stored as a number is found, on polars and DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardcheck.config import load_config
from cardcheck.engine import run_rules
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.ingest import load_inputs

IO = Path(__file__).parent.parent / "fixtures" / "io"


@pytest.mark.parametrize("engine", [Engine, DuckDBEngine])
def test_e09_on_loaded_files(engine) -> None:
    config = load_config()
    inputs = load_inputs({"roll": [IO / "roll_gbk.csv"], "accounts": [IO / "accounts_numbers.xlsx"]},
                         config)
    result = run_rules(inputs.frames, config, engine=engine(), select=["E09"])
    got = sorted(result.findings.select("hub", "severity", "id_number", "card_no", "evidence")
                 .iter_rows())
    assert got == [
        # the bank's 15-digit holder ID upgrades to the roll's 李四: another name on the card
        ("name_mismatch_bank", "medium", "141125196002020024", "6217000000000004",
         "身份证号 141125********0024 在名册中是 李四，银行账户的户名为 阿卜杜·艾力（卡 6217****0004）"),
        ("precision_lost", "medium", "141125197003030000", "6217000000000002",
         "银行账户中 王五 的身份证号 141125********0000 在 Excel 中被存成数字，后几位已丢失，无法用于比对"),
    ]
