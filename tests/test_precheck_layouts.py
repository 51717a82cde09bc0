"""The batch comes back in the layout it came in: the demo's batch rewritten as GBK pipe text
with a layout (batch header and trailer), as UTF-8 CSV with LF line ends and a memo holding a
line break, and as XLSX with a merged title and a 合计 row. The same lines are held in every
layout, and 可发 / 暂缓 are the input minus the other part's lines (bytes for text; the same
header and rows for a workbook)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import fastexcel
import numpy as np
import openpyxl
import polars as pl
import pytest
import xlsxwriter
from test_precheck import check_run, holds
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.demo.batch import BATCH, HISTORY
from cardcheck.precheck.split import physical_lines, record_owner

LAYOUT = """\
layouts:
  县民政报盘:
    kind: payments
    files: "*报盘*.txt"
    encoding: gbk
    delimiter: "|"
    skip: {first: 1, last: 1}
    columns: [card_no, account_name, id_number, amount, memo]
    units: {amount: fen}
"""


def records(demo: Path) -> tuple[list[list[str]], dict[int, str], int]:
    """The demo batch's payment rows (序号 … 摘要), the planted rows by index (0-based), and
    the line of the first row in the demo's CSV."""
    data = (demo / f"{BATCH}.csv").read_bytes()
    text = data.decode("gbk") if not data.startswith(b"\xe5\xba\x8f") else data.decode()
    rows = list(csv.reader(io.StringIO(text)))
    first = next(i for i, r in enumerate(rows) if r and r[0] == "序号") + 2
    body = [r for r in rows if r and r[0].isdigit()]
    truth = {}
    with open(demo / f"{BATCH}_truth.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "planted":
                truth[int(row["line"]) - first] = row["rule"]
    return body, truth, first


def fen(text: str) -> str:
    return "" if not text else str(round(float(text) * 100))


def run(demo: Path, batch: Path, out: Path, ledger: Path, *extra: str) -> int:
    shutil.copy(check_run(demo, out.parent / "run"), ledger)
    result = CliRunner().invoke(app, [
        "precheck", "--inputs", str(demo), "--batch", str(batch), "--payments",
        str(demo / f"{HISTORY}.csv"), "--month", "2023-12", "--ledger", str(ledger), "--out",
        str(out), "-q", *extra])
    assert result.exit_code == 1, result.output
    return result.exit_code


@pytest.fixture(params=[(300, 5, False), (420, 13, True)], ids=["300-5", "420-13"])
def demo(request, demo_county) -> Path:
    return demo_county(*request.param)


def test_gbk_pipe_text_with_a_layout(demo, tmp_path) -> None:
    body, planted, _ = records(demo)
    total = sum(int(fen(r[4]) or 0) for r in body)
    lines = [f"H|20231201|{len(body)}"] + [
        "|".join([r[2], r[1], r[3], fen(r[4]), r[5]]) for r in body] + [f"T|{len(body)}|{total}"]
    batch = tmp_path / "县民政报盘202312.txt"
    batch.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    config = tmp_path / "设置.yaml"
    config.write_text(LAYOUT, encoding="utf-8")
    run(demo, batch, tmp_path / "out", tmp_path / "l.db", "--config", str(config))
    held = holds(tmp_path / "out", batch.stem)
    assert set(held) == {i + 2 for i in planted}  # line 1 is the batch header
    for i, rule in planted.items():
        assert rule in held[i + 2]
    source = batch.read_bytes().splitlines(keepends=True)
    released = (tmp_path / "out" / f"可发_{batch.name}").read_bytes()
    kept = (tmp_path / "out" / f"暂缓_{batch.name}").read_bytes()
    assert released == b"".join(ln for i, ln in enumerate(source, 1) if i not in held)
    assert kept == b"".join(ln for i, ln in enumerate(source, 1)
                            if i in held or i in (1, len(source)))


def test_csv_with_a_line_break_inside_a_held_memo(demo, tmp_path) -> None:
    body, planted, _ = records(demo)
    twice = max(i for i, rule in planted.items() if rule == "P04")
    rows = [list(r) for r in body]
    rows[twice][5] = rows[twice][5] + "\n（第二次）"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["序号", "户名", "账号", "证件号码", "金额", "摘要"])
    writer.writerows(rows)
    batch = tmp_path / "报盘202312.csv"
    batch.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    run(demo, batch, tmp_path / "out", tmp_path / "l.db")
    held = holds(tmp_path / "out", batch.stem)
    # line numbers: the header is line 1; rows after the two-line memo start one line later
    line = {i: i + 2 + (1 if i > twice else 0) for i in range(len(rows))}
    assert set(held) == {line[i] for i in planted}
    source = batch.read_bytes()[3:].splitlines(keepends=True)
    spans = {line[i]: [line[i]] + ([line[i] + 1] if i == twice else []) for i in range(len(rows))}
    gone = {n for i in planted for n in spans[line[i]]}
    released = (tmp_path / "out" / f"可发_{batch.name}").read_bytes()
    assert released == b"\xef\xbb\xbf" + b"".join(
        ln for n, ln in enumerate(source, 1) if n not in gone)
    kept = (tmp_path / "out" / f"暂缓_{batch.name}").read_bytes()
    assert kept == b"\xef\xbb\xbf" + b"".join(
        ln for n, ln in enumerate(source, 1) if n in gone or n == 1)
    assert "（第二次）".encode() in kept and "（第二次）".encode() not in released


