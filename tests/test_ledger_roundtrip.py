"""The 表4 round trip as townships do it: a real `cardcheck check` of a demo county, the workbook
(or a `ledger export`) edited with openpyxl as a clerk would, `ledger import` back; two seeds,
two townships at least. Rows and columns are found by their headers, never by position."""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastexcel
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.ledger.store import Ledger
from cardcheck.report.spec import report_spec

SPEC = report_spec(load_config())
T4 = SPEC.sheets["t4"]
H = {f: T4.header(f) for f in ("finding_id", "status", "measure", "recovered", "note",
                               "township", "name", "evidence", "amount")}
SEEDS = [(300, 5), (400, 8)]


def cli(*args: object) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure of its own
    assert result.exit_code == 0, result.output
    return result.output


class Book:
    """表4 of a workbook, opened with openpyxl: rows by 问题编号, cells by header."""

    def __init__(self, path: Path) -> None:
        self.wb = openpyxl.load_workbook(path)
        self.ws = self.wb[T4.name]
        self.head = next(r for r in range(1, 31)
                         if H["finding_id"] in [c.value for c in self.ws[r]])
        self.col = {c.value: c.column for c in self.ws[self.head] if c.value}

    def rows(self) -> dict[str, int]:
        at = self.col[H["finding_id"]]
        return {str(self.ws.cell(r, at).value): r for r in range(self.head + 1, self.ws.max_row + 1)
                if self.ws.cell(r, at).value}

    def get(self, fid: str, field: str) -> Any:
        return self.ws.cell(self.rows()[fid], self.col[H[field]]).value

    def of(self, township: str) -> list[str]:
        return [f for f in self.rows() if self.get(f, "township") == township]

    def set(self, fid: str, **values: Any) -> None:
        row = self.rows()[fid]
        for field, value in values.items():
            self.ws.cell(row, self.col[H[field]], value)

    def delete(self, fid: str) -> int:
        row = self.rows()[fid]
        self.ws.delete_rows(row)
        return row

    def add(self, values: dict[str, Any]) -> int:
        """A row right under the last row of the table (as a clerk inserts one)."""
        row = max(self.rows().values()) + 1
        self.ws.insert_rows(row)
        for field, value in values.items():
            self.ws.cell(row, self.col[H[field]], value)
        return row

    def copy_row(self, fid: str) -> int:
        src = self.rows()[fid]
        row = self.add({})
        for col in self.col.values():
            self.ws.cell(row, col, self.ws.cell(src, col).value)
        return row

    def save(self, path: Path) -> Path:
        self.wb.save(path)
        return path


@dataclass
class Campaign:
    demo: Path
    ledger: Path
    workbook: Path
    tmp: Path

    def state(self) -> dict[str, dict[str, Any]]:
        with Ledger(self.ledger) as book:
            return {r["finding_id"]: r for r in book.state().iter_rows(named=True)}

    def book(self) -> Book:
        return Book(self.workbook)

    def townships(self) -> list[str]:
        """Townships by rows in 表4, most first."""
        book = self.book()
        towns = pl.DataFrame({"t": [book.get(f, "township") for f in book.rows()]}, schema={
            "t": pl.String}).drop_nulls()
        counts = towns.group_by("t").len().sort(["len", "t"], descending=[True, False])
        return counts["t"].to_list()

    def import_(self, *files: Path, extra: tuple[str, ...] = ()) -> str:
        return cli("ledger", "import", *files, "--ledger", self.ledger, *extra)

    def export(self, name: str = "x") -> Path:
        out = self.tmp / name
        cli("ledger", "export", "--out", out, "--ledger", self.ledger)
        return next(out.glob("cardcheck_ledger_*.xlsx"))


