"""Header problems stop the run with a message naming the file, the column and the aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardcheck.config import load_config
from cardcheck.errors import InputError
from cardcheck.ingest import Inputs, load_file, load_inputs

IO = Path(__file__).parent.parent / "fixtures" / "io"
CONFIG = load_config()


def error_of(name: str, kind: str) -> str:
    with pytest.raises(InputError) as info:
        load_file(IO / name, kind, CONFIG)
    return str(info.value)


def test_missing_required_column_names_aliases_tried() -> None:
    assert error_of("payments_no_amount.csv", "payments") == (
        "payments_no_amount.csv：缺少必需的列 amount（已尝试：金额、交易金额、发放金额、代发金额）")


def test_two_headers_for_one_column() -> None:
    assert error_of("roll_two_names.csv", "roll") == (
        "roll_two_names.csv：表头“姓名”和“成员姓名”都对应 name 列，请删去或改名其中一列")


def test_duplicate_header() -> None:
    assert error_of("roll_dup_header.csv", "roll") == (
        "roll_dup_header.csv：第 1 行表头“身份证号”出现了两次（第 2 列和第 3 列），无法确定用哪一列")


def test_no_header_at_all() -> None:
    assert error_of("unrelated.csv", "roll") == (
        "unrelated.csv：在前 3 行中找不到 roll 表的表头（没有一格是已知的列名，如 姓名、身份证号、"
        "救助类别；全部列名见 configs/columns.yaml）")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="文件不存在"):
        load_file(tmp_path / "nope.csv", "roll", CONFIG)
    (tmp_path / "empty.csv").write_bytes(b"\n \n")
    with pytest.raises(InputError, match="empty.csv：文件是空的"):
        load_file(tmp_path / "empty.csv", "roll", CONFIG)


def test_unknown_kind() -> None:
    with pytest.raises(InputError, match="unknown input kind 'housing'"):
        load_file(IO / "roll_gbk.csv", "housing", CONFIG)


def test_undecodable_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名,身份证号,救助类别\n".encode() + b"\x81\xff\xfe\x80\n")
    with pytest.raises(InputError, match="无法识别文件的文字编码"):
        load_file(bad, "roll", CONFIG)


def test_header_matching_ignores_case_spaces_brackets_and_zhang(tmp_path: Path) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("卡 号,户名,开户日期（开卡）,客户帐号\n1,张三,2019-01-01,\n", encoding="utf-8")
    # 客户帐号 ≡ 客户账号 (card_no) and 卡号 (card_no): two headers for one column
    with pytest.raises(InputError, match="表头“卡 号”和“客户帐号”都对应 card_no 列"):
        load_file(src, "accounts", CONFIG)


def test_load_inputs_concatenates_and_reports_progress() -> None:
    seen: list[str] = []
    got = load_inputs({
        "roll": [IO / "roll_gbk.csv", IO / "roll_fullwidth.csv"],
        "payments": [IO / "payments_bom.csv"],
        "transactions": [],
        "deaths": [IO / "deaths_legacy.xls"],
    }, CONFIG, progress=seen.append)
    assert isinstance(got, Inputs)
    assert sorted(got.frames) == ["deaths", "payments", "roll"]
    assert got.frames["roll"].height == 5
    assert got.frames["roll"].get_column("source_file").unique(maintain_order=True).to_list() == [
        "roll_gbk.csv", "roll_fullwidth.csv"]
    assert [c.file for c in got.counts] == ["roll_gbk.csv", "roll_fullwidth.csv",
                                            "payments_bom.csv", "deaths_legacy.xls"]
    assert got.rejects.height == sum(c.rejected for c in got.counts) == 12
    assert got.rejects.columns == ["file", "line", "column", "value", "reason"]
    assert seen == ["reading roll: roll_gbk.csv", "reading roll: roll_fullwidth.csv",
                    "reading payments: payments_bom.csv", "reading deaths: deaths_legacy.xls"]
