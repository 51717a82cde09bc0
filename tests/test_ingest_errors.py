"""Header problems stop the run with a message naming the file, the column and the aliases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cardcheck.config import load_config
from cardcheck.errors import InputError
from cardcheck.ingest import Inputs, load_file, load_inputs
from cardcheck.ingest.header import header_forms

IO = Path(__file__).parent.parent / "fixtures" / "io"
CONFIG = load_config()


def error_of(name: str, kind: str) -> str:
    with pytest.raises(InputError) as info:
        load_file(IO / name, kind, CONFIG)
    return str(info.value)


def test_missing_required_column_names_aliases_tried() -> None:
    assert error_of("payments_no_amount.csv", "payments") == (
        "payments_no_amount.csv：缺少必需的列 amount（已尝试：金额、交易金额、发放金额、代发金额、"
        "入账金额、实发金额）")


def test_two_headers_for_one_column_are_resolved_by_rank() -> None:
    got = load_file(IO / "roll_two_names.csv", "roll", CONFIG)
    assert got.frame.get_column("name").to_list() == ["张三"]
    assert ("成员姓名", "已用“姓名”作 name 列") in got.counts.ignored_headers


def test_duplicate_header_stops_only_when_the_columns_disagree(tmp_path: Path) -> None:
    assert error_of("roll_dup_header.csv", "roll") == (
        "roll_dup_header.csv：第 2 列和第 3 列表头都是“身份证号”，但内容不同（第 2 行：“1”与“2”），"
        "无法确定用哪一列；请删去或改名其中一列")
    same = tmp_path / "same.csv"
    same.write_text("姓名,身份证号,身份证号,救助类别\n张三,141125195001010014,141125195001010014,"
                    "农村低保\n", encoding="utf-8")
    got = load_file(same, "roll", CONFIG)
    assert got.frame.get_column("id_number").to_list() == ["141125195001010014"]


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
    # 客户帐号 ≡ 客户账号 (card_no, ranked below 卡号): 卡 号 is read, 客户帐号 ignored; the
    # bracketed note of 开户日期（开卡） is no part of the name
    got = load_file(src, "accounts", CONFIG)
    assert got.frame.select("card_no", "holder_name", "open_date").row(0) == (
        "1", "张三", dt.date(2019, 1, 1))
    assert ("客户帐号", "已用“卡 号”作 card_no 列") in got.counts.ignored_headers


@pytest.mark.parametrize("header, unit", [
    ("公民身份号码（18位）", None), ("*身份证号", None), ("身份证号*", None), ("身份证\n号码", None),
    ("身份证号：", None), ("身份证号(必填)", None), ("身份证号【必填】", None)])
def test_header_notes_marks_and_line_breaks(header: str, unit: str | None) -> None:
    assert header_forms(header)[-1][0] in ("身份证号", "身份证号码", "公民身份号码")


@pytest.mark.parametrize("header, unit", [
    ("保障金额（元/月）", "yuan"), ("月保障金额(元)", "yuan"), ("金额（分）", "fen"),
    ("保障金额（元/人/月）", "yuan"), ("补贴标准（元/人·月）", "yuan")])
def test_header_units(header: str, unit: str) -> None:
    assert header_forms(header)[-1][1] == unit


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
    assert got.frames["roll"].height == 9
    assert got.frames["roll"].get_column("source_file").unique(maintain_order=True).to_list() == [
        "roll_gbk.csv", "roll_fullwidth.csv"]
    assert [c.file for c in got.counts] == ["roll_gbk.csv", "roll_fullwidth.csv",
                                            "payments_bom.csv", "deaths_legacy.xls"]
    assert got.rejects.height == sum(c.rejected + c.dropped for c in got.counts) == 12
    assert got.rejects.columns == ["file", "sheet", "line", "column", "value", "reason"]
    assert seen == ["reading roll: roll_gbk.csv", "reading roll: roll_fullwidth.csv",
                    "reading payments: payments_bom.csv", "reading deaths: deaths_legacy.xls"]
