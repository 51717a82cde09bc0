"""The approver's decisions and the ledger: --release records 放行 / 不放行 with who and why and
writes the lines released in the batch's layout; next month's precheck knows what went to the
bank; a batch screened again supersedes its earlier run; old ledgers open; the settings."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest
from test_precheck import check_run, holds, lines_of, precheck
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.demo.batch import BATCH
from cardcheck.errors import ConfigError
from cardcheck.ledger.store import Ledger
from cardcheck.precheck.settings import precheck_settings


def fill(holdlist: Path, decisions: dict[int, tuple[str, str]]) -> None:
    """Write 放行 and 审批意见 of the given lines into the hold list, as an approver does."""
    book = openpyxl.load_workbook(holdlist)
    ws = book["暂缓清单"]
    head = [c.value for c in ws[4]]
    line_col, release_col, note_col = (head.index(h) + 1 for h in ("行号", "放行", "审批意见"))
    for row in range(5, ws.max_row + 1):
        line = ws.cell(row, line_col).value
        if line is not None and int(line) in decisions:
            word, note = decisions[int(line)]
            ws.cell(row, release_col).value = word
            ws.cell(row, note_col).value = note
    book.save(holdlist)


def states(ledger: Path) -> dict[int, tuple[str, str | None, str | None]]:
    with sqlite3.connect(ledger) as c:
        rows = c.execute("SELECT l.line, l.state, l.decided_by, l.note FROM precheck_lines l JOIN "
                         "precheck_runs r USING (run_key) WHERE r.superseded_by IS NULL").fetchall()
    return {line: (state, by, note) for line, state, by, note in rows}


def release(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["precheck", "--release", *args])
    return result.exit_code, result.output


@pytest.fixture
def screened(demo_county, tmp_path) -> tuple[Path, Path, Path, pl.DataFrame]:
    demo = demo_county(300, 5, False)
    ledger = tmp_path / "cardcheck.db"
    shutil.copy(check_run(demo, tmp_path / "run"), ledger)
    code, output = precheck(demo, tmp_path / "out", ledger, "-q")
    assert code == 1, output
    truth = pl.read_csv(demo / f"{BATCH}_truth.csv").filter(pl.col("kind") == "planted")
    return demo, ledger, tmp_path, truth


def test_release_records_decisions_and_writes_the_released_lines(screened) -> None:
    demo, ledger, tmp, truth = screened
    line_of = {r: ln for ln, r in zip(truth["line"], truth["rule"], strict=True)}
    twice = truth.filter(pl.col("rule") == "P04")["line"].to_list()
    go = {twice[0]: ("放行", "重复行核实为补发，同意"), line_of["C05"]: ("是", "")}
    fill(tmp / "out" / f"暂缓清单_{BATCH}.xlsx", {**go, line_of["E01"]: ("不放行", "已死亡")})
    code, output = release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger),
                           "--batch", str(demo / f"{BATCH}.csv"), "--out", str(tmp / "rel"),
                           "--by", "张科长")
    assert code == 0, output
    assert "放行 2 笔" in output and "不放行 1 笔" in output
    now = states(ledger)
    assert now[twice[0]] == ("放行", "张科长", "重复行核实为补发，同意")
    assert now[line_of["C05"]][0] == "放行" and now[line_of["E01"]][:2] == ("不放行", "张科长")
    assert now[line_of["P01"]][0] == "暂缓"
    source = lines_of(demo / f"{BATCH}.csv")
    written = lines_of(tmp / "rel" / f"放行_{BATCH}.csv")
    assert written == [ln for i, ln in enumerate(source, 1)
                       if i in go or not ln[:1].isdigit()]
    # released again: nothing new to send
    code, output = release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger),
                           "--batch", str(demo / f"{BATCH}.csv"), "--out", str(tmp / "rel2"))
    assert code == 0
    assert [ln for ln in lines_of(tmp / "rel2" / f"放行_{BATCH}.csv") if ln[:1].isdigit()] == []


def test_a_bad_row_records_nothing(screened) -> None:
    _, ledger, tmp, truth = screened
    first, second = truth["line"].to_list()[:2]
    fill(tmp / "out" / f"暂缓清单_{BATCH}.xlsx", {first: ("放行", ""), second: ("也许", "")})
    before = states(ledger)
    code, output = release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger))
    assert code == 2
    assert "也许" in output and "第 " in output and "nothing recorded" in output
    assert states(ledger) == before


def test_a_changed_batch_is_refused_for_the_release_file(screened) -> None:
    demo, ledger, tmp, truth = screened
    fill(tmp / "out" / f"暂缓清单_{BATCH}.xlsx", {truth["line"][0]: ("放行", "")})
    other = tmp / f"{BATCH}.csv"
    other.write_bytes((demo / f"{BATCH}.csv").read_bytes() + b"\r\n")
    code, output = release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger),
                           "--batch", str(other), "--out", str(tmp / "rel"))
    assert code == 2 and "SHA-256" in output
    assert states(ledger)[truth["line"][0]][0] == "暂缓"


def test_next_precheck_knows_what_went_to_the_bank(screened) -> None:
    demo, ledger, tmp, truth = screened
    line_of = {r: ln for ln, r in zip(truth["line"], truth["rule"], strict=True)}
    fill(tmp / "out" / f"暂缓清单_{BATCH}.xlsx", {line_of["C05"]: ("放行", "摘要已核实")})
    assert release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger))[0] == 0
    # a second batch of the same month resends a released line and an approved one: both paid
    source = lines_of(demo / f"{BATCH}.csv")
    body = [i for i, ln in enumerate(source, 1) if ln[:1].isdigit() and i not in set(truth["line"])]
    again = tmp / "补发报盘202312.csv"
    again.write_bytes(b"".join(ln for i, ln in enumerate(source, 1)
                               if not ln[:1].isdigit() or i in (body[0], line_of["C05"])))
    code, _ = precheck(demo, tmp / "out2", ledger, "-q", batch=again)
    assert code == 1
    held = holds(tmp / "out2", again.stem)
    assert len(held) == 2 and all("P04" in why for why in held.values())
    sheet = openpyxl.load_workbook(tmp / "out2" / f"暂缓清单_{again.stem}.xlsx")["暂缓清单"]
    head = [c.value for c in sheet[4]]
    earlier = [sheet.cell(r, head.index("以往审批") + 1).value for r in range(5, sheet.max_row + 1)]
    assert "2023-12 放行：摘要已核实" in earlier
    # the first batch screened again supersedes its run: its lines are not "already paid"
    code, _ = precheck(demo, tmp / "out3", ledger, "-q")
    assert code == 1
    assert set(holds(tmp / "out3")) == set(truth["line"])


def test_an_old_ledger_opens_and_gets_the_tables(demo_county, tmp_path) -> None:
    demo = demo_county(300, 5, False)
    old = tmp_path / "old.db"
    with Ledger(old):
        pass  # a ledger as a cardcheck without precheck leaves it
    with sqlite3.connect(old) as c:
        assert "precheck_runs" not in {r[0] for r in c.execute(
            "SELECT name FROM sqlite_master")}
    code, _ = precheck(demo, tmp_path / "out", old, "-q")
    assert code == 1
    with Ledger(old) as ledger:  # and opens as before with them
        assert ledger.runs() == []
    assert len(states(old)) > 300 * 0.5


def test_the_settings_refuse_what_cannot_screen(tmp_path) -> None:
    base = load_config()
    assert precheck_settings(base).links["P04"] == "twice"
    for text, message in (
        ("precheck:\n  rules: [P01, C08]\n", "C08 cannot screen a batch line"),
        ("precheck:\n  open_statuses: [未整该]\n", "未整该 is not a status"),
        ("precheck:\n  ledger_rules: [P01]\n", "P01 is not a card rule"),
        ("precheck:\n  hold_words: [是]\n", "是 is both"),
        ("precheck:\n  rule: [P01]\n", "precheck.rule: unknown setting"),
    ):
        path = tmp_path / "设置.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            precheck_settings(load_config(path))


def test_the_configuration_page_example_is_valid(tmp_path) -> None:
    page = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = page.split("```yaml\nprecheck:")[1].split("```")[0]
    path = tmp_path / "设置.yaml"
    path.write_text("precheck:" + block, encoding="utf-8")
    settings = precheck_settings(load_config(path))
    assert "E04" not in settings.rules and settings.open_statuses == ("未整改",)


def test_the_ledger_export_shows_what_precheck_stopped(screened) -> None:
    demo, ledger, tmp, truth = screened
    fill(tmp / "out" / f"暂缓清单_{BATCH}.xlsx", {truth["line"][0]: ("放行", ""),
                                                 truth["line"][1]: ("不放行", "")})
    assert release(str(tmp / "out" / f"暂缓清单_{BATCH}.xlsx"), "--ledger", str(ledger))[0] == 0
    result = CliRunner().invoke(app, ["ledger", "export", "--out", str(tmp / "export"),
                                      "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    book = next((tmp / "export").glob("*.xlsx"))
    reader = fastexcel.read_excel(str(book))
    assert "预审拦截" in reader.sheet_names
    sheet = reader.load_sheet("预审拦截", header_row=2, dtypes="string").to_polars()
    sheet = sheet.filter(pl.col("处理结果").is_not_null())  # the signers' line under the table
    counts = dict(zip(sheet["处理结果"], sheet["笔数"].cast(pl.Float64).cast(pl.Int64),
                      strict=True))
    body = [ln for ln in lines_of(demo / f"{BATCH}.csv") if ln[:1].isdigit()]
    assert counts == {"可发": len(body) - truth.height, "放行": 1, "暂缓": truth.height - 2,
                      "不放行": 1}
    assert set(sheet["所属月份"]) == {"2023-12"}
