"""Open an input file as a grid of text cells, whatever it really is.

The format is told by content, not by the extension: XLSX (a zip), legacy XLS (an OLE2 file),
an HTML table saved as .xls (what many bank and civil-affairs systems export), or delimited text
in UTF-8 (with or without BOM), UTF-16, GBK or GB18030, separated by comma, tab, semicolon or |.

A `Grid` holds the first rows (for finding the header) and reads the body below a chosen header
row as a polars frame of strings c0, c1 … plus `__line`, the line number the user sees in Excel
or a text editor.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl

from cardcheck.errors import InputError
from cardcheck.ingest.checks import note_sha256
from cardcheck.ingest.guard import check_lines, read_file
from cardcheck.ingest.xls import check_xls
from cardcheck.ingest.xlsx import SheetLayout, check_xlsx
from cardcheck.limits import Limits, over_limit

HEAD_ROWS = 20
HEAD_LINE_CHARS = 65536
CONTROL = bytes([*range(9), 11, *range(14, 27), *range(28, 32), 127])
DELIMITERS = (",", "\t", ";", "|")
Scorer = Callable[[list[str]], int]


@dataclass
class Table:
    """One table of a file: a sheet of a workbook, or the whole text or web page."""

    sheet: str | None  # the sheet's name (None for text and web pages)
    head: list[list[str]]  # the first rows, as text (None cells as "")
    body: Callable[[int], pl.DataFrame]  # header index (0-based in head) -> rows below it
    numeric: Callable[[int, list[int]], dict[int, pl.Series]] | None = None
    line_offset: int = 0  # lines above the first row of `head` (Excel leading empty rows)


@dataclass
class Grid:
    """A file as tables of text cells. `head`, `body`, `numeric` and `line_offset` are those of
    a file of one table; a workbook lists every visible sheet in `tables` (the loader reads
    each whose header fits) and the hidden ones in `ignored`."""

    format: str  # csv / xlsx / xls / html
    encoding: str | None
    head: list[list[str]]  # the first rows, as text (None cells as "")
    body: Callable[[int], pl.DataFrame]  # header index (0-based in head) -> rows below it
    numeric: Callable[[int, list[int]], dict[int, pl.Series]] | None = None
    line_offset: int = 0  # lines above the first row of `head` (Excel leading empty rows)
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (sheet, why not read)

    def __post_init__(self) -> None:
        if not self.tables:
            self.tables = [Table(None, self.head, self.body, self.numeric, self.line_offset)]


def sniff(data: bytes) -> str:
    """xlsx / xls / html / text, from the first bytes."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    start = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"<") and re.search(rb"<(table|html|!doctype)", data[:65536].lower()):
        return "html"
    return "text"


UTF8_SLICE = 1 << 26  # bytes validated at a time


def _valid_utf8(data: bytes) -> bool:
    """Validate UTF-8 in slices cut after a line break (never inside a character), each checked
    by polars' UTF-8 validation (twice as fast as Python's decoder), without holding the whole
    text twice."""
    i = 0
    while i < len(data):
        j = data.find(b"\n", min(i + UTF8_SLICE, len(data)))
        j = len(data) if j < 0 else j + 1
        try:
            pl.Series([data[i:j]], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.PolarsError:
            return False
        i = j
    return True


def _utf16_without_bom(data: bytes) -> str | None:
    """utf-16-le / utf-16-be when every other byte of the start is NUL (ASCII-heavy UTF-16)."""
    sample = data[:4096]
    if len(sample) < 8 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _binary(data: bytes) -> bool:
    """More than 5 % of the first 64 KB are control bytes (NUL, and 0x01–0x1F but tab, line
    breaks, form feed, ESC, and 0x7F): not a text table."""
    sample = data[:65536]
    return len(sample) - len(sample.translate(None, CONTROL)) > 0.05 * len(sample)


def decode(data: bytes, path: Path) -> tuple[bytes, str]:
    """(the text as UTF-8 bytes without BOM, encoding name): UTF-8 (BOM or not), UTF-16 with
    BOM (or ASCII-heavy UTF-16 without), GBK, GB18030. NUL padding at the end is dropped;
    binary content is an InputError."""
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        utf16 = _utf16_without_bom(data)
        if utf16:
            try:
                return data.decode(utf16).encode("utf-8"), utf16
            except UnicodeDecodeError:
                pass
        data = data.rstrip(b"\x00")  # NUL padding of a file cut or preallocated by its writer
        if _binary(data):
            raise InputError(f"{path.name}：不是表格文件（内容是二进制数据，既不是 Excel 也不是"
                             "文本），请确认选对了文件")
    if data.startswith(b"\xef\xbb\xbf"):
        if _valid_utf8(data[3:]):
            return data[3:], "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{path.name}：文件以 UTF-16 标记开头，但内容不是有效的 UTF-16 文本"
                             "，请在 Excel 中另存为“CSV UTF-8”后重试") from None
    elif _valid_utf8(data):
        return data, "utf-8"
    for enc in ("gbk", "gb18030"):
        try:
            return data.decode(enc).encode("utf-8"), enc
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name}：无法识别文件的文字编码（试过 UTF-8、GBK、GB18030），"
                     "请在 Excel 中另存为“CSV UTF-8”后重试")


