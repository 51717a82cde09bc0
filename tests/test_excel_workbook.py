"""The campaign workbook read back: sheets, totals, IDs as intact text, no formula from input,
row continuation, and the report settings' validation."""

from __future__ import annotations

import csv
import json
import re
import stat
import tempfile
import zipfile
from itertools import pairwise
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from cardcheck.config import config_with, load_config
from cardcheck.errors import ConfigError
from cardcheck.example import CARDS, HYPERLINK, IDS, example_findings, example_run
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import Timer
from cardcheck.progress import Progress
from cardcheck.report.book import BookInput, build_and_write
from cardcheck.report.spec import report_spec

SHEETS = ["汇总", "表1", "表2", "表3", "表4", "表5", "C03 救助对象与持卡人不一致", "C04 代管代取",
          "C05 发放摘要不规范", "E06 重复享受", "P03 金额不符"]


def workbook(tmp_path: Path, **options: object) -> Path:
    run = example_run(tmp_path / "out", quiet=True, **options)
    write_outputs(run, Timer(), Progress(quiet=True))
    return run.outputs["workbook"]


def sheet(path: Path, name: str, header_row: int | None = 2, key: str | None = None
          ) -> pl.DataFrame:
    """A sheet read below its header (title, 填报单位 and subtitle above it); with `key`, only
    the rows that have it (not the 合计 row nor the signature line under the table)."""
    reader = fastexcel.read_excel(str(path))
    df = reader.load_sheet(name, header_row=header_row, dtypes="string",
                           skip_rows=0 if header_row is None else None).to_polars()
    return df.filter(pl.col(key).is_not_null()) if key else df


