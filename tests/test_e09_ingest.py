"""E09 from files as they come: an ID Excel stored as a number is found, on polars and DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardcheck.config import load_config
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.engines.runner import run_rules
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
        # rows whose amount or start date was damaged now load (without that field), and the
        # fixture gives several of them IDs already on the roll under other names
        ("name_conflict_roll", "medium", "141125196002020024", "6217000000000001",
         "名册中同一身份证号 141125********0024 对应不同姓名: 孙八 / 李四"),
        ("name_conflict_roll", "medium", "141125197003030034", "6217000000000002",
         "名册中同一身份证号 141125********0034 对应不同姓名: 周九 / 王五"),
        ("name_mismatch_bank", "medium", "141125195001010014", "6217000000000001",
         "身份证号 141125********0014 在名册中是 钱七，银行账户的户名为 张三（卡 6217****0001）"),
        # the bank's 15-digit holder ID upgrades to the roll's ID: another name on the card
        ("name_mismatch_bank", "medium", "141125196002020024", "6217000000000004",
         "身份证号 141125********0024 在名册中是 孙八，银行账户的户名为 阿卜杜·艾力（卡 6217****0004）"),
        ("name_mismatch_bank", "medium", "141125198004040044", "6217000000000003",
         "身份证号 141125********0044 在名册中是 吴十，银行账户的户名为 赵六（卡 6217****0003）"),
        ("precision_lost", "medium", "141125197003030000", "6217000000000002",
         "银行账户中 王五 的身份证号 141125********0000 在 Excel 中被存成数字，后几位已丢失，无法用于比对"),
    ]
