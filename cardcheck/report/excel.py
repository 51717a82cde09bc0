"""Write a Book (report/book.py) as an .xlsx with xlsxwriter.

Craft: a title and a subtitle above a frozen header row; autofilter; money as numbers with two
decimals; IDs and card numbers as text (never 1.1E+17); widths fitted to Chinese (a wide
character counts 2); a dropdown for 整改状态; A4 landscape with the title rows repeated on every
printed page. Every text is written with write_string, so input starting with = + - @ stays text
and never becomes a formula. A sheet longer than Excel's row limit continues on 表4（续2）….
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cardcheck.faults import failpoint
from cardcheck.report.spec import SheetSpec
from cardcheck.report.summary import TOTAL

MAX_ROWS = 1_048_576  # Excel's rows per sheet
MONEY = {"amount", "paid", "recovered"}
PERCENT = {"rate"}
# wrapped text columns and their widest width (so that 表4 prints legibly on A4 landscape)
WRAP = {"evidence": 26, "measure": 20, "basis": 14, "beneficiaries": 16, "problems": 14,
        "categories": 14, "category": 10, "owner": 10, "note": 10, "reason": 30}
WIDE_LIMIT = 24  # widest unwrapped column, in character cells
HEAD_ROWS = 3  # title, subtitle, header
IN_MEMORY_ROWS = 20_000  # up to this many rows a sheet, the package is assembled in memory
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False, "constant_memory": True}


def columns_of(sheet: SheetSpec, df: pl.DataFrame) -> list[tuple[str, str]]:
    """(frame column, header) pairs: the spec's columns present, 'categories' expanded to the
    frame's cat:<name> columns when it has them."""
    out: list[tuple[str, str]] = []
    for field, header in sheet.columns:
        cats = [c for c in df.columns if c.startswith("cat:")]
        if field == "categories" and cats:
            out += [(c, c[4:]) for c in cats]
        elif field in df.columns:
            out.append((field, header))
    return out


def sheet_values(df: pl.DataFrame, cols: list[tuple[str, str]]) -> pl.DataFrame:
    """The columns a sheet shows, in its order, money in 元 (fen / 100)."""
    if not cols:
        return df.clear()
    money = [pl.col(c).cast(pl.Float64) / 100 for c, _ in cols if c in MONEY]
    return df.with_columns(money).select([c for c, _ in cols])


