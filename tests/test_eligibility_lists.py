"""E01–E05 are one mechanism: the lists in configs/references.yaml become rules, and a province
adds a list (住房公积金缴存 …) with YAML alone — read by the ordinary reader, checked by the
ordinary rule."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from cardcheck.config import load_config
from cardcheck.engines import DuckDBEngine
from cardcheck.engines.runner import RuleRun, run_rules
from cardcheck.errors import ConfigError
from cardcheck.ingest import load_file
from cardcheck.pipeline.options import CheckOptions, parse_refs
from cardcheck.pipeline.run import run_check
from cardcheck.report.terminal import SummaryInput, render
from cardcheck.rules import by_code
from cardcheck.rules.cases import frames
from cardcheck.rules.eligibility.reference_lists import list_rules

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


# ---------------------------------------------------------------- lists as departments send them

C, D, E, F = ("110101194001010012", "110101194501010019", "110101197001010016",
              "110101196001010011")
ROLL_CSV = f"""\
户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,银行卡号
H1,张三,{A},户主,农村低保,300,6217000000000001
H1,张小三,{B},子女,农村低保,200,6217000000000001
H2,王五,{C},户主,城市低保,400,6217000000000002
H3,赵六,{D},户主,特困供养,600,6217000000000003
H4,孙七,{E},户主,城市低保,400,6217000000000004
H5,李四,{F},户主,城市低保,400,6217000000000005
"""
PAYMENTS_CSV = "代发日期,账号,金额,摘要\n" + "".join(
    f"2023-{m:02d}-10,{card},{amount},2023年{m:02d}月{fund}\n"
    for m in (3, 4, 5)
    for card, amount, fund in (("6217000000000001", 500, "农村低保"),
                               ("6217000000000002", 400, "城市低保"),
                               ("6217000000000003", 600, "特困供养"),
                               ("6217000000000004", 400, "城市低保"),
                               ("6217000000000005", 400, "城市低保")))
LISTS = {
    # 财政供养人员 as 人社 sends it: 姓名 + 身份证号 + 单位, no dates
    "payroll": f"姓名,身份证号,单位\n张小三,{B},某某镇人民政府\n",
    # 工商登记 without dates
    "business": f"姓名,身份证号,企业名称\n王五,{C},王五小卖部\n",
    # the funeral system's deaths list: 火化日期
    "deaths": f"姓名,身份证号,火化日期\n赵六,{D},2023-03-20\n",
    # a prison's list: the term in one cell
    "prisoners": f"姓名,身份证号,刑期起止\n孙七,{E},2022年1月5日至{dt.date.today().year + 5}年1月4日\n",
    # 社保's pension list: 待遇领取开始时间
    "pensions": f"姓名,身份证号,待遇领取开始时间\n李四,{F},2023-05-01\n",
}


def _files(folder: Path) -> dict[str, pl.DataFrame]:
    config = load_config()
    (folder / "roll.csv").write_text(ROLL_CSV, encoding="utf-8")
    (folder / "pay.csv").write_text(PAYMENTS_CSV, encoding="utf-8")
    data = {"roll": load_file(folder / "roll.csv", "roll", config).frame,
            "payments": load_file(folder / "pay.csv", "payments", config).frame}
    for kind, text in LISTS.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        loaded = load_file(folder / f"{kind}.csv", kind, config)
        assert loaded.rejects.height == 0, (kind, loaded.rejects.to_dicts())
        data[kind] = loaded.frame
    return data


def test_lists_as_departments_send_them_are_used(tmp_path: Path) -> None:
    data = _files(tmp_path)
    assert data["deaths"].select("id_number", "death_date").rows() == [(D, dt.date(2023, 3, 20))]
    assert data["prisoners"].select("start_date", "end_date").rows() == [
        (dt.date(2022, 1, 5), dt.date(dt.date.today().year + 5, 1, 4))]
    assert data["pensions"].get_column("start_date").to_list() == [dt.date(2023, 5, 1)]
    assert data["payroll"].get_column("start_date").to_list() == [None]
    config = load_config()
    for engine in (None, DuckDBEngine()):
        result = run_rules(data, config, engine=engine, select=["E01", "E02", "E03", "E04", "E05"])
        assert [(r.code, r.status, r.reason) for r in result.runs] == [
            ("E01", "ran", ""), ("E02", "ran", ""),
            ("E03", "ran", "payroll 无日期列，按常设名单使用"),
            ("E04", "ran", "business 无日期列，按常设名单使用"), ("E05", "ran", "")]
        got = result.findings.select("rule", "household_id", "id_number", "fund", "first_month",
                                     "last_month", "months", "amount").rows()
        assert got == [
            ("E01", "H3", D, "特困供养", 202304, 202305, 2, 120000),
            ("E02", "H4", E, "城市低保", 202303, 202305, 3, 120000),
            # the son on the payroll: the household's whole 低保 is suspect, under its 户主
            ("E03", "H1", A, "农村低保", 202303, 202305, 3, 150000),
            ("E04", "H2", C, "城市低保", 202303, 202305, 3, 120000),
            ("E05", "H5", F, "城市低保", 202305, 202305, 1, 40000),
        ]
        evidence = dict(zip(result.findings.get_column("rule"),
                            result.findings.get_column("evidence")))
        assert evidence["E03"] == (
            "张三（110101********0017）的同户成员张小三（110101********0015）在「财政供养人员领取」"
            "比对名单上（工作单位 某某镇人民政府，名单无日期，按核查期内一直在册处理），"
            "2023-03至2023-05 该户仍领取农村低保 3 个月，共 1500.00 元（全户）")
        assert evidence["E04"] == (
            "王五（110101********0012）本人在「工商登记人员领取」比对名单上（企业名称 王五小卖部，"
            "名单无日期，按核查期内一直在册处理），2023-03至2023-05 该户仍领取城市低保 3 个月，"
            "共 1200.00 元（全户）")
        assert "（死亡日期 2023-03-20），2023-04至2023-05" in evidence["E01"]
        assert f"（入监日期 2022-01-05，出监日期 {dt.date.today().year + 5}-01-04）" in evidence["E02"]


def test_a_list_not_standing_by_config_is_skipped(tmp_path: Path) -> None:
    data = _files(tmp_path)
    (tmp_path / "strict.yaml").write_text("lists:\n  payroll: {standing: false}\n",
                                          encoding="utf-8")
    config = load_config(tmp_path / "strict.yaml")
    result = run_rules(data, config, select=["E03"])
    assert [(r.status, r.reason) for r in result.runs] == [("skipped", "payroll has no start_date")]
    assert "standing list" not in by_code(config)["E03"].doc
    assert "a list without start_date is a standing list" in by_code(load_config())["E03"].doc


def test_the_summary_names_the_standing_lists(tmp_path: Path) -> None:
    _files(tmp_path)
    (tmp_path / "accounts.csv").write_text("卡号,户名\n" + "".join(
        f"621700000000000{i},{n}\n" for i, n in enumerate(["张三", "王五", "赵六", "孙七", "李四"], 1)),
        encoding="utf-8")
    out = tmp_path / "out"
    refs = [f"{k}={tmp_path / (k + '.csv')}" for k in LISTS]
    code = run_check(CheckOptions(roll=tmp_path / "roll.csv", accounts=tmp_path / "accounts.csv",
                                  payments=[tmp_path / "pay.csv"], refs=refs, out=out,
                                  excel=False, quiet=True))
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    notes = {r["code"]: (r["status"], r["reason"]) for r in manifest["rules"]
             if r["code"].startswith("E0") and int(r["code"][1:]) <= 5}
    assert notes == {"E01": ("ran", ""), "E02": ("ran", ""),
                     "E03": ("ran", "payroll 无日期列，按常设名单使用"),
                     "E04": ("ran", "business 无日期列，按常设名单使用"), "E05": ("ran", "")}
    buf = io.StringIO()
    render(Console(file=buf, width=240), SummaryInput(
        findings=pl.read_csv(out / "findings.csv", infer_schema=False).with_columns(
            pl.col("amount").cast(pl.Int64)),
        frames=_files(tmp_path), counts=[], runs=[RuleRun(c, "", s, n) for c, (s, n) in
                                                  notes.items()], stage="自查自纠"))
    assert "payroll 无日期列，按常设名单使用" in buf.getvalue()


def test_date_headings_of_other_departments(tmp_path: Path) -> None:
    config = load_config()
    files = {
        # joining this employer wins over the first job anywhere; 离职/退休日期 ends
        "payroll": ("姓名,身份证号,单位,参加工作时间,进入单位时间,离职/退休日期\n"
                    + f"张小三,{B},某局,2001-07-01,2015-03-01,2023-06-30\n",
                    [("start_date", dt.date(2015, 3, 1)), ("end_date", dt.date(2023, 6, 30))]),
        "business": (f"姓名,身份证号,企业名称,登记日期,吊销日期\n王五,{C},王五小卖部,2019-05-06,—\n",
                     [("start_date", dt.date(2019, 5, 6)), ("end_date", None)]),
        "deaths": (f"姓名,身份证号,死亡时间\n赵六,{D},2023-03-20 10:15:00\n",
                   [("death_date", dt.date(2023, 3, 20))]),
        "prisoners": (f"姓名,身份证号,入狱时间,释放日期\n孙七,{E},2022.1.5,无期\n",
                      [("start_date", dt.date(2022, 1, 5)), ("end_date", None)]),
        "pensions": (f"姓名,身份证号,待遇领取开始时间,待遇终止时间\n李四,{F},202305,长期\n",
                     [("start_date", dt.date(2023, 5, 1)), ("end_date", None)]),
    }
    for kind, (text, want) in files.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        loaded = load_file(tmp_path / f"{kind}.csv", kind, config)
        assert loaded.rejects.height == 0, (kind, loaded.rejects.to_dicts())
        assert [(c, loaded.frame.get_column(c)[0]) for c, _ in want] == want, kind


# ---------------------------------------------------------------- whom a list entry touches


def test_each_list_says_whom_it_touches_per_fund() -> None:
    lists = load_config().lists
    household = {"城市低保": "household", "农村低保": "household", "特困供养": "household",
                 "困难残疾人生活补贴": "spouse"}
    assert lists["payroll"].match == household and lists["business"].match == household
    assert (lists["payroll"].detail, lists["business"].detail) == ("employer", "entity")
    # 重度残疾人护理补贴 is not income-tested: never excluded by these lists
    assert "重度残疾人护理补贴" not in lists["payroll"].excludes + lists["business"].excludes
    for kind in ("deaths", "prisoners", "pensions"):  # about the person paid
        assert set(lists[kind].match.values()) == {"person"} and not lists[kind].wide, kind
    rules = {r.code: r for r in list_rules(load_config())}
    assert ("for 困难残疾人生活补贴: the beneficiary or their spouse (户主/配偶 of one household) on "
            "the list; for 城市低保, 农村低保, 特困供养: anyone of the beneficiary's household on the "
            "roll on the list") in rules["E03"].doc
    assert "spouse" not in rules["E01"].doc and "household on the roll" not in rules["E05"].doc


@pytest.mark.parametrize("text, message", [
    ("lists:\n  payroll:\n    match: family\n",
     "lists.payroll.match: expected one of ['person', 'spouse', 'household'], or a mapping"),
    ("lists:\n  payroll:\n    match: {困难残疾人生活补贴: couple}\n",
     "lists.payroll.match.困难残疾人生活补贴: expected one of ['person', 'spouse', 'household']"),
    ("lists:\n  payroll:\n    match: {城乡低保: spouse}\n",
     ("lists.payroll.match.城乡低保: expected person or household for the household-level fund "
      "城市低保")),
    ("lists:\n  pensions:\n    match: spouse\n",
     "lists.pensions.match: expected person or household for the household-level fund 城市低保"),
    ("lists:\n  payroll:\n    match: {重度残疾人护理补贴: person}\n",
     ("lists.payroll.match.重度残疾人护理补贴: expected a fund the list excludes "
      "(lists.payroll.excludes: ['城市低保', '农村低保', '特困供养', '困难残疾人生活补贴']; add it")),
    ("lists:\n  payroll:\n    match: {低保: household}\n",
     "lists.payroll.match.低保: expected a fund or fund family named under funds"),
    ("lists:\n  payroll:\n    detail: 单位\n",
     "lists.payroll.detail: expected null or a column of tables.payroll: ['name', 'employer'"),
])
def test_match_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "my.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "my.yaml")
    assert message in str(err.value)


def test_match_by_family_by_fund_and_in_one_word(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "lists:\n  payroll:\n    match: {城乡低保: household, 农村低保: person}\n"
        "  pensions:\n    match: {城乡低保: household}\n", encoding="utf-8")
    lists = load_config(tmp_path / "a.yaml").lists
    # a user's mapping is merged over the default one; a fund's own key wins over its family
    assert lists["payroll"].match == {"城市低保": "household", "农村低保": "person",
                                      "特困供养": "household", "困难残疾人生活补贴": "spouse"}
    assert lists["pensions"].match == {"城市低保": "household", "农村低保": "household"}
    (tmp_path / "b.yaml").write_text("lists:\n  payroll:\n    match: person\n", encoding="utf-8")
    assert set(load_config(tmp_path / "b.yaml").lists["payroll"].match.values()) == {"person"}


def test_matched_by_person_only_a_member_is_found_with_their_share(tmp_path: Path) -> None:
    data = _files(tmp_path)
    (tmp_path / "person.yaml").write_text("lists:\n  payroll:\n    match: person\n"
                                          "    detail: null\n", encoding="utf-8")
    config = load_config(tmp_path / "person.yaml")
    result = run_rules(data, config, select=["E03"])
    assert result.findings.select("household_id", "id_number", "amount", "evidence").rows() == [
        ("H1", B, 60000, ("张小三（110101********0015）在「财政供养人员领取」比对名单上（名单无日期，"
                          "按核查期内一直在册处理），2023-03至2023-05 仍领取农村低保 3 个月，"
                          "共 600.00 元（按其户内份额计）"))]


COUPLES_CSV = f"""\
户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,银行卡号
H1,张三,{A},本人,困难残疾人生活补贴,80,6217000000000001
H1,李秀英,{C},妻,重度残疾人护理补贴,100,6217000000000002
H1,张小三,{B},子,困难残疾人生活补贴,80,6217000000000003
H2,王五,{D},户主,困难残疾人生活补贴,80,6217000000000004
H3,赵六,{E},户主,特困供养,600,6217000000000005
H3,赵小六,{F},孙子,孤儿基本生活费,1200,6217000000000006
"""


def test_a_spouse_by_the_roll_relation_as_written(tmp_path: Path) -> None:
    """本人/妻 are the 户主/配偶 pair; a son (子) is not his mother's spouse; 特困供养 is touched
    by anyone of the household; a person of another household is no one's relative."""
    config = load_config()
    (tmp_path / "roll.csv").write_text(COUPLES_CSV, encoding="utf-8")
    (tmp_path / "pay.csv").write_text("代发日期,账号,金额,摘要\n" + "".join(
        f"2023-{m:02d}-10,621700000000000{card},{amount},2023年{m:02d}月{memo}\n"
        for m in (3, 4)
        for card, amount, memo in ((1, 80, "残疾人生活补贴"), (2, 100, "护理补贴"),
                                   (3, 80, "残疾人生活补贴"), (4, 80, "残疾人生活补贴"),
                                   (5, 600, "特困供养"), (6, 1200, "孤儿基本生活费"))),
        encoding="utf-8")
    (tmp_path / "payroll.csv").write_text(
        f"姓名,身份证号,单位\n李秀英,{C},某县医院\n赵小六,{F},某县中学\n", encoding="utf-8")
    data = {kind: load_file(tmp_path / f"{kind}.csv", kind, config).frame
            for kind in ("roll", "payroll")}
    data["payments"] = load_file(tmp_path / "pay.csv", "payments", config).frame
    for engine in (None, DuckDBEngine()):
        result = run_rules(data, config, engine=engine, select=["E03"])
        got = result.findings.sort("household_id").select(
            "household_id", "id_number", "card_no", "fund", "amount", "evidence").rows()
        assert got == [
            ("H1", A, "6217000000000001", "困难残疾人生活补贴", 16000,
             ("张三（110101********0017）的配偶李秀英（110101********0012）在「财政供养人员领取」"
              "比对名单上（工作单位 某县医院，名单无日期，按核查期内一直在册处理），2023-03至2023-04 "
              "仍领取困难残疾人生活补贴 2 个月，共 160.00 元")),
            ("H3", E, "6217000000000005", "特困供养", 120000,
             ("赵六（110101********0016）的同户成员赵小六（110101********0011）在「财政供养人员领取」"
              "比对名单上（工作单位 某县中学，名单无日期，按核查期内一直在册处理），2023-03至2023-04 "
              "仍领取特困供养 2 个月，共 1200.00 元")),
        ]


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_demo_relatives_on_the_lists_at_small_size(seed: int, demo_frames) -> None:
    """The demo's spouses and sons on the payroll and business lists, planted and look-alike,
    at the smallest county and several seeds: every planted case found, no look-alike flagged,
    nothing else found by E01–E05."""
    from cardcheck.demo.score import score

    data, truth = demo_frames(households=300, seed=seed)
    codes = ["E01", "E02", "E03", "E04", "E05"]
    truth = truth.filter(pl.col("rule").is_in(codes))
    notes = truth.get_column("note").to_list()
    assert any("on 困难残疾人生活补贴, the 配偶" in n for n in notes)
    assert any("whose son" in n and "registered business owner" in n for n in notes)
    assert sum("is not income-tested; the 配偶 is on the payroll" in n for n in notes) == 2
    assert any("the 配偶 of another household with the 户主's surname" in n for n in notes)
    result = run_rules(data, load_config(), select=codes)
    scored, extra = score(result.findings, truth)
    assert scored.filter(~pl.col("ok")).select("rule", "kind", "note").rows() == []
    assert extra.select("rule", "evidence").rows() == []
    evidence = result.findings.filter(pl.col("rule") == "E03").get_column("evidence").to_list()
    assert any("的配偶" in e and "仍领取困难残疾人生活补贴" in e for e in evidence)