def _xlsx(path: Path, body: list[list[str]]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("12月")
    ws.merge_range(0, 0, 0, 5, "2023年12月社会救助资金代发报盘")
    ws.write_row(1, 0, ["序号", "户名", "账号", "证件号码", "金额", "摘要"])
    for r, row in enumerate(body, start=2):
        ws.write_number(r, 0, int(row[0]))
        for c in (1, 2, 3, 5):
            ws.write_string(r, c, row[c])
        if row[4]:
            ws.write_number(r, 4, float(row[4]))
    total = sum(float(r[4] or 0) for r in body)
    ws.write_string(len(body) + 2, 0, "合计")
    ws.write_number(len(body) + 2, 4, total)
    wb.close()


def _cells(path: Path) -> list[tuple[str | None, ...]]:
    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
    return [tuple(row) for row in sheet.to_polars().iter_rows()]


def test_xlsx_with_a_merged_title_and_totals(demo, tmp_path) -> None:
    body, planted, _ = records(demo)
    batch = tmp_path / "报盘202312.xlsx"
    _xlsx(batch, body)
    run(demo, batch, tmp_path / "out", tmp_path / "l.db")
    held = holds(tmp_path / "out", batch.stem)
    assert set(held) == {i + 3 for i in planted}  # Excel rows: title 1, header 2
    source = _cells(batch)
    released = _cells(tmp_path / "out" / f"可发_{batch.name}")
    kept = _cells(tmp_path / "out" / f"暂缓_{batch.name}")
    assert released == [row for n, row in enumerate(source, 1) if n not in held]
    assert kept == [row for n, row in enumerate(source, 1)
                    if n in held or n <= 2 or n == len(source)]
    book = openpyxl.load_workbook(tmp_path / "out" / f"可发_{batch.name}")
    ws = book.active
    assert ws.title == "12月"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:F1"]
    assert ws.cell(3, 5).data_type == "n" and ws.cell(3, 3).data_type == "s"
    assert ws.cell(3, 3).value == source[2][2]  # card numbers stay text, digit for digit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_record_owner_keeps_a_quoted_record_together(seed) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    spans = [1 + int(rng.random() < 0.3) for _ in range(n)]
    text, starts, line = "序号,摘要\n", [], 2
    for i, span in enumerate(spans):
        memo = "a\nb" if span == 2 else "a"
        text += f'{i + 1},"{memo}"\n'
        starts.append(line)
        line += span
    text += "合计,\n"
    prefix, lines, quotes = physical_lines(text.encode("gbk"), "gbk")
    owner = record_owner(len(lines), pl.Series(starts), quotes)
    expected = [0] + [s for s, span in zip(starts, spans, strict=True) for _ in range(span)] + [0]
    assert owner.tolist() == expected and prefix == b""


def test_utf16_lines_keep_their_bytes() -> None:
    text = "序号,摘要\r\n1,低保\r\n2,特困\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    prefix, lines, _ = physical_lines(data, "utf-16")
    assert prefix + b"".join(lines) == data and len(lines) == 3
