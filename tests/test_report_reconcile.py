"""Every total of a demo county's run agrees across 汇总, 表1–表5, the rule sheets,
表2_全部卡片.csv and findings.csv: one card count, one count of problems in cases beside one
count of findings (表4's rows), one sum of money, the townships' rows adding up to the 合计 rows,
every finding placed in a township of the roll or （名册外）, the county named as the roll's
填报单位 names it. Counties of two sizes and seeds, read back with openpyxl."""

from __future__ import annotations

import csv
import re
from typing import Any

import openpyxl
import polars as pl
import pytest

from cardcheck.pipeline.options import CheckOptions
from cardcheck.pipeline.run import run_check

COUNTIES = [(300, 5), (700, 19)]
TOTAL = "合计"


class Table:
    """A sheet's table: its header, the rows under it and the 合计 row."""

    def __init__(self, ws: Any, first_header: str) -> None:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        at = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
        self.header = [str(h) if h is not None else "" for h in rows[at]]
        self.rows: list[dict[str, Any]] = []
        self.total: dict[str, Any] = {}
        self.above = rows[:at]
        for r in rows[at + 1:]:
            if all(v is None for v in r):
                break
            row = dict(zip(self.header, r))
            if TOTAL in r:
                self.total = row
            else:
                self.rows.append(row)

    def col(self, name: str) -> list[Any]:
        return [r[name] for r in self.rows]

    def by(self, key: str, value: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for r in self.rows:
            out[r[key]] = out.get(r[key], 0) + (r[value] or 0)
        return out


@pytest.fixture(scope="module", params=COUNTIES, ids=[f"{n}-seed{s}" for n, s in COUNTIES])
def run(request: pytest.FixtureRequest, demo_county, tmp_path_factory) -> dict[str, Any]:
    households, seed = request.param
    folder = demo_county(households, seed)
    out = tmp_path_factory.mktemp(f"reconcile-{households}-{seed}")
    assert run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out,
                                  inputs=folder, quiet=True)) == 0
    book = next(out.glob("cardcheck_*.xlsx"))
    wb = openpyxl.load_workbook(book, read_only=False)
    with open(out / "表2_全部卡片.csv", encoding="utf-8-sig", newline="") as fh:
        cards = list(csv.DictReader(fh))
    summary = [list(r) for r in wb["汇总"].iter_rows(values_only=True)]
    rule_sheets = [n for n in wb.sheetnames if re.match(r"^[CPE]\d\d ", n)]
    return {
        "findings": pl.read_csv(out / "findings.csv", infer_schema=False),
        "cards": cards, "summary": summary,
        "scope": {r[0]: r[1] for r in summary[3:20] if r[0] and r[1] is not None},
        "t1": Table(wb["表1"], "乡镇（街道）"), "t2": Table(wb["表2"], "序号"),
        "t3": Table(wb["表3"], "序号"), "t4": Table(wb["表4"], "问题编号"),
        "t5": Table(wb["表5"], "序号"),
        "rules": [Table(wb[n], "序号") for n in rule_sheets],
        "roll": pl.read_csv(folder / "救助对象名册.csv", encoding="gbk", skip_rows=2,
                            infer_schema=False),
    }


def _block(summary: list[list[Any]], label: str) -> list[list[Any]]:
    """The rows of one labelled block of 汇总 (under its header), its 合计 row last."""
    at = next(i for i, r in enumerate(summary) if r[0] and str(r[0]).startswith(label))
    out = []
    for r in summary[at + 2:]:
        if r[0] is None:
            break
        out.append(r)
    return out


def test_one_card_count(run) -> None:
    t1, t2, scope = run["t1"], run["t2"], run["scope"]
    note = next(str(r[0]) for r in t2.above if r[0] and str(r[0]).startswith("本次共核查"))
    in_note = int(re.search(r"本次共核查 (\d+) 张卡", note).group(1))
    assert scope["核查卡数"] == t1.total["核查卡数"] == in_note == len(run["cards"])
    # the sheet lists the cards with a problem, numbered, and their money adds up
    assert t2.col("序号") == list(range(1, len(t2.rows) + 1))
    assert t2.total["发放金额(元)"] == pytest.approx(sum(t2.col("发放金额(元)")))
    paid = sum(float(c["发放金额(元)"]) for c in run["cards"])
    assert scope["发放金额(元)"] == pytest.approx(t1.total["核查金额(元)"]) == pytest.approx(paid)


