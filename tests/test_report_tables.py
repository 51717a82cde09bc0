"""The table builders read back as values: 表1's payments by township (a card off the roll and a
payment without a card go to （名册外）), 表2 for every card, the per-rule sheets' order, and the
enrichment restricted to the findings' households and cards."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cardcheck.config import load_config
from cardcheck.example import CARDS, example_findings, example_rows
from cardcheck.report import tables as T
from cardcheck.report.spec import report_spec
from cardcheck.rules.cases import frames as case_frames

OFF_ROLL = "6217000099999999"


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    extra = [  # a card no roll names, and a payment whose card is missing
        {"pay_date": "2023-02-08", "card_no": OFF_ROLL, "account_name": "周九", "amount": 10000,
         "memo": "2023年02月农村低保", "batch": "B2"},
        {"pay_date": "2023-02-08", "card_no": None, "account_name": "吴十", "amount": 2500,
         "memo": "代发", "batch": "B2"},
    ]
    rows = example_rows()
    return case_frames({**rows, "payments": rows["payments"] + extra}, load_config())


def test_card_payments_one_row_per_card_and_one_without(frames) -> None:
    got = T.card_payments(frames).sort("card_no", nulls_last=True)
    assert got.columns == ["card_no", "payments", "paid", "months", "bad_memos"]
    assert got.rows() == [  # 钱七 and 孙八 are paid as 代发 and a hyperlink: no fund, no month
        (CARDS["A"], 3, 180000, 3, 0), (CARDS["B"], 3, 135000, 3, 0),
        (CARDS["E"], 3, 165000, 3, 3), (OFF_ROLL, 1, 10000, 1, 0),
        (CARDS["C"], 3, 180000, 3, 0), (CARDS["D"], 3, 150000, 3, 3), (None, 1, 2500, 1, 1),
    ]


def test_table1_payments_by_township(frames) -> None:
    spec = report_spec(load_config())
    enriched = T.enrich(example_findings(), frames, spec, "自查自纠", today=date(2024, 1, 1))
    t1 = T.table1(frames, enriched, spec)
    cols = ["township", "households", "persons", "cards", "funds", "payments", "paid",
            "problems", "amount"]
    assert t1.select(cols).rows() == [
        ("柳林镇", 3, 4, 3, 2, 9, 495000, 4, 540000),
        ("穆村镇", 2, 2, 2, 2, 6, 315000, 3, 370000),
        ("（名册外）", 0, 0, 0, 0, 2, 12500, 0, 0),
        ("合计", 5, 6, 5, 4, 17, 822500, 7, 910000),
    ]
    # the payments grouped once by the caller give the same table
    assert_frame_equal(T.table1(frames, enriched, spec, T.card_payments(frames)), t1)


def test_table2_every_card_with_its_problems(frames) -> None:
    t2 = T.table2(frames, example_findings())
    cols = ["township", "village", "card_no", "holder_name", "beneficiaries", "persons",
            "funds", "months", "paid", "memo", "problems"]
    assert t2.select(cols).rows() == [
        ("柳林镇", "东村", "6217****0001", "张三", "张三、李四", 2, "农村低保", 3, 180000, "规范",
         "代管代取、金额不符"),
        ("柳林镇", "西村", "6217****0002", "王五", "王五", 1, "农村低保", 3, 135000, "规范", ""),
        ("柳林镇", "西村", "6228****0003", "张三", "赵六", 1, "特困供养", 3, 180000, "规范",
         "代管代取、救助对象与持卡人不一致"),
        ("穆村镇", "南村", "6217****0005", "孙八", "孙八", 1, "特困供养", 3, 165000,
         "不规范 3/3 笔", "发放摘要不规范"),
        ("穆村镇", "南村", "6228****0004", "钱七", "钱七", 1, "城市低保", 3, 150000,
         "不规范 3/3 笔", "发放摘要不规范"),
        ("（名册外）", None, "6217****9999", None, None, 0, None, 1, 10000, "规范", ""),
    ]
    assert_frame_equal(T.table2(frames, example_findings(), False, T.card_payments(frames)), t2)


def test_rule_sheets_sorted_and_masked_once_for_all_rules() -> None:
    findings = example_findings()
    more = findings.filter(pl.col("rule") == "C05").with_columns(  # same household, more money
        pl.lit("x1").alias("finding_id"), pl.col("amount") * 2).head(1)
    findings = pl.concat([findings, more])
    sheets = T.rule_sheets(findings)
    assert sorted(sheets) == ["C03", "C04", "C05", "E06", "P03"]
    c05 = sheets["C05"]
    assert c05.select("household_id", "amount", "card_no").rows() == [
        ("H4", 300000, "6228****0004"), ("H4", 150000, "6228****0004"),
        ("H5", 165000, "6217****0005")]
    assert sheets["C04"].select("village", "household_id", "first_month", "hub").rows() == [
        ("东村", "H1", "2023-01", "holder:141125********001X"),
        ("西村", "H3", "2023-01", "holder:141125********001X")]
    assert_frame_equal(T.rule_sheet(findings, "C05"), c05)
    assert T.rule_sheet(findings, "C01").height == 0
    assert T.rule_sheets(findings, unmask=True)["C04"]["card_no"].to_list() == [
        CARDS["A"], CARDS["C"]]


def test_enrich_looks_only_at_the_findings_households_and_cards(frames) -> None:
    spec = report_spec(load_config())
    findings = example_findings()
    got = T.enrich(findings, frames, spec, "自查自纠", today=date(2024, 1, 1))
    # the same as enriching against a roll and accounts cut to those households and cards
    cards = findings["card_no"].drop_nulls().to_list()
    near = {"roll": frames["roll"].filter(pl.col("household_id").is_in(["H1", "H3", "H4", "H5"])
                                          | pl.col("card_no").is_in(cards)),
            "accounts": frames["accounts"].filter(pl.col("card_no").is_in(cards))}
    assert_frame_equal(got, T.enrich(findings, near, spec, "自查自纠", today=date(2024, 1, 1)))
    persons = dict(zip(got["finding_id"], got["persons"]))
    owners = dict(zip(got["rule"] + "/" + got["household_id"], got["owner"]))
    assert persons[findings.filter(pl.col("rule") == "P03")["finding_id"][0]] == 2  # H1: 张三、李四
    assert owners["C03/H3"] == "穆村分理处" and owners["E06/H5"] == "穆村镇民政办"
    assert set(got["deadline"]) == {"2024-01-31"}
