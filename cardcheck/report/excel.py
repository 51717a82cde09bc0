"""Write a Book (report/book.py) as an .xlsx with xlsxwriter.

Craft: a title, a subtitle and the official lines (填报单位（盖章）, 单位) above a frozen header
row; the signers and 填报日期 under the last row; autofilter (the 合计 row left out of it);
money as numbers with two decimals; IDs and card numbers as text (never 1.1E+17); widths fitted
to Chinese (a wide character counts 2) and headers wrapped over narrow number columns; a
dropdown for 整改状态; the columns a township fills in (SheetSpec.fill) coloured and unlocked,
every other cell locked by sheet protection without a password; A4 landscape, one page wide,
with the title rows repeated on every printed page. Every text is written with write_string, so
input starting with = + - @ stays text and never becomes a formula. A sheet longer than Excel's
row limit continues on 表4（续2）….
"""

from __future__ import annotations

import contextlib
import os
import secrets
from itertools import pairwise, takewhile
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.worksheet import Worksheet

from cardcheck.atomic import PARTIAL_MARK
from cardcheck.faults import failpoint
from cardcheck.report.spec import Furniture, SheetSpec
from cardcheck.report.summary import TOTAL

MAX_ROWS = 1_048_576  # Excel's rows per sheet
MONEY = {"amount", "paid", "recovered", "due"}
PERCENT = {"rate"}
# wrapped text columns and their widest width (so that 表4 prints legibly on A4 landscape)
WRAP = {"evidence": 34, "measure": 16, "basis": 10, "beneficiaries": 16, "problems": 14,
        "categories": 14, "category": 10, "owner": 10, "note": 10, "reason": 30, "fund": 8,
        "hub": 18, "funds": 12, "memo": 10, "holder_name": 8, "name": 8, "branch": 14,
        "village": 10, "township": 10, "stage": 6}
WIDE_LIMIT = 24  # widest unwrapped column, in character cells
NUMBER_LIMIT = 6  # widest header over a count: a longer one wraps (表1's 15 problem columns)
HEAD_LINES = 6  # a header wraps over at most this many lines
HEAD_ROWS = 3  # title, subtitle, header (and the official line, a note when there are)
# printing on A4 landscape (0.4" margins): about this many character units fit at 100 %; a
# sheet up to SPLIT_CHARS wide is fitted to one page wide, a wider one is printed in parts of
# at most PART_CHARS (its key columns repeated on each), at the scale the widest part needs
PAGE_CHARS = 128
SPLIT_CHARS = 175
PART_CHARS = 150
FILL_COLOUR = "#FFF2CC"  # the cells a township fills in
FILL_WIDTH = {"note": 14, "measure": 18, "recovered": 10, "status": 8, "owner": 10,
              "deadline": 11}  # room to write in a column a township fills in
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


def display_width(text: str) -> int:
    """Character cells of `text`: ASCII 1, CJK (3 UTF-8 bytes) 2."""
    return (len(text.encode()) + len(text)) // 2


def room_of(width: float, cjk: bool) -> int:
    """Cells a line of a column `width` wide holds (a unit is 7 px, a 10 pt CJK character
    13.3 px: 2 cells; a wide character never splits)."""
    room = max(int(width * 1.05), 1)
    return max(room - room % 2, 2) if cjk else room