@pytest.fixture(scope="module", params=SEEDS, ids=[f"{h}-{s}" for h, s in SEEDS])
def first_run(request: pytest.FixtureRequest, demo_county: Any,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    households, seed = request.param
    demo = demo_county(households, seed)
    out = tmp_path_factory.mktemp(f"roundtrip-{households}-{seed}")
    cli("check", "--inputs", demo, "--out", out, "-q")
    return demo, out


@pytest.fixture
def camp(first_run: tuple[Path, Path], tmp_path: Path) -> Campaign:
    demo, out = first_run
    workbook = next(out.glob("cardcheck_*.xlsx"))
    shutil.copy(out / "cardcheck.db", tmp_path / "cardcheck.db")
    shutil.copy(workbook, tmp_path / workbook.name)
    return Campaign(demo, tmp_path / "cardcheck.db", tmp_path / workbook.name, tmp_path)


def money_rows(book: Book, township: str | None = None, least: float = 100.0) -> list[str]:
    return [f for f in (book.of(township) if township else book.rows())
            if float(book.get(f, "amount") or 0) >= least]


def test_two_townships_keep_each_others_work(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book_a = camp.book()
    done = book_a.of(a)[:4]
    for fid in done:
        book_a.set(fid, status="已整改", measure="已变更账户，规范发放")
    file_a = book_a.save(camp.tmp / f"{a}.xlsx")
    book_b = camp.book()  # B's copy of the same workbook: its own row edited, A's untouched
    doing = book_b.of(b)[0]
    book_b.set(doing, status="整改中")
    file_b = book_b.save(camp.tmp / f"{b}.xlsx")
    out_a = camp.import_(file_a)
    out_b = camp.import_(file_b)
    state = camp.state()
    assert [state[f]["status"] for f in done] == ["已整改"] * 4
    assert {state[f]["measure"] for f in done} == {"已变更账户，规范发放"}
    assert state[doing]["status"] == "整改中"
    n_a, n_b = len(book_a.of(a)), len(book_b.of(b))
    assert f"【{a}】读取 {n_a} 行，更新 4 行，无变化 {n_a - 4} 行，拒绝 0 行" in out_a
    assert f"【{b}】读取 {n_b} 行，更新 1 行，无变化 {n_b - 1} 行，拒绝 0 行" in out_b
    assert f"{a} {n_a} 行" in out_b.splitlines()[-1]  # A: nothing changed by B's copy
    assert "下发的表4核对" in out_b.splitlines()[0]
    english = re.sub(r"[\w.-]+\.xlsx|[0-9a-f]{12}|--allow-reopen", "", out_a + out_b)
    assert not re.search(r"[A-Za-z]{3,}", english), english


def test_both_files_in_one_call(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    files = []
    for town in (a, b):
        book = camp.book()
        book.set(book.of(town)[0], status="已整改")
        files.append(book.save(camp.tmp / f"{town}.xlsx"))
    camp.import_(*files)
    state = camp.state()
    assert state[camp.book().of(a)[0]]["status"] == state[camp.book().of(b)[0]]["status"] == "已整改"


def test_reimporting_the_unfilled_book_resets_nothing(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    rows_a, rows_b = book.of(a), book.of(b)
    paid = money_rows(book, a) + money_rows(book, b)
    book.set(paid[0], status="已整改", recovered=100)
    book.set(rows_a[1], status="不属实", note="持卡人为登记的代领人")
    book.set(rows_b[0], status="整改中", measure="已约谈持卡人")
    book.set(rows_b[1], status="已整改", measure="已注销多余账户")
    book.set(rows_b[2], note="待银行回复")
    camp.import_(book.save(camp.tmp / "filled.xlsx"))
    before = camp.state()
    assert before[paid[0]]["recovered"] == 10000 and before[rows_a[1]]["status"] == "不属实"
    out = camp.import_(camp.workbook)  # the workbook as issued: no entry anywhere
    assert camp.state() == before
    assert "更新 0 行" in out.splitlines()[0] and "拒绝 0 行" in out.splitlines()[0]
    with Ledger(camp.ledger) as led:
        again = led.history().filter(pl.col("source").str.contains(camp.workbook.name))
    assert again.height == 0


def test_backward_move_needs_allow_reopen(camp: Campaign) -> None:
    a = camp.townships()[0]
    book = camp.book()
    one, two, three = book.of(a)[:3]
    book.set(one, status="已整改")
    book.set(two, status="已整改")
    book.set(three, status="不属实", note="已核实，持卡人为监护人")
    camp.import_(book.save(camp.tmp / "a.xlsx"))
    back = Book(camp.export())  # 表4 as the ledger has it now
    assert back.get(one, "status") == "已整改"
    back.set(one, status="整改中")
    back.set(two, status="未整改")
    back.set(three, status="未整改")
    edited = back.save(camp.tmp / "back.xlsx")
    out = camp.import_(edited)
    state = camp.state()
    assert (state[one]["status"], state[two]["status"], state[three]["status"]) == (
        "已整改", "已整改", "不属实")
    rows = back.rows()
    assert (f"表4 第 {rows[one]} 行（问题编号 {one}）：整改状态由“已整改”改回“整改中”，未导入"
            "（确需重新整改的，导入时加 --allow-reopen）") in out
    assert f"第 {rows[three]} 行（问题编号 {three}）：整改状态由“不属实”改回“未整改”" in out
    assert f"【{a}】读取 {len(back.of(a))} 行，更新 0 行" in out and "拒绝 3 行" in out
    camp.import_(edited, extra=("--allow-reopen",))
    state = camp.state()
    assert (state[one]["status"], state[two]["status"], state[three]["status"]) == (
        "整改中", "未整改", "未整改")
    assert not state[three]["suppressed"]


def test_note_is_imported_and_exported(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    fine, bare = book.of(a)[0], book.of(b)[0]
    book.set(fine, status="不属实", note="持卡人为登记的代领人")
    book.set(bare, status="不属实")  # no reason given
    out = camp.import_(book.save(camp.tmp / "n.xlsx"))
    state = camp.state()
    assert state[fine]["status"] == "不属实" and state[fine]["own_note"] == "持卡人为登记的代领人"
    assert state[bare]["status"] == "未整改"
    assert (f"第 {book.rows()[bare]} 行（问题编号 {bare}）：改为不属实须在备注中写明理由，此项未导入"
            in out)
    exported = camp.export()
    back = Book(exported)
    assert back.get(fine, "status") == "不属实" and back.get(fine, "note") == "持卡人为登记的代领人"
    out = camp.import_(exported)  # unchanged export: nothing moves, the note is not doubled
    assert camp.state()[fine]["own_note"] == "持卡人为登记的代领人"
    assert "更新 0 行" in out.splitlines()[0]


def test_mistyped_status_refuses_only_that_field(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    fid = money_rows(book, a)[0]
    other = book.of(b)[0]
    book.set(fid, status="已整该", measure="已约谈持卡人，收回银行卡", recovered="100.50")
    book.set(other, status="已整改")
    out = camp.import_(book.save(camp.tmp / "typo.xlsx"))
    state = camp.state()
    assert state[fid]["status"] == "未整改"
    assert state[fid]["measure"] == "已约谈持卡人，收回银行卡" and state[fid]["recovered"] == 10050
    assert state[other]["status"] == "已整改"
    assert (f"表4 第 {book.rows()[fid]} 行（问题编号 {fid}）：整改状态“已整该”不是可选的状态"
            "（可选：未整改、整改中、已整改、不属实、销号），此项未导入") in out
    n = len(book.of(a))
    assert f"【{a}】读取 {n} 行，更新 1 行，无变化 {n - 1} 行，拒绝 1 行（其中 1 行其余内容已更新）" in out


def test_deleted_rows_are_reported(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    gone = book.of(a)[:2]
    keep = book.of(b)[0]
    book.set(keep, status="整改中")
    for fid in gone:
        book.delete(fid)
    out = camp.import_(book.save(camp.tmp / "del.xlsx"))
    block = out.split(f"【{a}】")[1].split("【")[0]
    assert "下发时有、退回时没有的 2 行（被删除？台账未变）" in block
    assert all(fid in block for fid in gone)
    assert camp.state()[keep]["status"] == "整改中"


def test_a_township_returning_only_its_rows(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    for fid in [f for f in book.rows() if book.get(f, "township") != a]:
        book.delete(fid)
    book.set(book.of(a)[0], status="已整改")
    out = camp.import_(book.save(camp.tmp / "only.xlsx"))
    assert "下发时有、退回时没有" not in out
    last = out.splitlines()[-1]
    assert last.startswith("未退回的乡镇（本文件中没有这些乡镇的行，台账未变）：") and b in last


def test_duplicated_rows(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    fid, same = book.of(a)[0], book.of(b)[0]
    book.set(fid, status="已整改")
    first, first_same = book.rows()[fid], book.rows()[same]
    copy = book.copy_row(fid)
    book.set(same, status="整改中", measure="正在核实")
    copy_same = book.copy_row(same)
    book.ws.cell(copy, book.col[H["status"]], "不属实")
    book.ws.cell(copy, book.col[H["note"]], "核实无此问题")
    out = camp.import_(book.save(camp.tmp / "dup.xlsx"))
    state = camp.state()
    assert state[fid]["status"] == "未整改"  # they disagree: neither is applied
    assert state[same]["status"] == "整改中" and state[same]["measure"] == "正在核实"
    lines = f"{first}、{copy}"
    message = f"问题编号 {fid} 在第 {lines} 行重复出现且填写不同，均未导入"
    assert out.count(message) == 2
    assert f"问题编号 {same} 在第 {first_same}、{copy_same} 行重复出现，填写相同，只导入一次" in out


def test_hand_added_row_is_reported(camp: Campaign) -> None:
    a = camp.townships()[0]
    book = camp.book()
    row = book.add({"township": a, "name": "王某某", "evidence": "群众反映多领一张卡",
                    "status": "未整改"})
    out = camp.import_(book.save(camp.tmp / "added.xlsx"))
    assert (f"表4 第 {row} 行：没有问题编号（手工添加的行？），未导入；新发现的问题请另行报县级核查组"
            in out.split(f"【{a}】")[1])


def test_total_and_signature_lines_are_not_rows(camp: Campaign) -> None:
    book = camp.book()
    fid = book.of(camp.townships()[0])[0]
    book.set(fid, status="整改中")
    below = book.ws.max_row  # under the table and whatever the layout puts there
    book.ws.cell(below + 1, 2, "合计")
    book.ws.cell(below + 1, 12, 12345)
    book.ws.cell(below + 3, 1, "填报单位（盖章）：")
    book.ws.cell(below + 3, 8, "负责人：")
    book.ws.cell(below + 4, 1, "填报人：张三")
    book.ws.cell(below + 4, 8, "联系电话：")
    book.ws.cell(below + 4, 14, "填报日期：2026年12月4日")
    out = camp.import_(book.save(camp.tmp / "signed.xlsx"))
    assert "没有问题编号" not in out and "拒绝 0 行" in out.splitlines()[0]
    assert camp.state()[fid]["status"] == "整改中"


def test_column_order_does_not_matter(camp: Campaign) -> None:
    """问题编号 first, the other columns reversed, a title row more above: read by header."""
    book = camp.book()
    a = camp.townships()[0]
    fid = book.of(a)[0]
    heads = list(book.col)
    order = [H["finding_id"]] + [h for h in reversed(heads) if h != H["finding_id"]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = T4.name
    ws.cell(1, 1, T4.title)
    ws.cell(2, 1, "填报单位（盖章）：")
    for r in range(book.head, book.ws.max_row + 1):
        for c, h in enumerate(order, start=1):
            ws.cell(r + 1, c, book.ws.cell(r, book.col[h]).value)
    wb.save(camp.tmp / "moved.xlsx")
    moved = Book(camp.tmp / "moved.xlsx")
    assert moved.col[H["finding_id"]] == 1
    moved.set(fid, status="已整改", recovered=0, note="已变更账户")
    out = camp.import_(moved.save(camp.tmp / "moved.xlsx"))
    state = camp.state()[fid]
    assert (state["status"], state["own_note"]) == ("已整改", "已变更账户")
    assert "更新 1 行" in out.splitlines()[0] and "拒绝 0 行" in out.splitlines()[0]


def test_recovered_above_amount_is_refused(camp: Campaign) -> None:
    book = camp.book()
    fid = money_rows(book)[0]
    amount = round(float(book.get(fid, "amount")) * 100)
    book.set(fid, recovered=amount / 10, status="已整改")  # ten times the amount, in 元
    out = camp.import_(book.save(camp.tmp / "over.xlsx"))
    state = camp.state()[fid]
    assert state["recovered"] == 0 and state["status"] == "已整改"
    assert (f"追回金额 {amount * 10 // 100}.{amount * 10 % 100:02d} 元大于涉及金额 "
            f"{amount // 100}.{amount % 100:02d} 元，未导入") in out


@pytest.mark.parametrize("typed, says", [
    (1e308, "追回金额 1e+308 元大于涉及金额"),
    ("NaN", "追回金额“NaN”不是有效的金额，请填写元数，未导入"),
    ("Infinity", "追回金额“Infinity”不是有效的金额，请填写元数，未导入"),
    ("-5", "追回金额“-5”不能是负数，未导入"),
    (-5, "追回金额“-5”不能是负数，未导入"),
    ("五百元", "追回金额“五百元”不是金额，请填写元数，如 1650.00，未导入"),
    ("12.345", "追回金额“12.345”最多两位小数（到分），未导入"),
])
def test_bad_money_is_a_message(camp: Campaign, typed: object, says: str) -> None:
    book = camp.book()
    fid = money_rows(book, least=20)[0]
    book.set(fid, recovered=typed, measure="已追回")
    out = camp.import_(book.save(camp.tmp / "bad.xlsx"))
    assert f"第 {book.rows()[fid]} 行（问题编号 {fid}）：{says}" in out
    state = camp.state()[fid]
    assert state["recovered"] == 0 and state["measure"] == "已追回"


def unlist(path: Path, evidence: str) -> None:
    """Take off a reference list (CSV, whatever its encoding) everyone `evidence` names (by name
    or ID tail): the rule still runs, and finds none of them again."""
    raw = path.read_bytes()
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("gb18030"), "gb18030"
    lines = text.splitlines(keepends=True)

    def named(line: str) -> bool:
        fields = line.split(",")
        name = "".join(fields[0].split())
        tail = re.sub(r"[^0-9Xx]", "", fields[1] if len(fields) > 1 else "")[-4:].upper()
        return bool(name and name in evidence) or bool(tail and f"*{tail}）" in evidence)

    kept = [lines[0]] + [line for line in lines[1:] if not named(line)]
    assert 1 < len(kept) < len(lines)
    path.write_bytes("".join(kept).encode(encoding))


def test_closed_when_rectified_and_gone(camp: Campaign) -> None:
    """已整改 and no longer in the data is 销号, with the run and its date; the export shows
    it, with dates in words; 整改率 counts 销号 as done."""
    book = camp.book()
    rule = {f: r["rule"] for f, r in camp.state().items()}
    e03 = [f for f in book.rows() if rule[f] in ("E03", "E04")]
    assert len(e03) >= 4
    p04 = [f for f in book.rows() if rule[f] == "P04"]
    for fid in e03[:2] + p04[:1]:
        book.set(fid, status="已整改")
    camp.import_(book.save(camp.tmp / "done.xlsx"))
    demo = camp.tmp / "demo2"
    shutil.copytree(camp.demo, demo)
    said = " ".join(r["evidence"] for r in camp.state().values() if r["rule"] in ("E03", "E04"))
    unlist(demo / "财政供养人员.csv", said)
    unlist(demo / "工商登记.csv", said)
    cli("check", "--inputs", demo, "--out", camp.tmp / "r2", "--ledger", camp.ledger,
        "--stage", "全面检查", "-q")
    state = camp.state()
    runs = 2
    for fid in e03[:2]:
        assert state[fid]["status"] == "销号" and not state[fid]["present"]
        assert state[fid]["closed_by"] == f"第{runs}次运行（全面检查）" and state[fid]["closed_at"]
    assert state[p04[0]]["status"] == "已整改" and state[p04[0]]["present"]
    assert state[e03[2]]["status"] == "未整改" and not state[e03[2]]["present"]
    exported = camp.export()
    back = Book(exported)
    day = r"\d{4}年\d{1,2}月\d{1,2}日"
    assert back.get(e03[0], "status") == "销号"
    assert re.fullmatch(f"【{day}销号，第2次运行（全面检查）】【{day}起数据中已不存在】",
                        back.get(e03[0], "note"))
    assert re.fullmatch(f"【{day}起数据中已不存在】", back.get(e03[2], "note"))
    assert not re.search(r"T\d\d:\d\d", str([back.get(f, "note") for f in back.rows()]))
    t5 = fastexcel.read_excel(str(exported)).load_sheet(
        SPEC.sheets["t5"].name, header_row=2, dtypes="string").to_polars()
    head = dict(SPEC.sheets["t5"].columns)
    total = t5.filter(pl.col(head["township"]) == "合计").row(0, named=True)
    assert int(total[head["rectified"]]) == 3  # 已整改 1 + 销号 2
    found, unfounded = int(total[head["found"]]), int(total[head["unfounded"]])
    assert float(total[head["rate"]]) == pytest.approx(3 / (found - unfounded))
    # a county inspector confirms the third one closed; a 未整改 cannot be closed
    back.set(p04[0], status="销号")
    back.set(e03[3], status="销号")
    out = camp.import_(back.save(camp.tmp / "close.xlsx"), extra=("--by", "县民政局 李四"))
    state = camp.state()
    assert state[p04[0]]["status"] == "销号" and state[p04[0]]["closed_by"] == "县民政局 李四"
    assert state[e03[3]]["status"] == "未整改"
    assert (f"（问题编号 {e03[3]}）：只有已整改的问题才能销号（台账中为“未整改”），此项未导入"
            in out)
    # 已整改 on a finding already gone: 销号 at once
    back = Book(camp.export("y"))
    back.set(e03[2], status="已整改")
    out = camp.import_(back.save(camp.tmp / "late.xlsx"), extra=("--by", "三交镇 王五"))
    state = camp.state()
    assert state[e03[2]]["status"] == "销号" and state[e03[2]]["closed_by"] == "三交镇 王五"
    assert f"（问题编号 {e03[2]}）：已不在数据中，已整改即销号" in out


def test_an_export_goes_back_only_to_its_ledger(camp: Campaign, tmp_path: Path) -> None:
    exported = camp.export()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(camp.ledger, other / "cardcheck.db")
    con = sqlite3.connect(other / "cardcheck.db")
    con.execute("UPDATE meta SET value = 'elsewhere' WHERE key = 'ledger_id'")
    con.commit()
    con.close()
    result = CliRunner().invoke(app, ["ledger", "import", str(exported), "--ledger",
                                      str(other / "cardcheck.db")])
    assert result.exit_code == 2
    assert "这个工作簿是从另一个台账导出的" in result.output


def downgrade(ledger: Path) -> None:
    """Make a ledger as cardcheck 1 left it: schema 1, no issues, generated notes in note."""
    con = sqlite3.connect(ledger)
    for table in ("issues", "issued", "imports"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("UPDATE findings SET note = coalesce(auto_note, note)")
    for col in ("auto_note", "closed_at", "closed_by"):
        con.execute(f"ALTER TABLE findings DROP COLUMN {col}")
    con.execute("DELETE FROM meta WHERE key = 'ledger_id'")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()


def test_a_schema_1_ledger_opens_and_imports_safely(camp: Campaign) -> None:
    a, b = camp.townships()[:2]
    book = camp.book()
    done = book.of(a)[:3]
    for fid in done:
        book.set(fid, status="已整改", recovered=0)
    camp.import_(book.save(camp.tmp / "a.xlsx"))  # township A's return, then the upgrade
    with Ledger(camp.ledger) as led:
        led.conn.execute("UPDATE findings SET auto_note = '已整改，但全面检查数据中仍存在' "
                         "WHERE finding_id = ?", (done[0],))
    downgrade(camp.ledger)
    with Ledger(camp.ledger) as led:
        assert led.meta("schema_version") == "2" and led.meta("ledger_id")
        issues = led.issues()
        row = led.state([done[0]]).row(0, named=True)
    assert issues["kind"].to_list() == ["rebuilt"] and issues["rows"][0] == len(book.rows())
    assert row["auto_note"] == "已整改，但全面检查数据中仍存在" and row["own_note"] == ""
    assert row["note"] == "【已整改，但全面检查数据中仍存在】"
    untouched = camp.book()  # township B returns its unfilled copy of the same workbook
    untouched.set(untouched.of(b)[0], status="整改中")
    out = camp.import_(untouched.save(camp.tmp / "b.xlsx"))
    state = camp.state()
    assert [state[f]["status"] for f in done] == ["已整改"] * 3
    assert state[untouched.of(b)[0]]["status"] == "整改中"
    assert "（按台账历史重建）" in out.splitlines()[0]
