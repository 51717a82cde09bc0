"""The ledger across stages: 自查自纠, a filled 表4 imported, 全面检查 on changed data."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.engines.runner import finding_ids
from cardcheck.errors import CardcheckError
from cardcheck.example import example_findings, example_run
from cardcheck.ledger.store import Ledger
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import CheckOptions, CheckRun, Timer
from cardcheck.pipeline.run import run_check
from cardcheck.progress import Progress
from cardcheck.report.spec import report_spec

C03, C05_D, C05_E, P03, E06 = ("eb813c72cacd", "b2093e1ced98", "6a7607e05dd8", "473b3103a5bf",
                               "a948757cbbf5")


def check(out: Path, ledger: Path, stage: str, findings: pl.DataFrame | None = None) -> CheckRun:
    run = example_run(out, quiet=True, stage=stage, ledger=ledger, findings=findings)
    write_outputs(run, Timer(), Progress(quiet=True))
    return run


def fill_t4(workbook: Path, target: Path, edits: dict[str, tuple[str, ...]]) -> Path:
    """Copy sheet 表4 as an inspector would return it: 整改状态, 整改措施, 追回金额 (and 备注)
    filled, cells found by their headers; and a row whose 问题编号 matches nothing."""
    t4 = fastexcel.read_excel(str(workbook)).load_sheet("表4", header_row=None, dtypes="string",
                                                      skip_rows=0).to_polars()
    rows = [list(r) for r in t4.iter_rows()]
    head_at = next(i for i, r in enumerate(rows) if "问题编号" in r)
    head = rows[head_at]
    at = {h: i for i, h in enumerate(head)}
    names = ("整改状态", "整改措施", "追回金额(元)", "备注")
    for row in rows[head_at + 1:]:
        if row[at["问题编号"]] in edits:
            for name, value in zip(names, edits[row[at["问题编号"]]]):
                row[at[name]] = value
    stray = [None] * len(head)
    stray[at["问题编号"]] = "ffffffffffff"
    rows.append(stray)  # a row that matches nothing
    wb = xlsxwriter.Workbook(str(target), {"strings_to_numbers": False})
    ws = wb.add_worksheet("表4")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                ws.write_string(r, c, v)
    wb.close()
    return target


def second_run_findings() -> pl.DataFrame:
    """全面检查's data: the fixed C05s are gone, C03 (不属实) is unchanged, E06 (不属实) has a
    larger amount now, P03 is unchanged, a new C01 appears."""
    f = example_findings().filter(~pl.col("finding_id").is_in([C05_D, C05_E]))
    f = f.with_columns(pl.when(pl.col("finding_id") == E06).then(110000)
                       .otherwise(pl.col("amount")).alias("amount"))
    new = f.filter(pl.col("finding_id") == P03).with_columns(
        pl.lit("C01").alias("rule"), pl.lit("一人多卡").alias("rule_name"),
        pl.lit("张三 名下有 2 张发放卡").alias("evidence"))
    new = new.with_columns(finding_ids(new))
    return pl.concat([f, new])


def test_scenario_across_stages(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    first = check(tmp_path / "r1", ledger, "自查自纠")
    filled = fill_t4(first.outputs["workbook"], tmp_path / "filled.xlsx", {
        C05_D: ("已整改", "已规范摘要，变更账户", "0"),
        C05_E: ("已整改", "已规范摘要", "1,650.00"),
        C03: ("不属实", "", "", "持卡人为登记的代领人"),
        E06: ("不属实", "", "", "两项补贴可同时享受"),
        P03: ("整改中", "", ""),
    })
    result = CliRunner().invoke(app, ["ledger", "import", str(filled), "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("下发的表4核对；读取 8 行，更新 5 行，无变化 2 行，拒绝 1 行；"
                             "台账中 5 个问题有更新")
    assert lines[1:] == [
        "【柳林镇】读取 4 行，更新 2 行，无变化 2 行，拒绝 0 行",
        "【穆村镇】读取 3 行，更新 3 行，无变化 0 行，拒绝 0 行",
        "【（未填乡镇）】读取 1 行，更新 0 行，无变化 0 行，拒绝 1 行",
        "  表4 第 14 行：问题编号 ffffffffffff 不在台账中（被改动过？），未导入",
    ]
    second = check(tmp_path / "r2", ledger, "全面检查", second_run_findings())
    with Ledger(ledger) as book:
        state = {r["finding_id"]: r for r in book.state().iter_rows(named=True)}
        history = book.history()
    assert len(state) == 8
    # ids kept, statuses carried
    assert state[P03]["status"] == "整改中" and state[P03]["stage_found"] == "自查自纠"
    assert state[P03]["last_stage"] == "全面检查" and state[P03]["present"]
    # 不属实 with the same evidence stays suppressed; with new evidence it is reopened
    assert state[C03]["status"] == "不属实" and state[C03]["suppressed"]
    assert state[E06]["status"] == "未整改" and not state[E06]["suppressed"]
    assert state[E06]["amount"] == 110000
    # fixed ones are gone from the data, not deleted: 销号 by the run
    for fid in (C05_D, C05_E):
        assert state[fid]["status"] == "销号" and not state[fid]["present"]
        assert state[fid]["gone_since"] == state[fid]["closed_at"]
        assert state[fid]["closed_by"] == "第2次运行（全面检查）"
    assert state[C03]["own_note"] == "持卡人为登记的代领人"
    assert state[C05_E]["recovered"] == 165000
    new = [fid for fid, r in state.items() if r["rule"] == "C01"]
    assert len(new) == 1 and state[new[0]]["stage_found"] == "全面检查"
    assert history.filter((pl.col("finding_id") == E06) & (pl.col("field") == "status"))[
        "new"].to_list() == ["不属实", "未整改"]
    # the second workbook leaves the suppressed one out and says so
    t4 = fastexcel.read_excel(str(second.outputs["workbook"])).load_sheet(
        "表4", header_row=2, dtypes="string").to_polars().filter(pl.col("问题编号").is_not_null())
    assert C03 not in t4["问题编号"].to_list() and len(t4) == 5  # (not the 合计 row)
    assert t4.filter(pl.col("问题编号") == P03)["整改状态"].to_list() == ["整改中"]
    # 表5 from the ledger
    out = CliRunner().invoke(app, ["ledger", "export", "--out", str(tmp_path / "x"),
                                   "--ledger", str(ledger)])
    assert out.exit_code == 0, out.output
    path = next((tmp_path / "x").glob("cardcheck_ledger_*.xlsx"))
    t5 = fastexcel.read_excel(str(path)).load_sheet("表5", header_row=2,
                                                    dtypes="string").to_polars()
    total = t5.filter(pl.col("乡镇（街道）") == "合计").row(0, named=True)
    assert (total["发现问题数"], total["已整改"], total["整改中"], total["未整改"],
            total["不属实"], total["数据中已消除"]) == ("8", "2", "1", "4", "1", "2")
    # 销户 is what someone entered, never read from the words of 整改措施: none entered here
    assert float(total["追回金额(元)"]) == 1650.0 and total["销户或变更账户数"] is None
    assert float(total["整改率"]) == pytest.approx(2 / 7)
    muc = t5.filter((pl.col("乡镇（街道）") == "穆村镇") & (pl.col("问题类型") == "发放摘要不规范"))
    assert muc.select("发现问题数", "已整改", "数据中已消除").row(0) == ("2", "2", "2")


def test_invalid_rows_are_reported(tmp_path: Path) -> None:
    ledger = tmp_path / "l.db"
    first = check(tmp_path / "r1", ledger, "自查自纠")
    filled = fill_t4(first.outputs["workbook"], tmp_path / "f.xlsx",
                     {P03: ("done", "", ""), C03: ("已整改", "", "12.345")})
    result = CliRunner().invoke(app, ["ledger", "import", str(filled), "--ledger", str(ledger)])
    assert result.output.splitlines()[1:] == [
        "【柳林镇】读取 4 行，更新 1 行，无变化 2 行，拒绝 2 行（其中 1 行其余内容已更新）",
        ("  表4 第 5 行（问题编号 473b3103a5bf）：整改状态“done”不是可选的状态（可选：未整改、整改中、"
         "已整改、不属实、销号），此项未导入"),
        "  表4 第 6 行（问题编号 eb813c72cacd）：追回金额“12.345”最多两位小数（到分），未导入",
        "【（未填乡镇）】读取 1 行，更新 0 行，无变化 0 行，拒绝 1 行",
        "  表4 第 14 行：问题编号 ffffffffffff 不在台账中（被改动过？），未导入",
        "无变化的乡镇（所有行与下发时相同或与台账一致）：穆村镇 3 行",
    ]


def test_failed_run_leaves_ledger_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "l.db"
    check(tmp_path / "r1", ledger, "自查自纠")
    before = sqlite3.connect(ledger).execute("SELECT * FROM findings ORDER BY 1").fetchall()
    import cardcheck.ledger.store as L

    def boom(*args: object) -> None:
        raise RuntimeError("killed")
    monkeypatch.setattr(L, "_insert", boom)
    with pytest.raises(RuntimeError):
        check(tmp_path / "r2", ledger, "全面检查", second_run_findings())
    con = sqlite3.connect(ledger)
    assert con.execute("SELECT * FROM findings ORDER BY 1").fetchall() == before
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_killed_process_leaves_ledger_as_it_was(tmp_path: Path) -> None:
    ledger = tmp_path / "l.db"
    check(tmp_path / "r1", ledger, "自查自纠")
    code = f"""