def _head_rows(utf8: bytes, delimiter: str) -> list[list[str]]:
    return _head_records(utf8, delimiter)[0]


def _head_records(utf8: bytes, delimiter: str
                  ) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """The first rows and the physical lines (0-based, first and last) each spans: a quoted
    header cell may hold a line break (户编\n号), joining up to three lines into one row."""
    end = -1
    for _ in range(HEAD_ROWS + 2):
        end = utf8.find(b"\n", end + 1)
        if end < 0:
            end = len(utf8)
            break
    text = utf8[:end].decode("utf-8", errors="replace")
    # a line is cut before Python's csv field limit (finding the header needs only its start);
    # a stray carriage return inside a line is a space here, as it is for polars
    lines = [ln.rstrip("\r")[:HEAD_LINE_CHARS].replace("\r", " ") for ln in text.split("\n")]
    rows: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(lines) and len(rows) < HEAD_ROWS:
        j = i
        while lines[i:j + 1] and "\n".join(lines[i:j + 1]).count('"') % 2 and j < i + 2 \
                and j + 1 < len(lines):
            j += 1
        joined = "\n".join(lines[i:j + 1])
        if joined.count('"') % 2:  # a quote never closed: read the line on its own
            j, joined = i, lines[i]
        rows.append(next(csv.reader(io.StringIO(joined), delimiter=delimiter), []))
        spans.append((i, j))
        i = j + 1
    return rows, spans


LONE_CR = re.compile(rb"\r(?!\n)")


def read_text(data: bytes, path: Path, score: Scorer, limits: Limits) -> Grid:
    utf8, encoding = decode(data, path)
    if b"\r" in utf8 and LONE_CR.search(utf8):  # old Mac line ends, alone or mixed with others
        utf8 = LONE_CR.sub(b"\n", utf8)
    best = max(DELIMITERS, key=lambda d: max((score(r) for r in _head_rows(utf8, d)), default=0))
    head, spans = _head_records(utf8, best)

    def body(header_index: int) -> pl.DataFrame:
        first, last = spans[header_index] if header_index < len(spans) else (header_index,) * 2
        _check_columns(utf8, first, best, path, limits)
        return _csv_body(utf8, best, header_index, first, last)

    return Grid("csv", encoding, head, body)


def _check_columns(utf8: bytes, line: int, delimiter: str, path: Path, limits: Limits) -> None:
    """InputError when the header line (0-based `line`), whose fields make the frame's columns,
    has more than limits.columns fields (delimiters inside quotes counted too)."""
    start = 0
    for _ in range(line):
        start = utf8.find(b"\n", start) + 1
        if start == 0:
            return
    end = utf8.find(b"\n", start)
    fields = utf8.count(delimiter.encode(), start, len(utf8) if end < 0 else end) + 1
    if fields > limits.columns:
        raise over_limit(path.name, f"第 {line + 1} 行（表头）有 {fields:,} 列", "columns",
                         limits.columns)


