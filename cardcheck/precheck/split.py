"""Write the batch back in two, in the layout it came in: 可发 (every line not held) and 暂缓
(the held lines), each keeping the file's other lines — title, header, a bank file's batch
header and trailer, totals, blank lines — as they were.

Text (CSV, pipe or fixed-width 报盘 with a layout): byte for byte. The file is cut into its
physical lines as the readers number them (line ends CRLF, LF or CR, a byte-order mark before
line 1); 可发 is the input minus the held lines' bytes, 暂缓 the input minus the released lines'.
A CSV record whose quoted cell holds a line break spans several lines: they go together.

Workbooks (XLSX; a legacy XLS comes back as XLSX): the sheet's rows as the reader numbers
them, the released (held) rows and every row that is no payment, one below the other from the
sheet's first row (a new workbook with the same header and the rows kept); numbers stay numbers, text stays text (a card number is never 6.2E+18),
merged title cells are merged again. Other sheets (说明 …) are not copied.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import xlsxwriter

from cardcheck.ingest.read import SheetCells, sheet_cells

LINE_END = re.compile(r"\r\n|\r|\n")
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def output_name(prefix: str, path: Path) -> str:
    """可发_报盘202405.txt; a legacy .xls comes back as .xlsx."""
    name = Path(path).name
    if Path(name).suffix.lower() == ".xls":
        name = Path(name).with_suffix(".xlsx").name
    return f"{prefix}_{name}"


class BatchFile:
    """The batch's bytes cut into its lines (or a workbook's rows), to write parts of: the
    lines that are no payment always, and the payments chosen. `records`: the lines that are
    payments (read or rejected), as the reader numbers them."""

    def __init__(self, data: bytes, fmt: str, encoding: str | None, sheet: str | None,
                 records: pl.Series) -> None:
        self.fmt, self.records = fmt, records
        if fmt in ("xlsx", "xls"):
            assert sheet is not None
            self.sheet = sheet
            self.cells = sheet_cells(data, fmt, sheet)
            return
        self.prefix, self.lines, quotes = physical_lines(data, encoding)
        self.owner = record_owner(len(self.lines), records, quotes if fmt == "csv" else None)

    def write(self, chosen: pl.Series, path: Path) -> None:
        """Every line that is no payment, and the payments of `chosen`, in the file's order."""
        if self.fmt in ("xlsx", "xls"):
            _write_rows(self.cells, self.sheet, self.records, chosen, path)
            return
        keep = (self.owner == 0) | np.isin(self.owner, chosen.to_numpy())
        with open(path, "wb") as fh:
            fh.write(self.prefix)
            fh.write(b"".join(itertools.compress(self.lines, keep.tolist())))


def physical_lines(data: bytes, encoding: str | None
                   ) -> tuple[bytes, list[bytes], np.ndarray]:
    """(byte-order mark, the physical lines with their line ends, '"' per line)."""
    enc = (encoding or "").lower().replace("_", "-")
    if enc.startswith("utf-16"):
        bom = data[:2] if data[:2] in UTF16_BOMS else b""
        codec = ("utf-16-be" if bom == b"\xfe\xff" or enc == "utf-16-be" else "utf-16-le")
        text = data[len(bom):].decode(codec)
        ends = [m.end() for m in LINE_END.finditer(text)]
        cuts = [0, *ends] + ([len(text)] if not ends or ends[-1] != len(text) else [])
        parts = [text[a:b] for a, b in itertools.pairwise(cuts)]
        quotes = np.fromiter(map(str.count, parts, itertools.repeat('"')), np.int64, len(parts))
        return bom, [p.encode(codec) for p in parts], quotes
    bom = UTF8_BOM if data.startswith(UTF8_BOM) else b""
    lines = data[len(bom):].splitlines(keepends=True)
    quotes = np.fromiter(map(bytes.count, lines, itertools.repeat(b'"')), np.int64, len(lines))
    return bom, lines, quotes


