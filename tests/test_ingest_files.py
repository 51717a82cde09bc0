"""Every fixture in fixtures/io loads to the right canonical values, and its counts add up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from cardcheck.config import load_config
from cardcheck.ingest import FileCounts, Loaded, load_file

IO = Path(__file__).parent.parent / "fixtures" / "io"
CONFIG = load_config()


def load(name: str, kind: str, config=CONFIG) -> Loaded:
    loaded = load_file(IO / name, kind, config)
    c = loaded.counts
    assert c.read == c.loaded + c.rejected + c.skipped, c
    assert c.skipped == sum(c.skipped_reasons.values())
    assert loaded.frame.height == c.loaded and loaded.rejects.height == c.rejected + c.dropped
    return loaded


def rows(df: pl.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(r) for r in df.select(cols).iter_rows()]


def rejects(loaded: Loaded) -> list[tuple]:
    return rows(loaded.rejects, "line", "column", "value", "reason")


def test_gbk_roll_with_title_blanks_total_and_footer() -> None:
    got = load("roll_gbk.csv", "roll")
    assert got.counts == FileCounts(
        file="roll_gbk.csv", kind="roll", format="csv", encoding="gbk", header_line=3, read=13,
        loaded=7, rejected=2, skipped=4,
        skipped_reasons={"blank": 2, "total (合计)": 1, "footer (制表人)": 1}, title_lines=2)
    assert got.counts.dropped == 4
    # a damaged amount or start date is dropped and the row loads: the beneficiary stays
    assert rows(got.frame, "source_line", "name", "id_number", "id_status", "fund",
                "monthly_amount", "start_date", "card_no") == [
        (4, "张三", "14112519500101009X", "ok", "农村低保", 123450, dt.date(2019, 4, 15),
         "6217000000000001"),
        (5, "李四", "141125196002020024", "upgraded15", "农村低保", 30000, dt.date(2019, 4, 1),
         "6217000000000001"),
        (7, "王五", "141125197003030034", "ok", "特困供养", 60000, dt.date(2019, 4, 15),
         "6217000000000002"),
        (10, "钱七", "141125195001010014", "ok", "农村低保", None, dt.date(2019, 4, 15),
         "6217000000000005"),
        (11, "孙八", "141125196002020024", "ok", "农村低保", None, dt.date(2019, 4, 15),
         "6217000000000006"),
        (12, "周九", "141125197003030034", "ok", "农村低保", 30000, None, "6217000000000007"),
        (13, "吴十", "141125198004040044", "ok", "农村低保", 30000, None, "6217000000000008"),
    ]
    dropped = "字段已置空，行已载入："
    assert rejects(got) == [
        (8, "救助类别", "外星补贴", "未知的救助类别“外星补贴”（configs/funds.yaml 中没有这个名称或别名）"),
        (9, "身份证号/姓名", "", "既无身份证号也无姓名"),
        (10, "月保障金额", "-300", dropped + "金额为负数"),
        (11, "月保障金额", "200000", dropped + "金额超过 100,000 元，不合常理"),
        (12, "保障起始日期", "1899-12-01", dropped + "日期早于1900年或晚于一年之后，不合常理"),
        (13, "保障起始日期", "2019-13-45", dropped + "无法识别的日期"),
    ]
    assert set(got.rejects.get_column("file")) == {"roll_gbk.csv"}


def test_bom_csv_columns_in_any_order_and_payment_rejects() -> None:
    got = load("payments_bom.csv", "payments")
    assert (got.counts.encoding, got.counts.header_line, got.counts.title_lines) == ("utf-8-sig", 1, 0)
    assert rows(got.frame, "source_line", "pay_date", "card_no", "account_name", "amount",
                "memo_fund", "payer") == [
        (2, dt.date(2023, 4, 10), "6217000000000001", "张三", 30000, "农村低保", "某某县民政局"),
        (3, dt.date(2023, 4, 10), "6217000000000002", "王五", 60000, "特困供养", "某某县民政局"),
    ]
    assert rejects(got) == [
        (4, "入账账号", "6.217E+15", "卡号以科学计数法存储（如 6.217E+15），位数已丢失，无法使用"),
        (5, "入账账号", "", "缺少卡号"),
        (6, "交易金额", "", "缺少金额"),
        (7, "交易日期", "", "缺少发放日期"),
        (8, "交易金额", "1.234", "金额超过两位小数"),
        (9, "交易金额", "2000000", "金额超过 1,000,000 元，不合常理"),
    ]


def test_fen_column_by_header_and_pipe_delimiter() -> None:
    got = load("payments_fen.txt", "payments")
    assert rows(got.frame, "pay_month", "amount") == [(202304, 30000), (202305, 30000)]
    assert rejects(got) == [(4, "金额（分）", "300.5", "以分为单位的金额不应有小数")]


def test_fen_column_by_config(tmp_path: Path) -> None:
    user = tmp_path / "fen.yaml"
    user.write_text("tables:\n  payments:\n    units: {amount: fen}\n", encoding="utf-8")
    src = tmp_path / "p.csv"
    src.write_text("交易日期,账号,金额\n2023-04-10,6217000000000001,30000\n", encoding="utf-8")
    got = load_file(src, "payments", load_config(user))
    assert got.frame.get_column("amount").to_list() == [30000]


def test_xlsx_numbers_lose_digits_and_leading_empty_rows_keep_excel_lines() -> None:
    got = load("accounts_numbers.xlsx", "accounts")
    assert (got.counts.format, got.counts.encoding, got.counts.header_line) == ("xlsx", None, 4)
    assert got.counts.skipped_reasons == {"total (合计)": 1}
    assert rows(got.frame, "source_line", "card_no", "holder_name", "holder_id", "holder_id_status",
                "open_date", "phone", "agent_id") == [
        (5, "6217000000000001", "张三", "141125195001010014", "ok", dt.date(2019, 4, 15),
         "13800000001", None),
        (6, "6217000000000002", "王五", "141125197003030000", "precision_lost",
         dt.date(2019, 4, 15), "13800000002", "141125198004040044"),
        # a 16-digit card a program wrote as a number cell is exact (below 2^53): kept
        (7, "6217000000000003", "赵六", "141125198004040044", "ok", dt.date(2019, 4, 15), None,
         None),
        (8, "6217000000000004", "阿卜杜·艾力", "141125196002020024", "upgraded15",
         dt.date(2019, 4, 15), None, None),
    ]
    assert rejects(got) == []


@pytest.mark.parametrize("value, lost", [
    # ending in 0: Luhn-valid lost nothing (…220), else the digit was cut (…230)
    (6217000011112222, False), (6217000011112220, False), (6217000011112230, True),
    (9007199254740993, True),
    (6217997762742367687, True), (621700001111222, False)])
def test_card_number_cells_read_exactly_or_flagged(tmp_path: Path, value: int, lost: bool) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["卡号", "户名"])
    wb.active.append([value, "张三"])
    wb.save(tmp_path / "a.xlsx")
    got = load_file(tmp_path / "a.xlsx", "accounts", load_config(None))
    assert got.frame.get_column("card_no").to_list() == ([] if lost else [str(value)])
    assert got.counts.rejected == (1 if lost else 0)


def test_legacy_xls_with_numeric_id_and_serial_date() -> None:
    got = load("deaths_legacy.xls", "deaths")
    assert (got.counts.format, got.counts.header_line, got.counts.title_lines) == ("xls", 2, 1)
    assert rows(got.frame, "source_line", "name", "id_status", "death_date") == [
        (3, "张三", "ok", dt.date(2023, 3, 5)),
        (4, "李四", "precision_lost", dt.date(2023, 3, 15)),
    ]


def test_html_table_saved_as_xls() -> None:
    got = load("payments_html.xls", "payments")
    assert (got.counts.format, got.counts.encoding, got.counts.header_line) == ("html", "gbk", 2)
    assert got.counts.skipped_reasons == {"blank": 1, "total (合计)": 1}
    assert rows(got.frame, "source_line", "card_no", "amount", "memo_period") == [
        (3, "6217000000000001", 30000, 202304), (4, "6217000000000002", 60000, None)]


def test_tab_separated_transactions_directions_and_times() -> None:
    got = load("transactions_tab.tsv", "transactions")
    assert rows(got.frame, "source_line", "txn_time", "direction", "amount", "channel") == [
        (2, dt.datetime(2023, 4, 10, 9, 0), "C", 30000, "代发"),
        (3, dt.datetime(2023, 4, 12, 10, 30), "D", 20000, "ATM"),
        (4, dt.datetime(2023, 4, 15, 10, 30), "D", 10000, "转账"),
        (5, dt.datetime(2023, 4, 16, 8, 0), "C", 5000, "转账"),
        # a credit with a negative amount is a reversed credit: kept signed (netted by
        # load_inputs against the credit it takes back, ingest/reversals.py)
        (7, dt.datetime(2023, 4, 18, 8, 0), "C", -5000, "转账"),
    ]
    assert rejects(got) == [
        (6, "借贷标志", "?", ("无法识别的借贷方向（可用：借、借方、支出、贷、贷方、收入 等，见 "
                             "configs/columns.yaml 的 codes.direction）")),
    ]


def test_no_direction_column_sign_decides() -> None:
    got = load("transactions_signed.csv", "transactions")
    assert rows(got.frame, "direction", "amount") == [("C", 30000), ("D", 20000)]


def test_full_width_invisible_and_middle_dots() -> None:
    got = load("roll_fullwidth.csv", "roll")
    assert rows(got.frame, "name", "name_key", "id_number", "id_status", "fund", "monthly_amount",
                "township", "card_no", "start_date") == [
        ("阿卜杜·艾力", "阿卜杜·艾力", "141125195001010014", "ok", "特困供养", 60000, "城关镇",
         "6217000000000001", dt.date(2019, 4, 15)),
        ("玛丽·木沙", "玛丽·木沙", "141125196002020024", "ok", "农村低保", 30000, "城关镇",
         "6217000000000002", dt.date(2019, 4, 15)),
    ]


def test_household_form_roll_is_relation_head() -> None:
    got = load("roll_household.csv", "roll")
    assert rows(got.frame, "name", "relation", "fund", "monthly_amount", "card_no") == [
        ("张三", "户主", "农村低保", 90000, "6217000000000001")]


def test_quoted_line_break_keeps_editor_line_numbers() -> None:
    got = load("payments_quoted.csv", "payments")
    assert rows(got.frame, "source_line", "memo_period") == [(2, 202304)]
    assert rejects(got) == [(4, "金额", "abc", "不是金额")]


def test_other_roll_carries_its_region() -> None:
    got = load("外县名册.csv", "other_roll")
    assert rows(got.frame, "name", "source_region", "fund") == [
        ("张三", "141124", "城市低保"), ("李四", "外县名册", "城市低保")]


def test_relatives_yes_no() -> None:
    got = load("relatives.csv", "relatives")
    assert rows(got.frame, "relative_id", "filed") == [
        ("141125196002020024", True), ("141125197003030034", False)]
    assert rejects(got) == [(4, "是否备案", "不清楚", "无法识别的是/否值")]


def test_a_kind_only_the_users_config_declares() -> None:
    config = load_config(IO / "housing_fund.yaml")
    got = load("housing_fund.csv", "housing_fund", config)
    assert got.frame.schema["start_date"] == pl.Date
    assert rows(got.frame, "source_line", "id_number", "id_status", "name", "employer",
                "start_date") == [
        (2, "14112519500101009X", "ok", "张三", "某某公司", dt.date(2020, 1, 1)),
        (3, "141125196002020024", "upgraded15", "李四", "某某厂", dt.date(2020, 1, 1)),
    ]
    assert rejects(got) == [(4, "身份证号", "", "缺少身份证号"), (5, "开户日期", "不详", "无法识别的日期")]


@pytest.mark.parametrize("name, kind", [
    ("roll_gbk.csv", "roll"), ("payments_bom.csv", "payments"), ("payments_fen.txt", "payments"),
    ("accounts_numbers.xlsx", "accounts"), ("deaths_legacy.xls", "deaths"),
    ("payments_html.xls", "payments"), ("transactions_tab.tsv", "transactions"),
    ("transactions_signed.csv", "transactions"), ("roll_fullwidth.csv", "roll"),
    ("roll_household.csv", "roll"), ("payments_quoted.csv", "payments"),
    ("外县名册.csv", "other_roll"), ("relatives.csv", "relatives"),
])
def test_every_fixture_has_the_canonical_schema(name: str, kind: str) -> None:
    from cardcheck.model import SCHEMAS

    got = load(name, kind)
    assert got.frame.schema == pl.Schema(SCHEMAS[kind])
    assert got.frame.get_column("source_file").unique().to_list() == [name]


@pytest.mark.parametrize("name,kind", [("roll_gbk.csv", "roll"), ("payments_bom.csv", "payments"),
                                       ("transactions_tab.tsv", "transactions")])
def test_a_file_read_in_slices_loads_exactly_as_in_one_piece(name, kind, monkeypatch) -> None:
    """Large files are normalised slice by slice; slicing changes nothing: rows, rejects (with
    their lines), skip reasons and counts."""
    from cardcheck import ingest

    whole = load(name, kind)
    monkeypatch.setattr(ingest, "SLICE_ROWS", 2)
    sliced = load(name, kind)
    assert whole.counts.read > 2
    assert sliced.frame.equals(whole.frame)
    assert sliced.rejects.equals(whole.rejects)
    assert sliced.counts == whole.counts


def test_encoding_is_judged_on_the_whole_file_slice_by_slice(tmp_path: Path, monkeypatch) -> None:
    from cardcheck.ingest import read

    monkeypatch.setattr(read, "UTF8_SLICE", 64)  # many slices, cut after line breaks only
    lines = [f"{i},张三{i},农村低保" for i in range(50)]
    utf8 = ("\n".join(lines) + "\n").encode("utf-8")
    assert read.decode(utf8, tmp_path / "a.csv") == (utf8, "utf-8")
    # GBK only from line 40 on: far past the first slice, still found
    gbk = ("\n".join(lines[:40]) + "\n").encode("utf-8") + "\n".join(lines[40:]).encode("gbk")
    assert read.decode(gbk, tmp_path / "b.csv")[1] in ("gbk", "gb18030")