def test_scope_agrees_between_the_summary_and_table1(run) -> None:
    t1, scope = run["t1"], run["scope"]
    for key, header in (("核查户数", "核查户数"), ("核查人数", "核查人数"), ("发放笔数", "发放笔数"),
                        ("资金项目数", "资金项目数")):
        assert scope[key] == t1.total[header], key
    assert t1.total["资金项目数"] == run["roll"]["救助类别"].drop_nulls().n_unique()  # not a sum
    for header in t1.header[1:]:
        if header != "资金项目数":  # every other column adds up to its 合计
            assert sum(t1.col(header)) == pytest.approx(t1.total[header]), header


def test_one_count_of_findings_and_one_of_cases(run) -> None:
    f, t1, t4, t5, scope = run["findings"], run["t1"], run["t4"], run["t5"], run["scope"]
    n = f.height
    assert len(t4.rows) == n == scope["明细条数（表4行数）"] == t1.total["明细条数"]
    assert t5.total["明细条数"] == n == sum(len(t.rows) for t in run["rules"])
    assert sorted(t4.col("问题编号")) == sorted(f["finding_id"].to_list())
    assert t4.col("序号") == list(range(1, n + 1))
    cases = scope["发现问题数（按案计）"]
    categories = [h for h in t1.header[7:] if h not in ("问题合计", "明细条数", "涉及金额(元)")]
    assert cases == t1.total["问题合计"] == t5.total["发现问题数"]
    assert cases == sum(t1.total[c] for c in categories)
    assert cases < n  # C01 finds each card of a person with several: fewer cases than rows
    progress = _block(run["summary"], "整改进度")
    assert progress[-1][0] == TOTAL and progress[-1][1] == cases
    by_rule = _block(run["summary"], "按规则")
    assert by_rule[-1][4:6] == [cases, n]
    assert sum(r[4] for r in by_rule[:-1]) == cases and sum(r[5] for r in by_rule[:-1]) == n
    # 表3: one row per household (or person, card), its problems the findings
    assert run["t3"].total["问题数"] == n


def test_one_sum_of_money(run) -> None:
    f, t1, t3, t4, scope = run["findings"], run["t1"], run["t3"], run["t4"], run["scope"]
    money = f["amount"].cast(pl.Int64).sum() / 100
    assert scope["涉及金额(元)"] == pytest.approx(money)
    for total in (t1.total["涉及金额(元)"], t3.total["涉及金额(元)"], t4.total["涉及金额(元)"]):
        assert total == pytest.approx(money)
    assert sum(t4.col("涉及金额(元)")) == pytest.approx(money)
    assert sum(sum(t.col("金额(元)")) for t in run["rules"]) == pytest.approx(money)
    assert _block(run["summary"], "按乡镇")[-1][5] == pytest.approx(money)


def test_every_township_row_agrees(run) -> None:
    t1, t4, t5 = run["t1"], run["t4"], run["t5"]
    towns = set(run["roll"]["乡镇"].drop_nulls()) | {"（名册外）"}
    assert set(t1.col("乡镇（街道）")) <= towns  # none left in （未填乡镇）
    rows = {r["乡镇（街道）"]: r for r in t1.rows}
    per_town = {t: sum(1 for r in t4.rows if r["乡镇"] == t) for t in rows}
    assert {t: r["明细条数"] for t, r in rows.items()} == per_town
    found = t5.by("乡镇（街道）", "发现问题数")
    assert {t: r["问题合计"] for t, r in rows.items() if r["问题合计"]} == found
    summary = {r[0]: r[1] for r in _block(run["summary"], "按乡镇")[:-1]}
    assert summary == {t: r["问题合计"] for t, r in rows.items() if r["问题合计"]}
    # the off-roll payments sit in one row: their cards, their money and their problems
    off = rows["（名册外）"]
    assert off["核查卡数"] > 0 and off["违规发放"] == off["问题合计"] > 0


def test_the_county_and_the_lines_of_an_official_table(run) -> None:
    t1, t4, t5 = run["t1"], run["t4"], run["t5"]
    assert set(t4.col("县")) == {"柳林县"}  # the roll's 填报单位：柳林县民政局, not 141125
    for table in (t1, t4, t5):
        assert any(str(r[0]).startswith("填报单位（盖章）：柳林县民政局　") for r in table.above)
        assert any(v == "单位：元、户、人" for r in table.above for v in r)
    # nobody has entered a lead, a punishment or a rule: blank, not the words of 整改措施
    for header in ("移交问题线索数", "处分人数", "组织处理人数", "移送司法人数", "完善制度数",
                   "销户或变更账户数"):
        assert t5.total[header] is None and not any(t5.col(header)), header

