"""Shapes real civil-affairs and bank systems export, each read to the same canonical values.

Fixtures are written the way the exporting systems write them: openpyxl / xlwt workbooks with
merged cells and several sheets, HTML tables with rowspan, GBK and CR-only text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.errors import InputError
from cardcheck.ingest import load_file

CONFIG = load_config(None)
HEADER = ["乡镇", "村", "户编号", "姓名", "身份证号", "与户主关系", "救助类别", "月保障金额"]
ROWS = [
    ["庄上镇", "宋家坪村", "H1", "杨海", "141125197312051779", "户主", "农村低保", "433.50"],
    ["庄上镇", "宋家坪村", "H1", "杨梅", "141125197501012224", "配偶", "农村低保", "433.50"],
    ["庄上镇", "宋家坪村", "H2", "李琴", "141125196001011226", "户主", "特困人员供养", "800"],
]
WANT = pl.DataFrame({"household_id": ["H1", "H1", "H2"], "name": ["杨海", "杨梅", "李琴"],
                     "id_number": [r[4] for r in ROWS]})


def values(path: Path, kind: str = "roll") -> pl.DataFrame:
    return load_file(path, kind, CONFIG).frame


def same_people(frame: pl.DataFrame) -> None:
    got = frame.select("household_id", "name", "id_number").sort("id_number")
    assert got.equals(WANT.sort("id_number"))


def test_member_roll_with_the_heads_columns(tmp_path: Path) -> None:
    src = tmp_path / "低保成员.csv"
    header = ["户主姓名", "户主身份证号", *HEADER]
    heads = {"H1": ("杨海", ROWS[0][4]), "H2": ("李琴", ROWS[2][4])}
    lines = [",".join(header)] + [",".join([*heads[r[2]], *r]) for r in ROWS]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = values(src)
    same_people(got)
    assert got.get_column("head_name").to_list() == ["杨海", "杨海", "李琴"]
    assert got.get_column("head_id").to_list() == [ROWS[0][4], ROWS[0][4], ROWS[2][4]]


def test_household_roll_reads_the_heads_columns_as_the_beneficiary(tmp_path: Path) -> None:
    src = tmp_path / "低保户.csv"
    src.write_text("户编号,户主姓名,户主身份证号,救助类别,户月保障金额\n"
                   f"H2,李琴,{ROWS[2][4]},城市低保,900\n", encoding="utf-8")
    got = values(src)
    assert got.select("name", "id_number", "relation").row(0) == ("李琴", ROWS[2][4], "户主")


def test_sheets_per_township_hidden_copy_and_notes_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "本表由民政系统导出"
    old = wb.create_sheet("旧")
    old.append(HEADER)
    old.append(["旧镇", "旧村", "H9", "王五", "141125195001010014", "户主", "农村低保", "1"])
    old.sheet_state = "hidden"
    for rows, name in ((ROWS[:2], "庄上镇一"), (ROWS[2:], "庄上镇二")):
        ws = wb.create_sheet(name)
        ws.append(HEADER)
        for r in rows:
            ws.append(r)
    wb.save(tmp_path / "roll.xlsx")
    got = load_file(tmp_path / "roll.xlsx", "roll", CONFIG)
    same_people(got.frame)
    assert got.counts.sheets == ["庄上镇一", "庄上镇二"]
    assert [s for s, _ in got.counts.ignored_sheets] == ["旧", "说明"]
    assert got.counts.read == 3


def test_bad_cell_on_a_later_sheet_points_at_sheet_and_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "一月"
    wb.active.append(["发放日期", "卡号", "金额"])
    wb.active.append(["2023-01-05", "6217000000000001", "80"])
    ws = wb.create_sheet("二月")
    ws.append(["发放日期", "卡号", "金额"])
    ws.append(["2023-02-05", "6217000000000001", "80"])
    ws.append(["2023-02-05", "6217000000000002", "八十"])
    wb.save(tmp_path / "pay.xlsx")
    got = load_file(tmp_path / "pay.xlsx", "payments", CONFIG)
    assert got.frame.height == 2
    assert got.rejects.select("sheet", "line", "value").row(0) == ("二月", 3, "八十")


def test_printed_roll_two_row_header_and_household_cells_merged(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["柳林县救助对象花名册"])
    ws.merge_cells("A1:H1")
    ws.append(["单位：元"])
    ws.append(["乡镇", "村", "户编号", "家庭成员", None, None, "保障信息", None])
    ws.append([None, None, None, "姓名", "身份证号", "与户主关系", "救助类别", "月保障金额"])
    for col in "ABC":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("D3:F3")
    ws.merge_cells("G3:H3")
    ws.append(list("12345678"))  # 栏次
    for r in ROWS:
        ws.append(r)
    for col in "ABC":  # the first household's cells merged over its two members
        ws[f"{col}7"] = None
        ws.merge_cells(f"{col}6:{col}7")
    ws.append(["第1页 共1页"])
    ws.append(["制表人：张三", None, "审核人：李四", None, "填报单位（盖章）"])
    wb.save(tmp_path / "printed.xlsx")
    got = load_file(tmp_path / "printed.xlsx", "roll", CONFIG)
    same_people(got.frame)
    assert got.frame.get_column("township").to_list() == ["庄上镇"] * 3
    assert got.counts.rejected == 0
    assert got.counts.skipped_reasons == {"column numbers (栏次)": 1, "page mark (第N页)": 1,
                                          "footer (制表人)": 1}
    assert got.counts.read == got.counts.loaded + got.counts.skipped


def test_legacy_xls_with_merged_household_cells(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("名册")
    for i, h in enumerate(HEADER):
        ws.write(0, i, h)
    for r, row in enumerate(ROWS, start=1):
        for i, v in enumerate(row):
            if i < 3 and r == 2:
                continue
            if i < 3 and r == 1:
                ws.write_merge(1, 2, i, i, v)
            else:
                ws.write(r, i, v)
    wb.save(str(tmp_path / "roll.xls"))
    same_people(values(tmp_path / "roll.xls"))


def test_html_xls_with_rowspan_and_colspan_headers(tmp_path: Path) -> None:
    head = ('<tr><th rowspan="2">乡镇</th><th rowspan="2">村</th><th rowspan="2">户编号</th>'
            '<th colspan="3">家庭成员</th><th rowspan="2">救助类别</th><th rowspan="2">月保障金额</th>'
            '</tr><tr><th>姓名</th><th>身份证号</th><th>与户主关系</th></tr>')
    body = ('<tr><td rowspan="2">庄上镇</td><td rowspan="2">宋家坪村</td><td rowspan="2">H1</td>'
            + "".join(f"<td>{v}</td>" for v in ROWS[0][3:]) + "</tr><tr>"
            + "".join(f"<td>{v}</td>" for v in ROWS[1][3:]) + "</tr><tr>"
            + "".join(f"<td>{v}</td>" for v in ROWS[2]) + "</tr>")
    page = f"<html><head><meta charset='gbk'></head><body><table>{head}{body}</table></body></html>"
    (tmp_path / "roll.xls").write_bytes(page.encode("gbk"))
    got = values(tmp_path / "roll.xls")
    same_people(got)
    assert got.get_column("village").to_list() == ["宋家坪村"] * 3


def test_html_one_table_per_page_reads_every_page(tmp_path: Path) -> None:
    def table(rows: list[list[str]]) -> str:
        cells = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in rows)
        return f"<table>{cells}</table>"
    page = "<html><body>" + table([HEADER, *ROWS[:2]]) + table([HEADER, ROWS[2]]) + "</body></html>"
    (tmp_path / "roll.xls").write_text(page, encoding="utf-8")
    got = load_file(tmp_path / "roll.xls", "roll", CONFIG)
    same_people(got.frame)
    assert got.counts.skipped_reasons == {"repeated header": 1}


@pytest.mark.parametrize("ending", ["\r", "mixed"])
def test_cr_line_endings_lose_no_row(tmp_path: Path, ending: str) -> None:
    lines = [",".join(HEADER)] + [",".join(r) for r in ROWS]
    text = "\r".join(lines) if ending == "\r" else lines[0] + "\r\n" + lines[1] + "\r" + \
        lines[2] + "\n" + lines[3] + "\r\n"
    (tmp_path / "roll.csv").write_bytes(text.encode("gbk"))
    got = load_file(tmp_path / "roll.csv", "roll", CONFIG)
    same_people(got.frame)
    assert got.frame.get_column("source_line").to_list() == [2, 3, 4]


def test_header_units_and_notes(tmp_path: Path) -> None:
    src = tmp_path / "roll.csv"
    src.write_text("*姓名,公民身份号码（18位）,救助类别（必填）,保障金额（元/月）,\"户编\n号\"\n"
                   f"杨海,{ROWS[0][4]},农村低保,433.5,H1\n", encoding="utf-8")
    got = values(src)
    assert got.select("name", "id_number", "fund", "monthly_amount", "household_id").row(0) == (
        "杨海", ROWS[0][4], "农村低保", 43350, "H1")


def test_disability_roll_headers(tmp_path: Path) -> None:
    src = tmp_path / "残联.csv"
    src.write_text("姓名,身份证号,补贴类别,发放金额（元/月）,享受起始时间\n"
                   f"杨海,{ROWS[0][4]},重度残疾人护理补贴,80,2022-03-01\n", encoding="utf-8")
    got = values(src)
    assert got.select("fund", "monthly_amount", "start_date").row(0) == (
        "重度残疾人护理补贴", 8000, dt.date(2022, 3, 1))


def test_transactions_with_income_and_outgoing_columns(tmp_path: Path) -> None:
    src = tmp_path / "流水.csv"
    src.write_text("卡号,交易时间,收入金额,支出金额\n"
                   "6217000000000001,2023-01-05 08:00:00,433.50,\n"
                   "6217000000000001,2023-01-06 09:00:00,0.00,400.00\n"
                   "6217000000000001,2023-01-07 09:00:00,10,20\n", encoding="utf-8")
    got = load_file(src, "transactions", CONFIG)
    assert got.frame.select("direction", "amount").rows() == [("C", 43350), ("D", 40000)]
    assert got.rejects.select("line", "reason").row(0) == (4, "收入金额和支出金额同时有值，无法确定方向")


@pytest.mark.parametrize("debit, credit", [("1", "2"), ("D", "C"), ("借", "贷"), ("支", "收"),
                                           ("-", "+"), ("01", "02")])
def test_direction_codes(tmp_path: Path, debit: str, credit: str) -> None:
    src = tmp_path / "流水.csv"
    src.write_text(f"卡号,交易时间,借贷标志,交易金额\n6217000000000001,2023-01-05,{credit},80\n"
                   f"6217000000000001,2023-01-06,{debit},80\n", encoding="utf-8")
    assert values(src, "transactions").get_column("direction").to_list() == ["C", "D"]


def test_direction_codes_from_the_users_config(tmp_path: Path) -> None:
    cfg = tmp_path / "my.yaml"
    cfg.write_text("tables:\n  transactions:\n    codes:\n      direction: {C: ['1'], D: ['0']}\n",
                   encoding="utf-8")
    src = tmp_path / "流水.csv"
    src.write_text("卡号,交易时间,借贷标志,交易金额\n6217000000000001,2023-01-05,1,80\n"
                   "6217000000000001,2023-01-06,0,80\n", encoding="utf-8")
    got = load_file(src, "transactions", load_config(cfg))
    assert got.frame.get_column("direction").to_list() == ["C", "D"]


def test_gbk_header_not_found_gives_no_encoding_advice(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_bytes("甲,乙,丙\n1,2,3\n".encode("gbk"))
    with pytest.raises(InputError) as info:
        load_file(src, "roll", CONFIG)
    assert "编码" not in str(info.value)


def test_inspect_shows_sheets_headers_and_fates(tmp_path: Path) -> None:
    test_sheets_per_township_hidden_copy_and_notes_sheet(tmp_path)
    (tmp_path / "流水.csv").write_text("卡号,交易时间,收入金额,支出金额,备用\n"
                                      "6217000000000001,2023-01-05,1,1,x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "roll.xlsx"),
                                      str(tmp_path / "流水.csv")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "roll.xlsx  [roll]  xlsx" in out
    assert "sheets read: 庄上镇一、庄上镇二" in out
    assert "sheet ignored: 旧 — 隐藏的工作表，未读取" in out
    assert "4. 姓名 → name" in out
    assert "rows: 3 read = 3 loaded + 0 rejected + 0 skipped" in out
    assert "流水.csv  [transactions]" in out
    assert "备用 → ignored: 不是已知的列名，未读取" in out
    assert "2: 收入金额/支出金额 “1/1” — 收入金额和支出金额同时有值，无法确定方向" in out


def test_inspect_goes_on_past_a_file_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("卡号,户名\n6217000000000001,张三\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert result.exit_code == 2
    assert "a.csv: cannot be read" in result.output
    assert "b.csv  [accounts]" in result.output


def test_a_table_whose_every_row_was_rejected_counts_as_absent(tmp_path: Path) -> None:
    from cardcheck.engines.runner import run_rules
    from cardcheck.ingest import load_inputs

    (tmp_path / "roll.csv").write_text(
        "姓名,身份证号,救助类别\n杨海,141125197312051779,外星补贴\n", encoding="utf-8")
    (tmp_path / "pay.csv").write_text(
        "发放日期,卡号,金额\n2023-01-05,6217000000000001,80\n", encoding="utf-8")
    inputs = load_inputs({"roll": [tmp_path / "roll.csv"], "payments": [tmp_path / "pay.csv"]},
                         CONFIG)
    assert inputs.unusable() == {"roll": "roll (roll.csv) has no usable rows: 1 read, 1 rejected "
                                         "(see rejects.csv)"}
    result = run_rules(inputs.frames, CONFIG, select=["P01", "E09"], unusable=inputs.unusable())
    why = "roll (roll.csv) has no usable rows: 1 read, 1 rejected (see rejects.csv)"
    assert sorted((r.code, r.status, r.reason) for r in result.runs) == [
        ("E09", "skipped", why), ("P01", "skipped", why)]


def test_damaged_card_keeps_the_beneficiary_and_is_an_e09_finding(tmp_path: Path) -> None:
    from cardcheck.engines.runner import run_rules
    from cardcheck.ingest import load_inputs

    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "救助类别", "银行卡号"])
    wb.active.append(["杨海", ROWS[0][4], "农村低保", 6217997762742367687])  # 19 digits: cut
    wb.active.append(["李琴", ROWS[2][4], "特困人员供养", 6217000011112222])  # 16 digits: exact
    wb.save(tmp_path / "roll.xlsx")
    inputs = load_inputs({"roll": [tmp_path / "roll.xlsx"]}, CONFIG)
    roll = inputs.frames["roll"]
    assert roll.select("name", "card_no").rows() == [("杨海", None), ("李琴", "6217000011112222")]
    assert inputs.counts[0].dropped == 1 and inputs.counts[0].rejected == 0
    assert inputs.rejects.select("line", "column", "reason").rows() == [
        (2, "银行卡号", "字段已置空，行已载入：卡号在 Excel 中被存成数字，超过 15 位的数字已丢失，无法使用")]
    found = run_rules(inputs.frames, CONFIG, select=["E09"]).findings
    assert found.filter(pl.col("hub") == "card_damaged").select("hub", "id_number", "name").rows() == [
        ("card_damaged", ROWS[0][4], "杨海")]


def test_reversals_net_their_credit_and_are_no_duplicate(tmp_path: Path) -> None:
    from cardcheck.engines.runner import run_rules
    from cardcheck.ingest import load_inputs

    (tmp_path / "roll.csv").write_text(
        "户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,保障起始日期,银行卡号\n"
        f"H1,杨海,{ROWS[0][4]},户主,特困人员供养,800,2022-01-01,6217000000000001\n",
        encoding="utf-8")
    # January paid, reversed (冲正) and paid again; February paid; a stray negative in March
    (tmp_path / "pay.csv").write_text(
        "发放日期,卡号,金额,摘要\n"
        "2023-01-05,6217000000000001,800,2023年1月特困供养金\n"
        "2023-01-06,6217000000000001,-800,冲正\n"
        "2023-01-09,6217000000000001,800,2023年1月特困供养金\n"
        "2023-02-05,6217000000000001,800,2023年2月特困供养金\n"
        "2023-03-05,6217000000000001,-500,退回\n", encoding="utf-8")
    inputs = load_inputs({"roll": [tmp_path / "roll.csv"], "payments": [tmp_path / "pay.csv"]},
                         CONFIG)
    pay = inputs.frames["payments"]
    assert pay.select("pay_date", "amount").rows() == [
        (dt.date(2023, 1, 9), 80000), (dt.date(2023, 2, 5), 80000), (dt.date(2023, 3, 5), -50000)]
    (rev,) = [r for r in inputs.reversals if r.kind == "payments"]
    assert (rev.pairs, rev.unmatched) == (1, 1)
    assert rev.netted.select("pay_date", "amount").rows() == [
        (dt.date(2023, 1, 6), -80000), (dt.date(2023, 1, 5), 80000)]
    assert inputs.counts[1].loaded == 5 and inputs.counts[1].rejected == 0
    found = run_rules(inputs.frames, CONFIG, select=["P04"]).findings
    assert found.height == 0  # the payment made again is no duplicate


def test_summary_says_what_reading_left_out(tmp_path: Path) -> None:
    from cardcheck.ingest import load_inputs
    from cardcheck.masking import terminal_text
    from cardcheck.report.terminal import file_notes

    test_sheets_per_township_hidden_copy_and_notes_sheet(tmp_path)
    (tmp_path / "pay.csv").write_text("发放日期,账号,卡号,金额\n2023-01-05,6217000000000001,"
                                      "6217000000000001,80\n", encoding="utf-8")
    inputs = load_inputs({"roll": [tmp_path / "roll.xlsx"], "payments": [tmp_path / "pay.csv"]},
                         CONFIG)
    assert file_notes(inputs.counts) == [
        ("  roll.xlsx：读取 2 个工作表（庄上镇一、庄上镇二）；未读工作表“旧”：隐藏的工作表，未读取；"
         "未读工作表“说明”：不是roll表（没有可识别的表头）"),
        "  pay.csv：未用列“卡号”：已用“账号”作 card_no 列"]
    assert terminal_text("a\x1b[31mb\x07") == "a\\x1b[31mb\\x07"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_line_with_more_fields_than_the_header_is_rejected(tmp_path: Path, quoted: bool) -> None:
    # an unquoted comma in a name shifts the line's cells; trailing empty fields are harmless
    text = ("发放日期,卡号,户名,金额\n2023-01-05,6217000000000001,张三,80\n"
            "2023-01-05,6217000000000002,李,四,80\n2023-01-05,6217000000000003,王五,80,,\n")
    if quoted:  # a quoted line break sends the file to Python's reader: the same verdicts
        text += '2023-01-05,6217000000000004,"赵\n六",80\n'
    (tmp_path / "p.csv").write_text(text, encoding="utf-8")
    got = load_file(tmp_path / "p.csv", "payments", CONFIG)
    assert got.frame.get_column("source_line").to_list() == [2, 4] + ([5] if quoted else [])
    (line, column, reason), = got.rejects.select("line", "column", "reason").rows()
    assert (line, column.split("；")[-1]) == (3, "整行")
    assert reason.endswith("这一行比表头多 1 个有内容的字段（可能有未加引号的分隔符），各列可能错位")