def widths(df: pl.DataFrame, cols: list[tuple[str, str]]) -> list[float]:
    """Column widths from the header and the widest value (first 10,000 rows), capped.
    Display width of text: ASCII 1, CJK (3 UTF-8 bytes) 2, i.e. (bytes + chars) // 2.
    One select for all the columns (a sheet has up to 30)."""
    head = df.head(10_000)
    exprs = []
    for i, (col, _) in enumerate(cols):
        values = pl.col(col)
        if col in MONEY:
            values = (values.cast(pl.Float64) / 100).round(2).cast(pl.String) + pl.lit("00,")
        text = values.cast(pl.String).fill_null("")
        exprs.append(((text.str.len_bytes() + text.str.len_chars()) // 2).max().alias(f"_{i}"))
    widest = head.select(exprs).row(0) if exprs else ()
    schema = head.schema
    out = []
    for (col, header), most in zip(cols, widest):
        header_w = (len(header.encode()) + len(header)) // 2
        if schema[col].is_numeric() or col in MONEY:
            header_w = min(header_w, 8)  # a long header over a number wraps instead
        limit = WRAP.get(col, WIDE_LIMIT)
        out.append(float(min(max(int(most or 0), header_w, 4) + 1, limit)))
    return out


class Writer:
    """One workbook; formats made once."""

    def __init__(self, path: Path, max_rows: int = MAX_ROWS, rows: int = 0) -> None:
        """`rows`: about how many data rows the largest sheet will have."""
        self.path = path
        self.max_rows = max_rows
        # xlsxwriter's temporary files beside the workbook (the run's partial folder), so a
        # run killed while saving leaves nothing in $TMPDIR
        self.wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS,
                                                  "tmpdir": str(Path(path).parent)})
        # Rows go to one temporary file per sheet (constant_memory). A workbook of findings
        # is then put together in memory: a temporary file per part (40 of them) cost more
        # than writing the rows. A large one keeps xlsxwriter's temporary files, so memory
        # stays flat. xlsxwriter reads this at close().
        self.wb.in_memory = rows <= IN_MEMORY_ROWS
        add = self.wb.add_format
        font = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        self.f: dict[str, Any] = {
            "title": add({**font, "bold": True, "font_size": 14, "align": "center"}),
            "sub": add({**font, "font_size": 9, "italic": True}),
            "head": add({**font, "bold": True, "bg_color": "#D9E1F2", "border": 1,
                         "text_wrap": True, "align": "center"}),
            "text": add({**font, "border": 1}),
            "wrap": add({**font, "border": 1, "text_wrap": True}),
            "int": add({**font, "border": 1, "num_format": "0"}),
            "money": add({**font, "border": 1, "num_format": "#,##0.00"}),
            "pct": add({**font, "border": 1, "num_format": "0.0%"}),
            "note": add({**font, "font_color": "#9C0006"}),
            "label": add({**font, "bold": True}),
        }
        self.f_total = {k: add({**font, "border": 1, "bold": True, "bg_color": "#F2F2F2",
                                **({"num_format": n} if n else {})})
                        for k, n in (("text", None), ("wrap", None), ("int", "0"),
                                     ("money", "#,##0.00"), ("pct", "0.0%"))}
        self.notes: list[str] = []

    def close(self) -> None:
        failpoint("workbook-save")  # the sheets' temporary files exist, the .xlsx does not yet
        self.wb.close()
        os.chmod(self.path, 0o600)

    def sheet(self, name: str) -> Worksheet:
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.fit_to_pages(1, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
        return ws

    def table(self, spec: SheetSpec, df: pl.DataFrame, subtitle: str, statuses: tuple[str, ...]
              = (), name: str | None = None, title: str | None = None,
              note: str = "") -> list[str]:
        """Write `df` under the sheet's title; returns the sheet names used (continuations).
        A `note` is a line of its own between the subtitle and the header."""
        cols = columns_of(spec, df)
        name = name or spec.name
        title = title if title is not None else spec.title
        head = HEAD_ROWS + (1 if note else 0)
        per_sheet = max(self.max_rows - head, 1)
        data = sheet_values(df, cols)
        schema = data.schema
        kinds = [self._kind(c, schema[c]) for c, _ in cols]
        width = widths(df, cols)
        names = []
        for part, start in enumerate(range(0, max(data.height, 1), per_sheet)):
            sheet_name = name if part == 0 else f"{name[:24]}（续{part + 1}）"
            names.append(sheet_name)
            ws = self.sheet(sheet_name)
            chunk = data.slice(start, per_sheet)
            self._head(ws, cols, width, title + ("" if part == 0 else f"（续{part + 1}）"),
                       subtitle, note)
            self._rows(ws, chunk, kinds, row_lines(chunk, cols, width), head)
            last = head + max(chunk.height, 1) - 1
            ws.autofilter(head - 1, 0, last, max(len(cols) - 1, 0))
            if statuses and "status" in [c for c, _ in cols]:
                col = [c for c, _ in cols].index("status")
                ws.data_validation(head, col, max(last, head + 999), col, {
                    "validate": "list", "source": list(statuses),
                    "error_title": "整改状态", "error_message": "请选择：" + "、".join(statuses)})
        if len(names) > 1:
            self.notes.append(f"{name} 共 {data.height} 行，超过单表行数上限，"
                              f"续表：{'、'.join(names[1:])}")
        return names

    @staticmethod
    def _kind(col: str, dtype: pl.DataType) -> str:
        if col in MONEY:
            return "money"
        if col in PERCENT:
            return "pct"
        if dtype.is_numeric():
            return "int"
        return "wrap" if col in WRAP else "text"

    def _head(self, ws: Worksheet, cols: list[tuple[str, str]], width: list[float], title: str,
              subtitle: str, note: str = "") -> None:
        last = max(len(cols) - 1, 0)
        for i, (col, _) in enumerate(cols):
            ws.set_column(i, i, width[i])
        if last:
            ws.merge_range(0, 0, 0, last, title, self.f["title"])
        else:
            ws.write_string(0, 0, title, self.f["title"])
        ws.set_row(0, 24)
        ws.write_string(1, 0, subtitle, self.f["sub"])
        at = HEAD_ROWS - 1
        if note:
            ws.write_string(at, 0, note, self.f["note"])
            at += 1
        lines = 1
        for i, (_, header) in enumerate(cols):
            ws.write_string(at, i, header, self.f["head"])
            need = (len(header.encode()) + len(header)) // 2
            lines = max(lines, -(-need // max(int(width[i]) - 1, 1)))
        ws.set_row(at, 14 * min(lines, 4) + 4)
        ws.freeze_panes(at + 1, 0)
        ws.repeat_rows(0, at)

    def _rows(self, ws: Worksheet, df: pl.DataFrame, kinds: list[str], lines: list[int],
              start: int = HEAD_ROWS) -> None:
        for r, (values, n) in enumerate(zip(df.iter_rows(), lines), start=start):
            if n > 1:  # spreadsheet programs do not all fit wrapped rows themselves
                ws.set_row(r, 13.5 * n)
            fmt = self.f_total if values and values[0] == TOTAL else self.f
            write_row(ws, r, values, kinds, fmt)


def row_lines(df: pl.DataFrame, cols: list[tuple[str, str]], width: list[float]) -> list[int]:
    """Lines each row needs: its wrapped texts' display widths over their column widths."""
    exprs = [
        (((pl.col(c).cast(pl.String).fill_null("").str.len_bytes()
           + pl.col(c).cast(pl.String).fill_null("").str.len_chars()) // 2)
         / max(w - 2, 1)).ceil().cast(pl.Int64)
        for (c, _), w in zip(cols, width) if c in WRAP
    ]
    if not exprs or df.height == 0:
        return [1] * df.height
    return df.select(pl.max_horizontal(*exprs).clip(1, 15)).to_series().to_list()


def write_row(ws: Worksheet, r: int, values: tuple[Any, ...], kinds: list[str],
              fmt: dict[str, Any]) -> None:
    """One row: text by write_string (never a formula), numbers by write_number."""
    for c, (value, kind) in enumerate(zip(values, kinds)):
        if value is None:
            ws.write_blank(r, c, None, fmt[kind if kind in fmt else "text"])
        elif isinstance(value, str):
            ws.write_string(r, c, value, fmt["wrap" if kind == "wrap" else "text"])
        elif isinstance(value, bool):
            ws.write_string(r, c, "是" if value else "否", fmt["text"])
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, fmt[kind if kind in ("money", "pct", "int") else "int"])
        else:
            ws.write_string(r, c, str(value), fmt["text"])