def lines_of(text: str, width: float) -> int:
    """Lines `text` wraps to in a column `width` wide."""
    return max(-(-display_width(text) // room_of(width, len(text.encode()) > len(text))), 1)


def widths(df: pl.DataFrame, cols: list[tuple[str, str]]) -> list[float]:
    """Column widths from the header and the widest value (first 10,000 rows), capped.
    Display width of text: ASCII 1, CJK (3 UTF-8 bytes) 2, i.e. (bytes + chars) // 2.
    A header over numbers wraps rather than widen its column. One select for all the columns
    (a sheet has up to 30)."""
    head = df.head(10_000)
    exprs = []
    for i, (col, _) in enumerate(cols):
        if col in MONEY:  # 31,264,736.00: the digits, a comma per three, the cents, bold's room
            digits = (pl.col(col).cast(pl.Int64).abs().fill_null(0) // 100).cast(
                pl.String).str.len_chars()
            exprs.append((digits + (digits - 1) // 3 + 4).max().alias(f"_{i}"))
            continue
        text = pl.col(col).cast(pl.String).fill_null("")
        exprs.append(((text.str.len_bytes() + text.str.len_chars()) // 2).max().alias(f"_{i}"))
    widest = head.select(exprs).row(0) if exprs else ()
    schema = head.schema
    out = []
    for (col, header), most in zip(cols, widest):
        header_w = display_width(header)
        number = schema[col].is_numeric() or col in MONEY
        if number:
            header_w = min(header_w, NUMBER_LIMIT - 1)  # a long header over a number wraps
        limit = WIDE_LIMIT if number else WRAP.get(col, WIDE_LIMIT)
        if col in WRAP and not number:  # a wrapped header needs its longest word
            header_w = min(header_w, 8)
        if col.startswith("cat:"):  # 表1's problem columns: two characters a line
            header_w = min(header_w, 4)
        out.append(float(min(max(int(most or 0), header_w, 4) + 1, limit)))
    return out


class Writer:
    """One workbook; formats made once."""

    def __init__(self, path: Path, max_rows: int = MAX_ROWS, rows: int = 0,
                 furniture: Furniture | None = None, date: str = "") -> None:
        """`rows`: about how many data rows the largest sheet will have. `furniture`: the
        official lines of every table (its reporter resolved), `date` its 填报日期; without
        them a sheet has title, subtitle and header only."""
        self.path = Path(path)
        self.max_rows = max_rows
        self.furniture = furniture
        self.date = date
        # saved under a temporary name and renamed over `path` when whole (a workbook is never
        # cut short under its name); xlsxwriter's temporary files beside it, not in $TMPDIR
        self.saving = self.path.with_name(f"{PARTIAL_MARK}{secrets.token_hex(4)}-{self.path.name}")
        self.wb = xlsxwriter.Workbook(str(self.saving), {**WORKBOOK_OPTIONS,
                                                         "tmpdir": str(self.path.parent)})
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
        kinds = (("text", None), ("wrap", None), ("int", "0"), ("money", "#,##0.00"),
                 ("pct", "0.0%"))
        self.f_total = {k: add({**font, "border": 1, "bold": True, "bg_color": "#F2F2F2",
                                **({"num_format": n} if n else {})}) for k, n in kinds}
        # the cells a township fills in: coloured, unlocked (the sheet is protected)
        self.f_fill = {k: add({**font, "border": 1, "bg_color": FILL_COLOUR, "locked": False,
                               **({"text_wrap": True} if k == "wrap" else {}),
                               **({"num_format": n} if n else {})}) for k, n in kinds}
        self.f["head_fill"] = add({**font, "bold": True, "bg_color": "#FFD966", "border": 1,
                                   "text_wrap": True, "align": "center"})
        self.f["plain"] = add({**font})
        self.f["right"] = add({**font, "align": "right"})
        self.notes: list[str] = []

    def close(self) -> None:
        failpoint("workbook-save")  # the sheets' temporary files exist, the .xlsx does not yet
        try:
            try:
                self.wb.close()
            except FileCreateError as exc:  # xlsxwriter's wrapper of the OSError (disk full …)
                cause = exc.args[0] if exc.args else None
                raise (cause if isinstance(cause, OSError) else OSError(str(exc))) from None
            os.chmod(self.saving, 0o600)
            os.replace(self.saving, self.path)
        except BaseException:
            self.saving.unlink(missing_ok=True)
            self._remove_row_files()
            raise

    def _remove_row_files(self) -> None:
        """xlsxwriter's per-sheet temporary row files (constant_memory), after a failed save."""
        for ws in self.wb.worksheets():
            fh, name = getattr(ws, "row_data_fh", None), getattr(ws, "row_data_filename", None)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                if fh is not None:
                    fh.close()
            if name:
                Path(name).unlink(missing_ok=True)

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
        A `note` is a line of its own between the subtitle and the header. A row holding
        合计 is the total row: bold, outside the autofilter, on the last part only."""
        cols = columns_of(spec, df)
        fields = [c for c, _ in cols]
        name = name or spec.name
        title = title if title is not None else spec.title
        head = HEAD_ROWS + (1 if note else 0)
        data = sheet_values(df, cols)
        texts = [pl.col(c) == TOTAL for c, t in data.schema.items() if t == pl.String]
        is_total = pl.any_horizontal(texts).fill_null(False) if texts else pl.lit(False)
        total, body = data.filter(is_total), data.filter(~is_total)
        per_sheet = max(self.max_rows - head - total.height - 2, 1)
        schema = data.schema
        kinds = [self._kind(c, schema[c]) for c in fields]
        # the columns repeated on every printed part: 序号 and 问题编号 where they lead
        keys = max(len(list(takewhile(lambda f: f in ("seq", "finding_id"), fields[:2]))), 1)
        wraps = [kind == "wrap" for kind in kinds]
        width, starts = print_widths(widths(df, cols), fields, spec.fill, keys, wraps)
        fill = [c in spec.fill for c in fields]
        names = []
        chunks = list(range(0, max(body.height, 1), per_sheet))
        for part, start in enumerate(chunks):
            sheet_name = name if part == 0 else f"{name[:24]}（续{part + 1}）"
            names.append(sheet_name)
            ws = self.sheet(sheet_name)
            chunk = body.slice(start, per_sheet)
            head = self._head(ws, cols, width, title + ("" if part == 0 else f"（续{part + 1}）"),
                              subtitle, note, fill, (starts[1:] or [len(cols)])[0] - 1)
            self._rows(ws, chunk, kinds, row_lines(chunk, cols, width), head, fill)
            last = head + max(chunk.height, 1) - 1
            ws.autofilter(head - 1, 0, last, max(len(cols) - 1, 0))
            if part == len(chunks) - 1 and total.height:
                self._rows(ws, total, kinds, [1] * total.height, last + 1, [False] * len(fill))
                last += total.height
            self._foot(ws, last + 2, 1 if fields and fields[0] == "finding_id" else 0)
            print_layout(ws, width, starts, keys)
            if statuses and "status" in fields and chunk.height:
                col = fields.index("status")
                ws.data_validation(head, col, head + chunk.height - 1, col, {
                    "validate": "list", "source": list(statuses),
                    "error_title": "整改状态", "error_message": "请选择：" + "、".join(statuses)})
            if any(fill):
                ws.protect("", {"autofilter": True, "format_columns": True, "format_rows": True,
                                "select_locked_cells": True, "select_unlocked_cells": True})
        if len(names) > 1:
            self.notes.append(f"{name} 共 {body.height} 行，超过单表行数上限，"
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

    def official_line(self, ws: Worksheet, row: int, last: int, subtitle: str = "") -> None:
        """Row `row` above the header: 填报单位（盖章）：… then the subtitle at the left,
        单位：… at the right (the subtitle alone without furniture)."""
        if not self.furniture:
            if subtitle:
                ws.write_string(row, 0, subtitle, self.f["sub"])
            return
        reporter = f"填报单位（盖章）：{self.furniture.reporter}"
        if subtitle:
            ws.write_rich_string(row, 0, self.f["plain"], reporter + "　" * 4, self.f["sub"],
                                 subtitle)
        else:
            ws.write_string(row, 0, reporter, self.f["plain"])
        if last > 0 and self.furniture.unit:
            ws.write_string(row, last, self.furniture.unit, self.f["right"])

    def signature_line(self) -> str:
        """负责人：…　审核人：…　填报人：…　联系电话：…　填报日期：…"""
        if not self.furniture:
            return ""
        parts = [f"{label}：{value or '　' * 5}" for label, value in self.furniture.signers]
        return "　　".join([*parts, f"填报日期：{self.date}"])

    def _foot(self, ws: Worksheet, row: int, col: int = 0) -> None:
        line = self.signature_line()
        if line:
            ws.write_string(row, col, line, self.f["plain"])

    def _head(self, ws: Worksheet, cols: list[tuple[str, str]], width: list[float], title: str,
              subtitle: str, note: str = "", fill: list[bool] | None = None,
              page_last: int | None = None) -> int:
        """Title, subtitle, the official line, the note and the header; returns the first
        data row. The title is centred over the first printed page's columns (to
        `page_last`)."""
        last = max(len(cols) - 1, 0) if page_last is None else max(page_last, 0)
        for i, (col, _) in enumerate(cols):
            ws.set_column(i, i, width[i])
        if last:
            ws.merge_range(0, 0, 0, last, title, self.f["title"])
        else:
            ws.write_string(0, 0, title, self.f["title"])
        ws.set_row(0, 24)
        self.official_line(ws, 1, last, subtitle)
        at = HEAD_ROWS - 1
        if note:
            ws.write_string(at, 0, note, self.f["note"])
            at += 1
        lines = 1
        for i, (_, header) in enumerate(cols):
            coloured = fill is not None and fill[i]
            ws.write_string(at, i, header, self.f["head_fill" if coloured else "head"])
            lines = max(lines, lines_of(header, width[i]))
        ws.set_row(at, 13.5 * min(lines, HEAD_LINES) + 4)
        ws.freeze_panes(at + 1, 0)
        ws.repeat_rows(0, at)
        return at + 1

    def _rows(self, ws: Worksheet, df: pl.DataFrame, kinds: list[str], lines: list[int],
              start: int = HEAD_ROWS, fill: list[bool] | None = None) -> None:
        fills = fill if fill and any(fill) else None
        for r, (values, n) in enumerate(zip(df.iter_rows(), lines), start=start):
            if n > 1:  # spreadsheet programs do not all fit wrapped rows themselves
                ws.set_row(r, 13.5 * n)
            if TOTAL in values:
                write_row(ws, r, values, kinds, self.f_total)
            elif fills:
                write_row(ws, r, values, kinds, self.f, fills, self.f_fill)
            else:
                write_row(ws, r, values, kinds, self.f)


def print_parts(width: list[float], keys: int = 1) -> list[int]:
    """The first column of each printed part: one part when the sheet fits SPLIT_CHARS,
    else parts of at most PART_CHARS, the `keys` leading columns repeated on each."""
    cells = [w + 0.7 for w in width]  # a column's padding
    if sum(cells) <= SPLIT_CHARS:
        return [0]
    starts, used = [0], 0.0
    repeated = sum(cells[:keys])
    for i, w in enumerate(cells):
        if used + w > PART_CHARS and i > starts[-1]:
            starts.append(i)
            used = repeated
        used += w
    return starts


def _part_widths(cells: list[float], starts: list[int], keys: int) -> list[float]:
    bounds = [*starts, len(cells)]
    return [sum(cells[a:b]) + (sum(cells[:keys]) if a else 0) for a, b in pairwise(bounds)]


def print_widths(width: list[float], fields: list[str], fill: tuple[str, ...] = (),
                 keys: int = 1, wraps: list[bool] | None = None
                 ) -> tuple[list[float], list[int]]:
    """The widths to write and the printed parts (print_parts): a column a township fills
    in gets room to write in (FILL_WIDTH); a part narrower than PART_CHARS gives its spare
    room to its wrapped columns (up to twice as wide), so that its rows need fewer lines."""
    width = [max(w, FILL_WIDTH.get(f, 0)) if f in fill else w for w, f in zip(width, fields)]
    starts = print_parts(width, keys)
    if len(starts) == 1:
        return width, starts
    spare = [PART_CHARS - used for used in _part_widths([w + 0.7 for w in width], starts, keys)]
    for (a, b), room in zip(pairwise([*starts, len(width)]), spare):
        wrapped = [i for i in range(a, b) if (wraps[i] if wraps else fields[i] in WRAP)]
        for i in wrapped:
            width[i] = min(width[i] * 2, width[i] + max(room, 0) / len(wrapped))
    return width, starts


def print_layout(ws: Worksheet, width: list[float], starts: list[int], keys: int = 1) -> None:
    """One page wide when the sheet is printed in one part; else in parts side by side
    (print_parts), the key columns repeated, at the scale the widest part needs."""
    if len(starts) == 1:
        return  # fit_to_pages(1, 0) from Writer.sheet
    parts = _part_widths([w + 0.7 for w in width], starts, keys)
    ws.set_v_pagebreaks(starts[1:])
    ws.repeat_columns(0, keys - 1)
    ws.set_print_scale(max(min(int(100 * PAGE_CHARS / max(parts)), 100), 10))
    ws.print_across()


def row_lines(df: pl.DataFrame, cols: list[tuple[str, str]], width: list[float]) -> list[int]:
    """Lines each row needs: its wrapped texts' display widths over their column widths (a
    wide character never splits: a line holds whole CJK characters)."""
    exprs = []
    for (c, _), w in zip(cols, width):
        if c not in WRAP or df.schema[c] != pl.String:
            continue
        text = pl.col(c).cast(pl.String).fill_null("")
        cells = (text.str.len_bytes() + text.str.len_chars()) // 2
        per_line = pl.when(text.str.len_bytes() > text.str.len_chars()).then(
            room_of(w, True)).otherwise(room_of(w, False))
        # a line ends early where a long number or card cannot be broken: 10 % more lines
        exprs.append((cells * 1.1 / per_line).ceil().cast(pl.Int64))
    if not exprs or df.height == 0:
        return [1] * df.height
    return df.select(pl.max_horizontal(*exprs).clip(1, 15)).to_series().to_list()


def write_row(ws: Worksheet, r: int, values: tuple[Any, ...], kinds: list[str],
              fmt: dict[str, Any], fill: list[bool] | None = None,
              fill_fmt: dict[str, Any] | None = None) -> None:
    """One row: text by write_string (never a formula), numbers by write_number; the columns
    `fill` marks in `fill_fmt` (the cells a township fills in)."""
    base = fmt
    for c, (value, kind) in enumerate(zip(values, kinds)):
        fmt = fill_fmt if fill is not None and fill_fmt is not None and fill[c] else base
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
