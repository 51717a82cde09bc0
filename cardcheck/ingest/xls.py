"""A legacy XLS (BIFF records in an OLE2 file) checked before calamine allocates a sheet's grid,
and its merged ranges (calamine reads the cells, not the merges; xlrd reads BIFF's MERGEDCELLS).

calamine sizes a sheet's grid from its cell records: a row is a 16-bit number (at most 65,536
rows), but so is a column, and one NUMBER record at column 65,000 asks for 4 billion cells. Each
sheet's records are walked here as calamine reads them, from the offset its BOUNDSHEET record
gives to its EOF, for the rows and columns its cells reach (a tight loop: a fifth of a second
for a sheet of 600,000 cells).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import xlrd
from xlrd.compdoc import CompDoc

from cardcheck.ingest.xlsx import SheetLayout
from cardcheck.limits import Limits, over_limit

BOF, EOF, BOUNDSHEET, MULRK = 0x0809, 0x000A, 0x0085, 0x00BD
# the records that hold a value (BLANK and MULBLANK hold formatting only): FORMULA, NUMBER,
# RK, MULRK, LABELSST, LABEL, BOOLERR, RSTRING
CELLS = frozenset({0x0006, 0x0203, 0x027E, MULRK, 0x00FD, 0x0204, 0x0205, 0x00D6})
MERGED_RECORD = b"\xe5\x00"


def check_xls(data: bytes, path: Path, limits: Limits) -> dict[str, SheetLayout]:
    """InputError when a sheet's cells span more than limits.sheet_cells; else the layouts of
    the sheets with merged ranges."""
    stream = _workbook(data)
    for sheet, offset in _sheets(stream) if stream is not None else []:
        extent = _extent(stream, offset)  # type: ignore[arg-type]
        if extent is None:
            continue
        r1, r2, c1, c2 = extent
        rows, cols = r2 - r1 + 1, c2 - c1 + 1
        where = f"{path.name} 工作表“{sheet}”"
        reach = f"有内容的单元格从第 {r1 + 1} 行第 {c1 + 1} 列到第 {r2 + 1} 行第 {c2 + 1} 列"
        if rows * cols > limits.sheet_cells:
            raise over_limit(where, f"{reach}，共 {rows:,} 行 × {cols:,} 列 = {rows * cols:,} 个单元格",
                             "sheet_cells", limits.sheet_cells)
        if cols > limits.columns:
            raise over_limit(where, f"{reach}，共 {cols:,} 列", "columns", limits.columns)
    return _layouts(data)


def _workbook(data: bytes) -> bytes | None:
    """The Workbook (or BIFF5 Book) stream of the OLE2 file; None when it cannot be found
    (calamine then says what is wrong)."""
    try:
        doc = CompDoc(data, logfile=io.StringIO())
        for name in ("Workbook", "Book"):
            mem, base, size = doc.locate_named_stream(name)
            if mem is not None:
                return bytes(mem[base:base + size])
    except Exception:  # noqa: BLE001 - xlrd's errors share no base class
        return None
    return None


def _sheets(stream: bytes) -> list[tuple[str, int]]:
    """(name, offset of its BOF) of each sheet, from the BOUNDSHEET records of the globals."""
    out: list[tuple[str, int]] = []
    pos, end = 0, len(stream) - 4
    while pos <= end:
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if kind == EOF:
            break
        if kind == BOUNDSHEET and length >= 8 and body + 8 <= len(stream):
            count, flags = stream[body + 6], stream[body + 7]
            raw = stream[body + 8:body + 8 + count * (2 if flags & 1 else 1)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
            out.append((name, struct.unpack_from("<I", stream, body)[0]))
        pos = body + length
    return out


def _extent(stream: bytes, pos: int) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column), 0-based, of the cell records from the
    sheet's BOF at `pos` to its EOF (charts inside it included); None without a cell. A tight
    loop: one chained comparison a cell, min() and max() only for a cell outside the bounds."""
    unpack = struct.Struct("<HHHH").unpack_from
    end = len(stream) - 8
    r1 = c1 = 1 << 30
    r2 = c2 = -1
    depth = 0
    while 0 <= pos <= end:
        kind, length, row, col = unpack(stream, pos)
        if kind in CELLS:
            if kind == MULRK and length >= 6 and pos + 4 + length <= len(stream):
                last = stream[pos + 2 + length] | (stream[pos + 3 + length] << 8)
            else:
                last = col
            if not (r1 <= row <= r2 and c1 <= col and last <= c2):  # rarely: a new bound
                r1, r2 = min(r1, row), max(r2, row)
                c1, c2 = min(c1, col), max(c2, col, last)
        elif kind == BOF:
            depth += 1
        elif kind == EOF:
            depth -= 1
            if depth <= 0:
                break
        pos += 4 + length
    return (r1, r2, c1, c2) if r2 >= 0 else None


def _layouts(data: bytes) -> dict[str, SheetLayout]:
    """Merged ranges and the first row and column with a value of each sheet that has merged
    ranges."""
    if MERGED_RECORD not in data:
        return {}
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception:  # noqa: BLE001 - xlrd's errors share no base class; calamine read it
        return {}
    out: dict[str, SheetLayout] = {}
    for name in book.sheet_names():
        sheet = book.sheet_by_name(name)
        if not sheet.merged_cells:
            continue
        used = [(r, c) for r in range(sheet.nrows) for c in range(sheet.row_len(r))
                if sheet.cell_type(r, c) not in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)]
        r0 = min((r for r, _ in used), default=0)
        c0 = min((c for _, c in used), default=0)
        out[name] = SheetLayout(r0, c0, [(r1 - r0, r2 - 1 - r0, c1 - c0, c2 - 1 - c0)
                                         for r1, r2, c1, c2 in sheet.merged_cells])
    return out