def _csv_body(data: bytes, delimiter: str, header_index: int, first: int | None = None,
              last: int | None = None) -> pl.DataFrame:
    """The rows below the header (row `header_index`, on physical lines `first`–`last`)."""
    first = header_index if first is None else first
    last = first if last is None else last
    ragged = False
    try:
        try:  # lines with more fields than the header fail here; they are counted below
            df = pl.read_csv(
                data, has_header=False, infer_schema=False, separator=delimiter,
                skip_lines=first, truncate_ragged_lines=False, quote_char='"',
                raise_if_empty=False,
            )
        except pl.exceptions.ComputeError:
            ragged = True
            df = pl.read_csv(
                data, has_header=False, infer_schema=False, separator=delimiter,
                skip_lines=first, truncate_ragged_lines=True, quote_char='"',
                raise_if_empty=False,
            )
    except pl.exceptions.ComputeError:  # e.g. a quote never closed: Python's reader takes it
        return _csv_body_slow(data, delimiter, header_index)
    df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
    if b'"' in data:  # quoted line breaks would make polars' rows fewer than the lines
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if last + df.height != lines:
            return _csv_body_slow(data, delimiter, header_index)
    df = df.slice(1).with_row_index("__line", offset=last + 2)
    df = df.with_columns(pl.col("__line").cast(pl.Int64))
    if ragged:
        extra = _extra_fields(data, delimiter, last, df.width - 1)
        if extra is None or extra.len() != df.height:  # lines polars reads otherwise
            return _csv_body_slow(data, delimiter, header_index)
        df = df.with_columns(extra)
    return df


EXTRA = "__extra"  # how many filled fields a line has beyond the header's (a shifted row)


def _extra_fields(data: bytes, delimiter: str, last: int, width: int) -> pl.Series | None:
    """Per body line, the fields past the header's `width` that hold something (empty trailing
    fields, as some exports write, are none): counted on the raw lines, quoted cells taken out."""
    try:
        raw = pl.read_csv(data, has_header=False, infer_schema=False, separator="\x00",
                          quote_char=None, new_columns=["line"], raise_if_empty=False,
                          skip_lines=last + 1).get_column("line")
    except pl.exceptions.PolarsError:
        return None
    d = re.escape(delimiter)
    fields = (raw.str.strip_chars_end(f"\r {delimiter}").str.replace_all(r'"[^"]*"', "")
              .str.count_matches(d) + 1)
    return (fields - width).clip(lower_bound=0).fill_null(0).alias(EXTRA)


def _csv_body_slow(data: bytes, delimiter: str, header_index: int) -> pl.DataFrame:
    """Python's csv reader, for files whose quoted cells hold line breaks (exact line numbers)."""
    text = re.sub(r"\r(?!\n)", " ", data.decode("utf-8"))  # a stray carriage return: a space
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    start = 0
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # an overlong cell is rejected later, by row
    try:
        for i, row in enumerate(reader):
            if i < header_index:
                start = reader.line_num
                continue
            rows.append(row)
            lines.append(start + 1)
            start = reader.line_num
    finally:
        csv.field_size_limit(limit)
    width = max((len(r) for r in rows[:1]), default=0)
    df = _frame(rows[1:], lines[1:], width)
    extra = [sum(1 for v in r[width:] if v.strip()) for r in rows[1:]]
    return df.with_columns(pl.Series(EXTRA, extra, dtype=pl.Int64)) if any(extra) else df


def _frame(rows: list[list[str]], lines: list[int], width: int) -> pl.DataFrame:
    cols = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    df = pl.DataFrame(cols, schema={c: pl.String for c in cols})
    return df.with_columns(pl.Series("__line", lines, dtype=pl.Int64))


# ------------------------------------------------------------------------------ spreadsheets


