"""E01–E05 are one mechanism: the lists in configs/references.yaml become rules, and a province
adds a list (住房公积金缴存 …) with YAML alone — read by the ordinary reader, checked by the
ordinary rule."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cardcheck.casefile import frames
from cardcheck.config import load_config
from cardcheck.engine import run_rules
from cardcheck.engines import DuckDBEngine
from cardcheck.ingest import load_file
from cardcheck.rules import by_code
from cardcheck.rules.eligibility.reference_lists import list_rules
from cardcheck.run import parse_refs

A, B = "110101195001010017", "110101199001010015"

USER_CONFIG = """\
tables:
  housing_fund:
    required: [id_number]
    columns:
      id_number: [身份证号]
      name: [姓名]
      start_date: [缴存起始日期]
      end_date: [缴存终止日期]
      employer: [缴存单位]
lists:
  housing_fund:
    code: E10
    name: 住房公积金缴存人员领取低保
    severity: medium
    window: {from: start_date, from_offset_months: 0, to: end_date}
    excludes: [城市低保, 农村低保]
"""

LIST_CSV = """\
姓名,身份证号,缴存单位,缴存起始日期,缴存终止日期
张小三,110101199001010015,某某建筑公司,2023-04-01,
路人甲,110101198001010010,某某公司,2020-01-01,
"""


def test_the_default_lists_are_rules_e01_to_e05() -> None:
    rules = {r.code: r for r in list_rules(load_config())}
    assert sorted(rules) == ["E01", "E02", "E03", "E04", "E05"]
    deaths = rules["E01"]
    assert (deaths.name, deaths.severity) == ("死亡人员领取", "high")
    assert deaths.needs["deaths"] == ("id_number", "death_date")
    assert "every fund" in deaths.doc and "death_date + 1 month(s)" in deaths.doc
    assert "城市低保, 农村低保" in rules["E05"].doc


def test_a_new_list_by_yaml_alone(tmp_path: Path) -> None:
    (tmp_path / "province.yaml").write_text(USER_CONFIG, encoding="utf-8")
    (tmp_path / "公积金.csv").write_text(LIST_CSV, encoding="utf-8")
    config = load_config(tmp_path / "province.yaml")

    rule = by_code(config)["E10"]
    assert (rule.name, rule.severity) == ("住房公积金缴存人员领取低保", "medium")
    assert "Finds:" in rule.doc and "Known false positive" in rule.doc
    assert parse_refs([f"housing_fund={tmp_path / '公积金.csv'}"], config) == {
        "housing_fund": [tmp_path / "公积金.csv"]}

    listed = load_file(tmp_path / "公积金.csv", "housing_fund", config).frame
    assert listed.select("id_number", "id_status", "start_date").rows() == [
        (B, "ok", pl.Series(["2023-04-01"]).str.to_date()[0]),
        ("110101198001010010", "ok", pl.Series(["2020-01-01"]).str.to_date()[0]),
    ]
    data = frames({
        "roll": [
            {"household_id": "H1", "name": "张三", "id_number": A, "relation": "户主",
             "fund": "农村低保", "monthly_amount": 30000, "card_no": "6217000000000001"},
            {"household_id": "H1", "name": "张小三", "id_number": B, "relation": "子女",
             "fund": "农村低保", "monthly_amount": 20000, "card_no": "6217000000000001"},
        ],
        "payments": [
            {"pay_date": f"2023-{m:02d}-10", "card_no": "6217000000000001", "amount": 50000,
             "memo": f"2023年{m:02d}月农村低保"} for m in (3, 4, 5)
        ],
    }, config)
    data["housing_fund"] = listed
    for engine in (None, DuckDBEngine()):
        result = run_rules(data, config, engine=engine, select=["E10"])
        assert [r.status for r in result.runs] == ["ran"]
        got = result.findings.select("rule", "severity", "household_id", "id_number", "fund",
                                     "first_month", "last_month", "months", "amount").rows()
        assert got == [("E10", "medium", "H1", B, "农村低保", 202304, 202305, 2, 40000)]
        evidence = result.findings.get_column("evidence")[0]
        assert evidence == ("张小三（110101********0015）在「住房公积金缴存人员领取低保」比对名单上"
                            "（缴存起始日期 2023-04-01），2023-04至2023-05 仍领取农村低保 2 个月，"
                            "共 400.00 元（按其户内份额计）")


def test_a_list_without_its_window_column_is_skipped_with_the_reason() -> None:
    config = load_config()
    data = frames({
        "roll": [{"household_id": "H1", "name": "张三", "id_number": A, "fund": "特困供养",
                  "card_no": "6217000000000001"}],
        "payments": [{"pay_date": "2023-04-10", "card_no": "6217000000000001",
                      "amount": 100, "memo": "特困供养"}],
        "deaths": [{"id_number": A, "name": "张三"}],
    }, config)
    result = run_rules(data, config, select=["E01"])
    assert [(r.status, r.reason) for r in result.runs] == [("skipped", "deaths has no death_date")]