def test_every_sheet_present(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    assert path.name == "cardcheck_141125_202301-202303.xlsx"
    assert fastexcel.read_excel(str(path)).sheet_names == SHEETS


def run_outputs(workbook_path: Path) -> dict[str, str]:
    manifest = json.loads((workbook_path.parent / "manifest.json").read_text(encoding="utf-8"))
    return manifest["outputs"]


def cards_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_table2_lists_cards_with_findings_and_the_csv_every_card(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    head = sheet(path, "表2", header_row=None).to_series(0).to_list()
    assert head[1].startswith("填报单位（盖章）：　")  # no name in the example: to fill in
    assert head[2] == ("本次共核查 5 张卡，本表只列出发现问题的 4 张卡；每张卡的核对情况见工作簿"
                       "同一文件夹中的 表2_全部卡片.csv")
    full = sheet(path, "表2", header_row=3)
    t2 = full.filter(pl.col("卡号").is_not_null())
    assert t2["卡号"].to_list() == ["6217****0001", "6228****0003", "6217****0005",
                                   "6228****0004"]
    assert t2["序号"].to_list() == ["1", "2", "3", "4"]
    total = full.filter(pl.col("乡镇（街道）") == "合计").row(0, named=True)
    assert float(total["发放金额(元)"]) == sum(float(v) for v in t2["发放金额(元)"])
    with zipfile.ZipFile(path) as z:  # the header, two rows lower, is frozen and filtered
        xml = z.read("xl/worksheets/sheet3.xml").decode()
        names = z.read("xl/workbook.xml").decode()
    # the 合计 row (8) is left out of the filter, so that sorting never moves it
    assert '<pane ySplit="4" topLeftCell="A5"' in xml and '<autoFilter ref="A4:N8"/>' in xml
    assert "表2!$1:$4</definedName>" in names  # title … note, header on every page
    csv_path = Path(run_outputs(path)["cards"])
    assert csv_path == path.parent / "表2_全部卡片.csv"
    assert csv_path.read_bytes().startswith("\ufeff".encode())  # Excel reads it as UTF-8
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    rows = cards_csv(csv_path)
    assert list(rows[0]) == t2.columns
    assert [r["卡号"] for r in rows] == ["6217****0001", "6217****0002", "6228****0003",
                                        "6217****0005", "6228****0004"]
    # 王五's card has no finding: in the CSV, not in the sheet
    assert rows[1] == {
        "序号": "2", "乡镇（街道）": "柳林镇", "村（社区）": "西村", "卡号": "6217****0002", "开户网点": "柳林支行",
        "持卡人": "王五", "持卡人身份证号": "141125********0011", "享受对象": "王五", "对象人数": "1",
        "救助项目": "农村低保", "发放月数": "3", "发放金额(元)": "1350.00", "摘要规范情况": "规范",
        "发现问题": ""}
    # 张三's household card has two: the same row in both
    first = rows[0]
    assert first["发现问题"] == "代管代取、金额不符" and first["发放金额(元)"] == "1800.00"
    shown = t2.row(0, named=True)
    assert float(shown.pop("发放金额(元)")) == 1800.0
    assert shown == {k: v for k, v in first.items() if k != "发放金额(元)"}
    third = t2.row(2, named=True)  # the sheet numbers its own rows
    assert third["序号"] == "3" and third["卡号"] == rows[3]["卡号"] and rows[3]["序号"] == "4"


def test_summary_totals_equal_findings(tmp_path: Path) -> None:
    df = sheet(workbook(tmp_path), "汇总", header_row=None)
    rows = [[c for c in r] for r in df.iter_rows()]
    totals = [r for r in rows if r[0] == "合计"]
    by_rule, by_town, progress = totals[0], totals[1], totals[2]
    assert by_rule[4:6] == ["7", "7"] and float(by_rule[8]) == 9100.0
    assert by_town[1:3] == ["7", "7"] and float(by_town[5]) == 9100.0
    assert progress[1:6] == ["7", "0", "0", "7", "0"]  # found, 已整改, 整改中, 未整改, 不属实
    c04 = next(r for r in rows if r[0] == "C04")
    assert c04[1:9] == ["代管代取", "代管代取", "已运行", "2", "2", "2", "0", "3600"]
    scope = {r[0]: r[1] for r in rows[4:17]}
    assert scope["发现问题数（按案计）"] == "7" and scope["明细条数（表4行数）"] == "7"
    assert scope["核查户数"] == "5" and scope["发放笔数"] == "15" and scope["核查卡数"] == "5"
    assert rows[1][0].startswith("填报单位（盖章）：") and rows[1][-1] == "单位：元、户、人"
    assert any(str(r[0]).startswith("负责人：") and "填报日期：" in str(r[0]) for r in rows)


def test_table4_one_row_per_finding(tmp_path: Path) -> None:
    full = sheet(workbook(tmp_path), "表4")
    t4 = full.filter(pl.col("问题编号").is_not_null())
    assert t4.columns[:4] == ["问题编号", "序号", "县", "乡镇"] and t4.columns[-1] == "备注"
    assert sorted(t4["问题编号"].to_list()) == sorted(example_findings()["finding_id"].to_list())
    assert t4["序号"].to_list() == [str(i) for i in range(1, 8)]
    assert sum(float(v) for v in t4["涉及金额(元)"].to_list()) == 9100.0
    total = full.filter(pl.col("乡镇") == "合计").row(0, named=True)
    assert float(total["涉及金额(元)"]) == 9100.0 and float(total["追回金额(元)"]) == 0
    assert set(t4["整改状态"]) == {"未整改"}
    row = t4.filter(pl.col("问题编号") == "eb813c72cacd").row(0, named=True)
    assert row["身份证号"] == "141125********0025" and row["账号"] == "6228****0003"
    assert row["问题类型"] == "救助对象与持卡人不一致" and row["责任单位"] == "穆村分理处"
    assert row["涉及人数"] == "1" and row["发现阶段"] == "自查自纠"


def test_ids_are_text_and_intact_with_unmask(tmp_path: Path) -> None:
    path = workbook(tmp_path, unmask=True)
    t4 = sheet(path, "表4", key="问题编号")
    assert set(t4["身份证号"].drop_nulls()) == {IDS["d"], IDS["f"]}
    assert CARDS["C"] in t4["账号"].to_list()
    t2 = sheet(path, "表2", header_row=3, key="卡号")  # 王五's card (c) has no finding
    assert set(t2["持卡人身份证号"]) == {IDS["a"], IDS["e"], IDS["f"]}
    assert {r["持卡人身份证号"] for r in cards_csv(run_outputs(path)["cards"])} == {
        IDS["a"], IDS["c"], IDS["e"], IDS["f"]}
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet5.xml").decode()
    assert re.search(rf"<c r=\"J\d+\"[^>]*t=\"inlineStr\"><is><t>{IDS['d']}</t>", xml)


def test_no_formula_from_input(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        texts = [z.read(n).decode() for n in sheets]
    assert not any("<f>" in t or "<f " in t for t in texts)
    assert any('<t>=HYPERLINK("http://example.invalid"' in t for t in texts)
    assert sheet(path, "C05 发放摘要不规范")["证据"].to_list().count(HYPERLINK) == 1
    assert "@孙八" in sheet(path, "表4")["对象姓名"].to_list()


def test_craft_freeze_filter_dropdown_print(tmp_path: Path) -> None:
    with zipfile.ZipFile(workbook(tmp_path)) as z:
        t4 = z.read("xl/worksheets/sheet5.xml").decode()
        wb = z.read("xl/workbook.xml").decode()
    assert '<pane ySplit="3" topLeftCell="A4"' in t4 and "<autoFilter" in t4
    assert "<dataValidation type=\"list\"" in t4 and "未整改,整改中,已整改,不属实,销号" in t4
    assert 'orientation="landscape"' in t4 and 'paperSize="9"' in t4
    assert "_xlnm.Print_Titles" in wb


def test_long_sheet_continues_with_note(tmp_path: Path) -> None:
    run = example_run(tmp_path)
    spec = report_spec(run.config)
    inp = BookInput(run.result.findings, run.inputs.frames, run.result.runs, run.inputs.counts,
                    spec, "自查自纠")
    # 3 head rows, 3 data rows, the 合计 row, a blank one and the signature line
    path = build_and_write(tmp_path / "small.xlsx", inp, max_rows=9)
    names = fastexcel.read_excel(str(path)).sheet_names
    assert [n for n in names if n.startswith("表4")] == ["表4", "表4（续2）", "表4（续3）"]
    ids = pl.concat([sheet(path, n, key="问题编号")
                     for n in ("表4", "表4（续2）", "表4（续3）")])["问题编号"]
    assert sorted(ids.to_list()) == sorted(run.result.findings["finding_id"].to_list())
    notes = sheet(path, "汇总", header_row=None).to_series(0).to_list()
    assert "表4 共 7 行，超过单表行数上限，续表：表4（续2）、表4（续3）" in notes


def test_large_workbook_packaged_through_temporary_files_is_the_same(tmp_path: Path,
                                                                   monkeypatch) -> None:
    import cardcheck.report.excel as X

    run = example_run(tmp_path)
    inp = BookInput(run.result.findings, run.inputs.frames, run.result.runs, run.inputs.counts,
                    report_spec(run.config), "自查自纠")
    small = build_and_write(tmp_path / "small.xlsx", inp)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(X, "IN_MEMORY_ROWS", 6)  # 7 findings: "large"
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    large = build_and_write(tmp_path / "large.xlsx", inp)
    with zipfile.ZipFile(small) as a, zipfile.ZipFile(large) as b:
        assert a.namelist() == b.namelist()
        parts = [n for n in a.namelist() if n != "docProps/core.xml"]  # time of creation
        assert [a.read(n) for n in parts] == [b.read(n) for n in parts]
        assert {i.date_time for i in b.infolist()} == {(1980, 1, 31, 0, 0, 0)}  # from disk
    assert list(scratch.iterdir()) == []


def test_no_excel_option(tmp_path: Path) -> None:
    run = example_run(tmp_path / "out", quiet=True, excel=False)
    write_outputs(run, Timer(), Progress(quiet=True))
    assert "workbook" not in run.outputs and not list((tmp_path / "out").glob("*.xlsx"))
    assert "cards" not in run.outputs
    assert sorted(p.name for p in (tmp_path / "out").glob("*.csv")) == ["findings.csv",
                                                                        "rejects.csv"]


@pytest.mark.parametrize("patch, message", [
    ({"deadline_days": "soon"}, "report.deadline_days: expected a whole number of days ≥ 0"),
    ({"sheets": {"t4": {"columns": [["seq", "序号"], ["nope", "x"]]}}},
     "report.sheets.t4.columns[1]: expected a field among"),
    ({"sheets": {"t4": {"columns": [["seq", "序号"]]}}},
     "report.sheets.t4.columns: expected a column for 'finding_id'"),
    ({"sheets": {"t1": {"name": "表:1"}}}, "report.sheets.t1.name: expected a sheet name"),
    ({"statuses": ["a", "b"]}, "report.statuses: expected four different texts"),
])
def test_report_settings_errors_name_the_key(patch: dict, message: str) -> None:
    bad = config_with({"report": patch})
    with pytest.raises(ConfigError, match=re.escape(message)):
        report_spec(bad)


def test_cards_csv_follows_a_renamed_table2(tmp_path: Path) -> None:
    from cardcheck.example import example_frames
    from cardcheck.report import tables as T
    from cardcheck.report.book import cards_csv_path, write_cards_csv

    config = load_config()
    renamed = config_with({"report": {"sheets": {"t2": {
        "name": "核对表 <卡>", "columns": [["card_no", "卡号"], ["paid", "金额"],
                                         ["holder_name", "金额"]]}}}})
    spec = report_spec(renamed)
    path = cards_csv_path(tmp_path / "book.xlsx", spec)
    assert path == tmp_path / "核对表_卡__全部卡片.csv"
    write_cards_csv(T.table2(example_frames(config), example_findings()), spec.sheets["t2"], path)
    assert cards_csv(path)[0] == {"卡号": "6217****0001", "金额": "1800.00", "金额(2)": "张三"}


def test_table4_locks_all_but_what_a_township_fills_in(tmp_path: Path) -> None:
    import openpyxl

    path = workbook(tmp_path)
    ws = openpyxl.load_workbook(path)["表4"]
    assert ws.protection.sheet and not ws.protection.password  # no password to lift it
    assert ws.protection.autoFilter is False  # (False: filtering stays allowed)
    header = [c.value for c in ws[3]]
    assert header[0] == "问题编号"
    fill = {"责任单位", "整改措施", "整改时限", "整改状态", "追回金额(元)", "备注"}
    rows = range(4, 11)  # the 7 findings
    for col, name in enumerate(header, start=1):
        cells = [ws.cell(r, col) for r in rows]
        if name in fill:
            assert all(not c.protection.locked and c.fill.fgColor.rgb.endswith("FFF2CC")
                       for c in cells), name
        else:
            assert all(c.protection.locked for c in cells), name
    total = [c.value for c in ws[11]]
    assert "合计" in total and all(ws.cell(11, col).protection.locked for col in range(1, 22))
    (rule,) = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    status = header.index("整改状态") + 1
    letter = openpyxl.utils.get_column_letter(status)
    assert str(rule.sqref) == f"{letter}4:{letter}10"
    assert rule.formula1 == '"未整改,整改中,已整改,不属实,销号"'


def test_a_wide_table_prints_in_readable_parts(tmp_path: Path) -> None:
    import openpyxl

    from cardcheck.report.excel import PART_CHARS, print_parts

    wb = openpyxl.load_workbook(workbook(tmp_path))
    t1, t4 = wb["表1"], wb["表4"]
    assert t1.sheet_properties.pageSetUpPr.fitToPage and t1.page_setup.fitToHeight == 0
    assert not t4.sheet_properties.pageSetUpPr.fitToPage  # 表4 is printed in parts …
    breaks = [b.id for b in t4.col_breaks.brk]
    assert len(breaks) >= 1 and 60 <= t4.page_setup.scale <= 100  # … at a readable scale
    assert t4.print_title_cols == "$A:$B"  # 问题编号 and 序号 on every part
    widths = [8.0] * 40
    parts = print_parts(widths, keys=2)
    bounds = [*parts, len(widths)]
    for i, (a, b) in enumerate(pairwise(bounds)):
        assert sum(w + 0.7 for w in widths[a:b]) + (2 * 8.7 if i else 0) <= PART_CHARS


def test_the_workbook_page_shows_real_pictures_and_valid_settings(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    page = (root / "docs" / "workbook.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\((img/[^)]+\.png)\)", page)
    assert len(pictures) >= 3 and "docs/workbook.md" in (root / "README.md").read_text()
    for picture in pictures:
        assert (root / "docs" / picture).read_bytes().startswith(b"\x89PNG")
    assert sum((root / "docs" / p).stat().st_size for p in pictures) < 400_000
    for block in re.findall(r"^```yaml\n(.*?)^```", page, flags=re.DOTALL | re.MULTILINE):
        (tmp_path / "设置.yaml").write_text(block, encoding="utf-8")
        report_spec(load_config(tmp_path / "设置.yaml"))