def fill_merged(df: pl.DataFrame, merged: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    """Every cell of a merged range given the range's value (Excel keeps it in the top-left
    cell only), for a frame of the sheet's cells c0, c1 … from its first row (the first rows
    only, for the head: ranges below it are left out, those crossing its end cut there)."""
    if not merged or df.is_empty():
        return df
    height = df.height
    spans = pl.DataFrame(merged, schema=["r1", "r2", "c1", "c2"], orient="row").filter(
        (pl.col("r1") < height) & (pl.col("c1") < df.width) & (pl.col("c1") >= 0)
        & (pl.col("r1") >= 0))
    if spans.is_empty():
        return df
    cells = (spans.with_columns(pl.int_ranges("r1", pl.min_horizontal("r2", height - 1) + 1)
                                .alias("row"),
                                pl.int_ranges("c1", pl.min_horizontal("c2", df.width - 1) + 1)
                                .alias("col"))
             .explode("row").explode("col")
             .filter((pl.col("row") != pl.col("r1")) | (pl.col("col") != pl.col("c1"))))
    names = df.columns
    out = []
    for (col,), part in cells.group_by("col", maintain_order=True):
        target = names[int(col)]
        values = pl.concat([
            df.get_column(names[int(src)]).gather(sub.get_column("r1"))
            for (src,), sub in part.group_by("c1", maintain_order=True)])
        where = pl.concat([sub.get_column("row")
                           for _, sub in part.group_by("c1", maintain_order=True)])
        out.append(df.get_column(target).scatter(where, values))
    return df.with_columns(out)


def read_excel(data: bytes, path: Path, fmt: str, score: Scorer, limits: Limits) -> Grid:
    # before calamine sees the file: its zip, and how far each sheet's cells reach
    layouts = check_xlsx(data, path, limits) if fmt == "xlsx" else check_xls(data, path, limits)
    try:
        reader = fastexcel.read_excel(data)
    except BaseException as exc:  # calamine's errors, and its panics (pyo3's PanicException)
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        text = str(exc)
        if re.search(r"(?i)password|encrypt", text):
            raise InputError(PASSWORD.format(name=path.name)) from None
        raise InputError(f"{path.name}：无法作为 Excel 文件打开（{_first_line(exc)}）") from None
    tables: list[Table] = []
    ignored: list[tuple[str, str]] = []
    for name in reader.sheet_names:
        sheet = _load(reader, name, path, header_row=None, dtypes="string", n_rows=HEAD_ROWS)
        if sheet.visible != "visible":
            ignored.append((name, "隐藏的工作表，未读取"))
            continue
        layout = layouts.get(name, SheetLayout())
        head_frame = fill_merged(sheet.to_polars(), layout.merged)
        tables.append(_sheet_table(reader, path, name, layout, _rows_of(head_frame)))
    if not tables:
        if ignored:
            raise InputError(f"{path.name}：工作簿中只有隐藏的工作表（"
                             f"{'、'.join(n for n, _ in ignored)}），请在 Excel 中取消隐藏后重试")
        raise InputError(f"{path.name}：工作簿中没有工作表")
    tables.sort(key=lambda t: -max((score(r) for r in t.head), default=0))
    best = tables[0]
    grid = Grid(fmt, None, best.head, best.body, best.numeric, best.line_offset,
                tables=tables, ignored=ignored)
    return grid


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load(reader: fastexcel.ExcelReader, name: str, path: Path, **options: Any
          ) -> fastexcel.ExcelSheet:
    """One sheet read by calamine; a sheet it cannot read (its XML damaged, a string it does
    not find) is an InputError naming the file and the sheet, not a traceback."""
    try:
        return reader.load_sheet(name, **options)
    except BaseException as exc:  # a panic in calamine is a BaseException (pyo3's PanicException)
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raise InputError(f"{path.name} 工作表“{name}”：无法读取，Excel 文件可能已损坏"
                         f"（{_first_line(exc)}），请在 Excel 中打开后另存再试") from None


def _sheet_table(reader: fastexcel.ExcelReader, path: Path, name: str, layout: SheetLayout, head: list[list[str]]
                 ) -> Table:
    offset = layout.first_row

    def body(header_index: int) -> pl.DataFrame:
        df = _load(reader, name, path, header_row=None, dtypes="string").to_polars()
        df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
        df = fill_merged(df, layout.merged)
        return df.with_row_index("__line", offset=offset + 1).slice(header_index + 1).with_columns(
            pl.col("__line").cast(pl.Int64)
        )

    def numeric(header_index: int, columns: list[int]) -> dict[int, pl.Series]:
        """True where a cell is a number in the workbook (not text): digits may be lost."""
        if not columns:
            return {}
        # one pass over the sheet for all columns (a pass per column cost 4× as much); text
        # cells cannot be booleans and come back null; to_polars needs no pyarrow
        sheet = _load(reader, name, path, header_row=None, dtypes="boolean",
                      use_columns=list(columns)).to_polars()
        flags = sheet.rename({c: f"c{i}" for i, c in zip(columns, sheet.columns, strict=True)})
        flags = flags.with_columns(pl.all().is_not_null().cast(pl.String).replace("false", None))
        flags = fill_merged(_widen(flags, columns), layout.merged)
        return {i: flags.get_column(f"c{i}").is_not_null().rename(f"n{i}")
                .slice(header_index + 1) for i in columns}

    return Table(name, head, body, numeric, offset)


@dataclass
class SheetCells:
    """Every cell of one sheet as the loader numbers it, for a writer that copies rows of it
    (`cardcheck precheck` splits a batch workbook): `cells` holds c0, c1 … as text (merged
    ranges filled, as read) and `__line`, the row as Excel numbers it; `numbers` is True where
    a cell is a number in the workbook; `merged` the merged ranges in c/row-index coordinates
    (r1, r2, c1, c2, 0-based and inclusive)."""

    cells: pl.DataFrame
    numbers: pl.DataFrame
    merged: list[tuple[int, int, int, int]]
    first_col: int = 0  # the sheet's column of c0 (calamine drops leading empty columns)


def sheet_cells(data: bytes, fmt: str, sheet_name: str, path: Path = Path("workbook"),
                limits: Limits | None = None) -> SheetCells:
    """The cells of `sheet_name` of a workbook (`fmt` xlsx or xls), numbered as the loader
    numbers them (source_line); the workbook held to `limits` as every reader's input."""
    limits = limits or Limits()
    layouts = check_xlsx(data, path, limits) if fmt == "xlsx" else check_xls(data, path, limits)
    reader = fastexcel.read_excel(data)
    layout = layouts.get(sheet_name, SheetLayout())
    table = _sheet_table(reader, path, sheet_name, layout, [])
    cells = table.body(-1)
    columns = [int(c[1:]) for c in cells.columns if c != "__line"]
    flags = table.numeric(-1, columns) if table.numeric is not None else {}
    numbers = pl.DataFrame([flags[i].rename(f"c{i}") for i in columns]) if flags else \
        cells.select(pl.lit(False).alias(c) for c in cells.columns if c != "__line")
    return SheetCells(cells, numbers, layout.merged, layout.first_col)


def _widen(flags: pl.DataFrame, columns: list[int]) -> pl.DataFrame:
    """A frame of c0 … c<max(columns)> holding the given columns, the others null (so merged
    ranges keep their column positions)."""
    width = max(columns) + 1
    return flags.select([pl.col(f"c{i}") if i in columns else pl.lit(None, pl.String).alias(f"c{i}")
                         for i in range(width)])


def _rows_of(df: pl.DataFrame) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in df.iter_rows()]