import os
import cardcheck.ledger.store as L
from cardcheck.example import example_findings
real = L._insert
def die(c, table, df):
    real(c, table, df)
    os._exit(9)  # killed in the middle of the transaction
L._insert = die
with L.Ledger({str(ledger)!r}) as book:
    book.record_run(example_findings().head(2), "全面检查", ["C03", "C05"])
"""
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 9
    with Ledger(ledger) as book:
        assert book.state()["present"].all() and len(book.runs()) == 1


def test_newer_or_foreign_ledger_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "l.db"
    Ledger(ledger).close()
    con = sqlite3.connect(ledger)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    with pytest.raises(CardcheckError, match="written by a newer cardcheck \\(ledger schema 99; "
                                             "this cardcheck reads up to 2\\)"):
        Ledger(ledger)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    with pytest.raises(CardcheckError, match="not a cardcheck ledger"):
        Ledger(other)
    (tmp_path / "text.db").write_text("hello, not a database at all" * 10)
    with pytest.raises(CardcheckError, match="not a cardcheck ledger"):
        Ledger(tmp_path / "text.db")


def test_bad_stage_and_missing_ledger(tmp_path: Path) -> None:
    with pytest.raises(CardcheckError, match="--stage '自查': expected one of 自查自纠, 全面检查"):
        check(tmp_path / "r", tmp_path / "l.db", "自查")
    result = CliRunner().invoke(app, ["ledger", "export", "--out", str(tmp_path),
                                      "--ledger", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "--ledger" in result.output and "no ledger there (run cardcheck check first)" in result.output


def test_closed_found_again(tmp_path: Path) -> None:
    """销号 found again: kept with a note when its evidence is the same, reopened when not; the
    clerk's 备注 survives the runs (cardcheck's own notes go beside it)."""
    ledger = tmp_path / "l.db"
    first = check(tmp_path / "r1", ledger, "自查自纠")
    filled = fill_t4(first.outputs["workbook"], tmp_path / "f.xlsx", {
        C05_D: ("已整改", "已规范摘要", "", "银行已改摘要"), C05_E: ("已整改", "", "", ""),
        P03: ("已整改", "", "", "已补发")})
    CliRunner().invoke(app, ["ledger", "import", str(filled), "--ledger", str(ledger)])
    check(tmp_path / "r2", ledger, "全面检查", second_run_findings())
    back = example_findings().with_columns(
        pl.when(pl.col("finding_id") == C05_E).then(pl.col("amount") + 100)
        .otherwise(pl.col("amount")).alias("amount"))
    check(tmp_path / "r3", ledger, "重点抽查", back)
    with Ledger(ledger) as book:
        state = {r["finding_id"]: r for r in book.state().iter_rows(named=True)}
    assert state[C05_D]["status"] == "销号" and state[C05_D]["present"]
    assert re.fullmatch(r"【\d{4}年\d{1,2}月\d{1,2}日销号，第2次运行（全面检查）】"
                        "【已销号，但重点抽查数据中仍存在】银行已改摘要", state[C05_D]["note"])
    assert state[C05_E]["status"] == "未整改" and state[C05_E]["closed_at"] is None
    assert state[C05_E]["note"] == "【销号后证据变化，重新核查】"
    assert state[P03]["status"] == "已整改"
    assert state[P03]["note"] == "【已整改，但重点抽查数据中仍存在】已补发"


def test_four_statuses_get_closed_as_the_fifth(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("report:\n  statuses: [待整改, 整改中, 整改完成, 核实不属实]\n", encoding="utf-8")
    assert report_spec(load_config(path)).statuses == ("待整改", "整改中", "整改完成", "核实不属实",
                                                       "销号")


def test_schema_1_ledger_is_brought_up_to_date(tmp_path: Path) -> None:
    """A ledger cardcheck 1 wrote opens: the columns and tables of schema 2 are added, the notes
    cardcheck wrote into 备注 move to auto_note, and what the earlier run issued is rebuilt
    from the history (the status each finding had then, not now)."""
    ledger = tmp_path / "l.db"
    check(tmp_path / "r1", ledger, "自查自纠")
    con = sqlite3.connect(ledger)
    for table in ("issues", "issued", "imports"):
        con.execute(f"DROP TABLE {table}")
    for col in ("auto_note", "closed_at", "closed_by"):
        con.execute(f"ALTER TABLE findings DROP COLUMN {col}")
    con.execute("DELETE FROM meta WHERE key = 'ledger_id'")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    # as cardcheck 1 left it: P03 set 已整改 by an import after the run, its note in 备注
    con.execute("UPDATE findings SET status = '已整改', note = '已整改，但全面检查数据中仍存在' "
                "WHERE finding_id = ?", (P03,))
    con.execute("INSERT INTO history (finding_id, at, source, field, old, new) VALUES "
                "(?, '2999-01-01T00:00:00', 'import f.xlsx', 'status', '未整改', '已整改')", (P03,))
    con.execute("UPDATE findings SET note = '持卡人已说明' WHERE finding_id = ?", (C03,))
    con.commit()
    con.close()
    with Ledger(ledger) as book:
        assert book.meta("schema_version") == "2" and book.meta("ledger_id")
        state = {r["finding_id"]: r for r in book.state().iter_rows(named=True)}
        issues = book.issues()
        issued = book.issued(issue_id=int(issues["issue_id"][0]))
    assert state[P03]["auto_note"] == "已整改，但全面检查数据中仍存在" and state[P03]["own_note"] == ""
    assert state[P03]["note"] == "【已整改，但全面检查数据中仍存在】"
    assert state[C03]["own_note"] == state[C03]["note"] == "持卡人已说明"
    assert issues.select("kind", "run_id", "rows").row(0) == ("rebuilt", 1, 7)
    assert issued.filter(pl.col("finding_id") == P03)["status"].to_list() == ["未整改"]


def test_apply_updates_sets_what_it_is_given(tmp_path: Path) -> None:
    """The direct API (sampling's tests and scripts): values as given, unknown ids returned."""
    ledger = tmp_path / "l.db"
    check(tmp_path / "r1", ledger, "自查自纠")
    with Ledger(ledger) as book:
        missing = book.apply_updates(pl.DataFrame({
            "finding_id": [P03, "ffffffffffff"], "status": ["已整改", "已整改"],
            "recovered": [100, None]}), source="import x.xlsx")
        row = book.state([P03]).row(0, named=True)
        history = book.history(P03)
    assert missing == ["ffffffffffff"]
    assert (row["status"], row["recovered"]) == ("已整改", 100)
    assert history.filter(pl.col("field") == "status")["source"].to_list() == ["import x.xlsx"]


@pytest.mark.parametrize("households,seed", [(300, 5), (400, 8)])
def test_ledger_export_names_the_county_and_has_the_official_lines(
        demo_county, tmp_path: Path, households: int, seed: int) -> None:
    """The export says 柳林县 (the roll's 填报单位 line, as the check resolved it), not the
    region code, and carries 填报单位（盖章） above the table and the signers below it."""
    county, out = demo_county(households, seed), tmp_path / "out"
    run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=county,
                           quiet=True))
    done = CliRunner().invoke(app, ["ledger", "export", "--ledger", str(out / "cardcheck.db"),
                                    "--out", str(tmp_path / "exp")])
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(next((tmp_path / "exp").glob("*.xlsx")))
    cells = [list(r) for r in book["表4"].iter_rows(values_only=True)]
    rows = [[c for c in r if c not in (None, "")] for r in cells]
    assert rows[1][0].startswith("填报单位（盖章）：柳林县民政局")
    head = next(i for i, r in enumerate(cells) if "问题编号" in r)
    at = cells[head].index("县")
    counties = {r[at] for r in cells[head + 1:]
                if isinstance(r[0], str) and re.fullmatch(r"[0-9a-f]{12}", r[0])}
    assert counties == {"柳林县"}
    assert any(str(r[0]).startswith("负责人：") for r in rows[-3:] if r)