def record_owner(n: int, records: pl.Series, quotes: np.ndarray | None) -> np.ndarray:
    """For each physical line (1 … n), the line of the payment it belongs to, 0 for the others.
    With `quotes` (a CSV), a line continues the record above while a quoted cell is open."""
    starts = np.zeros(n + 1, dtype=bool)
    rec = records.to_numpy()
    starts[rec[(rec >= 1) & (rec <= n)]] = True
    number = np.arange(n + 1)
    if quotes is None or not quotes.any():
        return np.where(starts, number, 0)[1:]
    odd = (quotes % 2).astype(np.int64)
    open_before = np.concatenate([[0], np.cumsum(odd)[:-1] % 2])  # inside a quote at line start
    begins = open_before == 0
    group = np.cumsum(begins) - 1
    first = np.flatnonzero(begins) + 1  # each group's first line (1-based)
    head = first[group]
    return np.where(starts[head], head, 0)


# ------------------------------------------------------------------------------ workbooks

OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _write_rows(got: SheetCells, sheet: str, records: pl.Series, chosen: pl.Series,
                path: Path) -> None:
    line = pl.col("__line")
    record = line.is_in(records.implode())
    keep = ~record | line.is_in(chosen.implode())
    flags = got.numbers.with_columns(got.cells.get_column("__line"))
    numbers = got.cells.get_column("__line")
    top = int(numbers.min() or 1)  # type: ignore[arg-type]
    firsts = got.cells.filter(record).get_column("__line")
    # merged ranges above the first payment (a title over the columns) come back merged
    limit = int(firsts.min()) - top if firsts.len() else got.cells.height  # type: ignore[arg-type]
    merges = [m for m in got.merged if m[1] < limit]
    _write_sheet(path, sheet, got.cells.filter(keep), flags.filter(keep), merges, top - 1,
                 got.first_col)


def _write_sheet(path: Path, sheet: str, cells: pl.DataFrame, flags: pl.DataFrame,
                 merges: list[tuple[int, int, int, int]], row0: int, col0: int) -> None:
    names = [c for c in cells.columns if c != "__line"]
    wb = xlsxwriter.Workbook(str(path), {**OPTIONS, "tmpdir": str(Path(path).parent)})
    ws = wb.add_worksheet(sheet[:31])
    covered = {(r, c) for r1, r2, c1, c2 in merges for r in range(r1, r2 + 1)
               for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}
    for r1, r2, c1, c2 in merges:
        value = cells.item(r1, names[c1]) if r1 < cells.height and c1 < len(names) else None
        ws.merge_range(row0 + r1, col0 + c1, row0 + r2, col0 + c2, value or "")
    width = [4] * len(names)
    number_cols = flags.select(names)
    for r, (values, numbers) in enumerate(zip(cells.select(names).iter_rows(),
                                              number_cols.iter_rows(), strict=True)):
        for c, (value, number) in enumerate(zip(values, numbers, strict=True)):
            if value is None or (r, c) in covered or _merged_top(r, c, merges):
                continue
            _write(ws, row0 + r, col0 + c, value, bool(number))
            width[c] = max(width[c], min((len(value.encode()) + len(value)) // 2 + 2, 40))
    for c, w in enumerate(width):
        ws.set_column(col0 + c, col0 + c, w)
    wb.close()


def _merged_top(r: int, c: int, merges: list[tuple[int, int, int, int]]) -> bool:
    return any(r == r1 and c == c1 for r1, _, c1, _ in merges)


def _write(ws: Any, r: int, c: int, value: str, number: bool) -> None:
    if number:
        try:
            f = float(value)
        except ValueError:
            ws.write_string(r, c, value)
            return
        ws.write_number(r, c, int(f) if f.is_integer() and abs(f) < 2**53 else f)
    else:
        ws.write_string(r, c, value)
