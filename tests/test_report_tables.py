"""The table builders read back as values: 表1's payments by township (a card off the roll and a
payment without a card go to （名册外）, the off-roll card counted there), problems counted in
cases, 资金项目数's total, findings placed from the roll, 表5 from explicit entries only, 表2 for
every card, the per-rule sheets' order, and the enrichment restricted to the findings'
households and cards."""

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
        ("（名册外）", 0, 0, 1, 0, 2, 12500, 0, 0),
        # the cards add up with the off-roll one; the funds are the county's 3, not 2 + 2
        ("合计", 5, 6, 6, 3, 17, 822500, 7, 910000),
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
        ("东村", "H1", "2023-01", "持卡人：141125********001X"),
        ("西村", "H3", "2023-01", "持卡人：141125********001X")]
    assert sheets["C05"]["seq"].to_list() == [1, 2, 3]
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


def _c01(persons: int, cards: int) -> pl.DataFrame:
    """`persons` people of 柳林镇 with `cards` cards each: one C01 finding per card."""
    base = example_findings().filter(pl.col("rule") == "C03").head(1)
    rows = [base.with_columns(pl.lit("C01").alias("rule"), pl.lit("一人多卡").alias("rule_name"),
                              pl.lit(f"p{p}c{c}").alias("finding_id"),
                              pl.lit(f"14112519800404{p:04d}").alias("id_number"),
                              pl.lit(f"62170000{p:04d}{c:04d}").alias("card_no"),
                              pl.lit(1000 * (c + 1), pl.Int64).alias("amount"))
            for p in range(persons) for c in range(cards)]
    return pl.concat(rows)


@pytest.mark.parametrize("persons, cards", [(1, 2), (2, 2), (3, 4)])
def test_table1_counts_cases_with_the_rows_beside_them(frames, persons: int, cards: int) -> None:
    spec = report_spec(load_config())
    findings = pl.concat([example_findings(), _c01(persons, cards)])
    enriched = T.enrich(findings, frames, spec, "自查自纠", today=date(2024, 1, 1))
    t1 = T.table1(frames, enriched, spec)
    total = t1.filter(pl.col("township") == "合计").row(0, named=True)
    town = t1.filter(pl.col("township") == "柳林镇").row(0, named=True)
    assert total["cat:一人多卡"] == town["cat:一人多卡"] == persons  # not persons × cards
    assert total["rows"] == findings.height and total["amount"] == findings["amount"].sum()
    assert total["problems"] == 7 + persons
    assert total["problems"] == sum(v for k, v in total.items() if k.startswith("cat:"))
    # the township rows add up to the 合计 row in every column but the distinct funds
    body = t1.filter(pl.col("township") != "合计")
    for col in [c for c in t1.columns if c not in ("township", "funds")]:
        assert body[col].sum() == total[col], col


def test_locate_places_a_finding_from_its_card_or_puts_it_off_the_roll(frames) -> None:
    findings = example_findings()
    e09 = findings.filter(pl.col("rule") == "C03").with_columns(  # only the card is known
        pl.lit("E09").alias("rule"), pl.lit("x-e09").alias("finding_id"),
        pl.lit(None, pl.String).alias("township"), pl.lit(None, pl.String).alias("village"),
        pl.lit(None, pl.String).alias("household_id"), pl.lit("141125194812210000").alias(
            "id_number"), pl.lit(None, pl.String).alias("region_code"))
    p01 = e09.with_columns(pl.lit("P01").alias("rule"), pl.lit("x-p01").alias("finding_id"),
                           pl.lit(OFF_ROLL).alias("card_no"), pl.lit(None, pl.String).alias(
                               "id_number"))
    got = T.locate(pl.concat([findings, e09, p01]), frames)
    assert got.columns == findings.columns and got.height == findings.height + 2
    assert got.head(findings.height).equals(findings)  # placed ones are left as they were
    placed = got.tail(2).select("township", "village", "household_id", "region_code").rows()
    assert placed == [("柳林镇", "西村", "H3", "141125"), ("（名册外）", None, None, None)]