# ------------------------------------------------------------------------------ HTML tables


class _TooBig(Exception):
    """A web page past a limit: (what was found, the limit's key)."""


class _Tables(HTMLParser):
    """The rows of every <table>, with rowspan and colspan cells repeated over the rows and
    columns they span (as Excel shows a merged cell's value when it opens the page). Within
    `limits`: the cells made (spans repeated) and tables open inside tables are counted as
    they come, so a colspan bomb stops at the limit, not at the end of memory."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(convert_charrefs=True)
        self.limits = limits
        self.tables: list[list[list[str]]] = []
        self.cells = 0
        self._open = 0  # tables open now (one inside another)
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)
        self._pending: list[dict[int, tuple[str, int]]] = []  # per table: col -> (text, rows left)

    def _count(self, cells: int) -> None:
        self.cells += cells
        if self.cells > self.limits.html_cells:
            raise _TooBig(f"表格共有超过 {self.limits.html_cells:,} 个单元格（合并单元格按所跨的"
                          "格数计）", "html_cells")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._open += 1
            if self._open > self.limits.html_depth:
                raise _TooBig(f"表格嵌套了 {self._open} 层（表格里套表格）", "html_depth")
            self.tables.append([])
            self._pending.append({})
        elif tag == "tr" and self.tables:
            self._row = []
            self._fill_pending()
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            a = dict(attrs)
            self._span = (_span(a.get("rowspan"), MAX_ROWSPAN), _span(a.get("colspan"), MAX_SPAN))
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def _fill_pending(self) -> None:
        """Cells spanned from rows above, at the columns the row has reached."""
        if self._row is None or not self._pending:
            return
        pending = self._pending[-1]
        row = self._row
        before = len(row)
        while len(row) in pending:
            col = len(row)
            text, left = pending[col]
            row.append(text)
            if left <= 1:
                del pending[col]
            else:
                pending[col] = (text, left - 1)
            if not len(row) & 0xFFFF:  # a long run of spans: counted as it grows
                self._count(len(row) - before)
                before = len(row)
        self._count(len(row) - before)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = "".join(self._cell).strip()
            rows, cols = self._span
            self._count(cols)
            start = len(self._row)
            self._row.extend([text] * cols)
            if rows > 1:
                for col in range(start, start + cols):
                    self._pending[-1][col] = (text, rows - 1)
            self._cell = None
            self._fill_pending()
        elif tag == "tr" and self._row is not None:
            self._fill_pending()
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table":
            self._open = max(self._open - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


MAX_SPAN = 1000  # as browsers read colspan (and Excel a web page): larger is 1000
MAX_ROWSPAN = 65534  # as browsers read rowspan


def _span(value: str | None, most: int) -> int:
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    n = int(text) if len(text) <= 12 else most
    return min(n, most) if n > 0 else 1


def read_html(data: bytes, path: Path, score: Scorer, limits: Limits) -> Grid:
    charset = re.search(rb'charset=["\']?([A-Za-z0-9_-]+)', data[:4096])
    text = None
    if charset:
        try:
            text, encoding = data.decode(charset.group(1).decode()), charset.group(1).decode().lower()
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        utf8, encoding = decode(data, path)
        text = utf8.decode("utf-8")
    parser = _Tables(limits)
    try:
        parser.feed(text)
        parser.close()
    except _TooBig as too_big:
        found, key = too_big.args
        raise over_limit(path.name, f"网页格式的文件中{found}", key,
                         getattr(limits, key)) from None
    # a page of several tables (one per printed page, or a title table above the data) is
    # read as Excel shows it: the tables one below the other, rows numbered through
    rows = [row for table in parser.tables for row in table]
    if not rows:
        raise InputError(f"{path.name}：网页格式的文件中没有表格")
    width = max(len(r) for r in rows)
    if width > limits.columns:
        raise over_limit(path.name, f"网页格式的文件中表格有 {width:,} 列", "columns",
                         limits.columns)
    if width * len(rows) > limits.html_cells:  # the rows are read as a grid of the widest
        raise over_limit(path.name, f"网页格式的文件中表格有 {len(rows):,} 行 × {width:,} 列 = "
                         f"{width * len(rows):,} 个单元格", "html_cells", limits.html_cells)

    def body(header_index: int) -> pl.DataFrame:
        below = rows[header_index + 1:]
        lines = list(range(header_index + 2, header_index + 2 + len(below)))
        return _frame(below, lines, width)

    return Grid("html", encoding, rows[:HEAD_ROWS], body)


# an Office file with an opening password is an OLE2 file holding an "EncryptedPackage" stream
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
PASSWORD = "{name}：文件设有打开密码（加密的 Excel 工作簿），请在 Excel 中取消密码后另存再试"


def open_grid(path: Path, score: Scorer, limits: Limits) -> Grid:
    """Read `path` as a grid; `score(row)` rates a row as a header (delimiter/sheet/table choice).
    Within `limits` (cardcheck/limits.py), or an InputError saying which was passed."""
    data, stat, _ = read_file(path, limits)
    if not data or data.isspace():  # (strip() would copy a large file)
        raise InputError(f"{path.name}：文件是空的")
    note_sha256(path, stat, data)  # for the manifest, while the bytes are here
    kind = sniff(data)
    if kind == "xls" and ENCRYPTED in data[:1 << 20]:
        raise InputError(PASSWORD.format(name=path.name))
    if kind in ("xlsx", "xls"):
        return read_excel(data, path, kind, score, limits)
    if kind == "html":
        return read_html(data, path, score, limits)
    check_lines(data, path.name, limits)
    return read_text(data, path, score, limits)