def _state(statuses: list[str], **cols: list) -> pl.DataFrame:
    spec = report_spec(load_config())
    base = T.enrich(example_findings(), {}, spec, "自查自纠", today=date(2024, 1, 1))
    base = base.head(len(statuses)).with_columns(
        pl.Series("status", statuses), pl.lit(True).alias("present"),
        pl.lit("核实后移交纪检监察，注销银行卡").alias("measure"))
    return base.with_columns(pl.Series(k, v) for k, v in cols.items())


def test_table5_counts_only_what_was_entered() -> None:
    spec = report_spec(load_config())
    statuses = ["已整改", "未整改", "不属实", "整改中", "已整改", "已整改", "不属实"]
    t5 = T.table5(_state(statuses), spec)
    total = t5.filter(pl.col("township") == "合计").row(0, named=True)
    # the measure names 移交 and 注销 on every row: nothing is counted from its words
    for col in ("accounts", "leads", "disciplined", "organised", "judicial", "systems"):
        assert total[col] is None
    assert (total["found"], total["rows"], total["rectified"], total["unfounded"]) == (7, 7, 3, 2)
    assert total["rate"] == pytest.approx(3 / 5)
    # money due back: E06 (recoverable) when not 不属实; C03/C04/C05/P03 are not recoverable
    assert total["due"] == 0  # E06 is the 7th row: 不属实
    paid_back = T.table5(_state([*statuses[:6], "已整改"]), spec)
    assert paid_back.filter(pl.col("township") == "合计")["due"].item() == 55000
    entered = _state(statuses[:6], leads=[1, 0, 0, 1, 0, 1], judicial=[0, 0, 0, 0, 0, 2])
    total = T.table5(entered, spec).filter(pl.col("township") == "合计").row(0, named=True)
    assert (total["leads"], total["judicial"], total["disciplined"]) == (3, 2, None)
    assert T.table5(entered, spec)["seq"].drop_nulls().to_list() == list(
        range(1, T.table5(entered, spec).height))


@pytest.mark.parametrize("statuses, status", [
    (["已整改", "整改中"], "in_progress"), (["已整改", "不属实"], "rectified"),
    (["不属实", "不属实"], "unfounded"), (["未整改", "已整改", "已整改"], "open")])
def test_table5_a_case_is_as_far_as_its_least_advanced_row(statuses: list[str],
                                                           status: str) -> None:
    spec = report_spec(load_config())
    rows = _c01(1, len(statuses)).with_columns(
        pl.Series("status", statuses), pl.lit(True).alias("present"), pl.lit(0).alias(
            "recovered"), pl.lit("一人多卡").alias("category"))
    total = T.table5(rows, spec).filter(pl.col("township") == "合计").row(0, named=True)
    assert total["found"] == 1 and total["rows"] == len(statuses) and total[status] == 1


@pytest.mark.parametrize("issuer, county", [
    ("柳林县民政局", "柳林县"), ("吕梁市柳林县民政局", "柳林县"), ("山西省柳林县人民政府", "柳林县"),
    ("城区民政局", "城区"), ("某某镇人民政府", "")])
def test_county_of_the_rolls_reporter(issuer: str, county: str) -> None:
    from cardcheck.report.summary import county_name, county_of_issuer

    assert county_of_issuer(issuer) == county
    info = {"regions": ["141125"]}
    assert county_name(info, issuer=issuer) == (county or "141125")
    assert county_name(info, regions={"141125": "某县"}, issuer=issuer) == "某县"
    assert county_name(info, county="设置县", issuer=issuer) == "设置县"


def test_the_rolls_title_line_names_the_reporter(tmp_path) -> None:
    from cardcheck.ingest import load_file

    path = tmp_path / "名册.csv"
    path.write_text("柳林县2023年救助对象花名册\n填报单位：柳林县民政局,,,单位：元\n"
                    "乡镇,村,户编号,姓名,身份证号码,与户主关系,救助类别,月保障金额,银行卡号\n"
                    "柳林镇,东村,H1,张三,14112519600101001X,户主,农村低保,300,6217000010000001\n",
                    encoding="utf-8")
    assert load_file(path, "roll", load_config()).counts.issuer == "柳林县民政局"
