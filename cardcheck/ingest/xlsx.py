"""An XLSX checked before calamine (fastexcel) opens it, and each sheet's XML read once.

calamine believes what the zip says it holds: a part inflates as far as its stream goes, past
the size the zip declares, and a sheet's grid is allocated from its first to its last filled
cell before a value is read, so one cell at XFD1048576 asks for 512 GiB and the process aborts.
So, before calamine sees the file (cardcheck/limits.py):

- the zip: how many parts, each part's declared size, the total, and the compression ratio;
- every part calamine reads (the XML parts, not pictures) is inflated here from its raw stream,
  counting what really comes out: more than declared (the declared sizes were held to the
  limits), or a CRC that does not match, and the file is damaged;
- every sheet's XML, in the same pass: how far its filled cells reach (rows × columns against
  `sheet_cells`; its declared <dimension> is only quoted: calamine does not allocate from it),
  where calamine's grid starts (it drops leading empty rows and columns) and its merged ranges
  (calamine reads cells, not merges).

The XML is not parsed (no entity is ever expanded, no DTD read: nothing for XXE); it is searched
with regular expressions, cheaply: per chunk, the first and the last filled cell give the
bounds, and one search finds any filled cell outside them (none, in a sheet written in order)
or any cell written otherwise than `<c r="A1" …>`. A sheet that has such cells (no `r`, another
attribute first, a namespace prefix) is walked again cell by cell, as calamine places them.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from cardcheck.errors import InputError
from cardcheck.limits import MB, Limits, over_limit

CHUNK = 4 << 20  # bytes of XML searched at a time
CARRY_MOST = 64 << 20  # one tag (or text) longer than this is not a sheet's
RATIO_FROM = MB  # parts smaller than this unzipped are not held to zip_ratio
READ_BY_CALAMINE = (".xml", ".rels", ".vml")


@dataclass
class SheetLayout:
    """Where calamine's grid starts in the sheet (it drops leading empty rows and columns) and
    the merged ranges, 0-based and inclusive, in the grid's own coordinates."""

    first_row: int = 0
    first_col: int = 0
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, r2, c1, c2


def damaged(path: Path, why: str = "压缩包无法打开") -> InputError:
    return InputError(f"{path.name}：Excel（XLSX）文件不完整或已损坏（{why}），可能下载或复制时"
                      "被截断，请重新导出")


# ------------------------------------------------------------------------------ the zip


def _zip_entries(data: bytes) -> int | None:
    """The number of parts the zip's end record declares (zip64 too), read before zipfile
    builds an object per part; None when there is no end record (zipfile says what is wrong)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    entries = struct.unpack_from("<H", data, end + 10)[0]
    if entries == 0xFFFF and end >= 20 and data[end - 20:end - 16] == b"PK\x06\x07":
        at = struct.unpack_from("<Q", data, end - 12)[0]
        if data[at:at + 4] == b"PK\x06\x06" and at + 40 <= len(data):
            entries = struct.unpack_from("<Q", data, at + 32)[0]
    return entries


def check_xlsx(data: bytes, path: Path, limits: Limits) -> dict[str, SheetLayout]:
    """InputError for a zip that is not a workbook, is damaged or passes a limit; else each
    sheet's layout by sheet name (every sheet, hidden ones too: calamine reads them all)."""
    entries = _zip_entries(data)
    if entries is not None and entries > limits.zip_parts:
        raise over_limit(path.name, f"压缩包中有 {entries:,} 个部件", "zip_parts",
                         limits.zip_parts)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise damaged(path) from None
    with z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        if "xl/workbook.xml" not in names:
            raise InputError(f"{path.name}：是 zip 压缩包，但不是 Excel（XLSX）工作簿")
        if len(set(names)) != len(names):
            raise damaged(path, "压缩包中有同名的部件")
        if len(infos) > limits.zip_parts:
            raise over_limit(path.name, f"压缩包中有 {len(infos):,} 个部件", "zip_parts",
                             limits.zip_parts)
        declared = 0
        for info in infos:
            _check_part_size(path, info.filename, info.file_size, info.compress_size, limits)
            declared += info.file_size
        _check_total(path, declared, limits)
        read = [i for i in infos if i.filename.lower().endswith(READ_BY_CALAMINE)]
        wanted = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
        targets = _sheet_targets({i.filename: _inflated(data, i, path)
                                  for i in read if i.filename in wanted})
        sheet_of = {target: sheet for sheet, target in targets.items()}
        layouts = {}
        for info in read:  # every part of the workbook, not only the sheets found by name
            sheet = sheet_of.get(info.filename)
            if sheet is None and not info.filename.startswith("xl/"):
                continue  # docProps/, customXml/: calamine does not read them
            where = f"{path.name} 工作表“{sheet}”" if sheet else \
                f"{path.name}（部件 {info.filename}）"
            layout = scan_sheet(partial(_counted, data, info, path), where, limits)
            if sheet is not None:
                layouts[sheet] = layout
    return layouts


def _check_part_size(path: Path, name: str, size: int, zipped: int, limits: Limits) -> None:
    if size > limits.part_mb * MB:
        raise over_limit(path.name, f"压缩包中的部件 {name} 解压后有 {size / MB:,.0f} MB",
                         "part_mb", limits.part_mb, " MB")
    if size > RATIO_FROM and size > limits.zip_ratio * max(zipped, 1):
        raise over_limit(path.name, f"压缩包中的部件 {name} 解压后是压缩时的 "
                         f"{size / max(zipped, 1):,.0f} 倍（压缩炸弹的特征）", "zip_ratio",
                         limits.zip_ratio, " 倍")


def _check_total(path: Path, size: int, limits: Limits) -> None:
    if size > limits.unzipped_mb * MB:
        raise over_limit(path.name, f"压缩包解压后共有 {size / MB:,.0f} MB", "unzipped_mb",
                         limits.unzipped_mb, " MB")


def _inflate(data: bytes, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """The part's bytes, inflated here from its raw stream (not zipfile's reader, which stops
    at the declared size as calamine does not) in pieces of up to CHUNK: damaged when more comes
    out than the zip declares (whose sizes were held to the limits) or the CRC does not match."""
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04" or at + 30 > len(data) or info.flag_bits & 0x1:
        raise damaged(path, f"部件 {info.filename} 无法读取")
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i:i + CHUNK]) for i in range(0, len(raw), CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _deflated(raw, path, info.filename)
    else:
        raise damaged(path, f"部件 {info.filename} 的压缩方式（{info.compress_type}）不是 Excel "
                      "使用的")
    out, crc = 0, 0
    for piece in pieces:
        out += len(piece)
        if out > info.file_size:
            raise damaged(path, f"部件 {info.filename} 解压后比压缩包记录的 "
                          f"{info.file_size:,} 字节更长，压缩包被改动过")
        crc = zlib.crc32(piece, crc)
        yield piece
    if out != info.file_size or crc != info.CRC:
        raise damaged(path, f"部件 {info.filename} 的校验值不符")


SST_COUNT = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?sst\b[^>]*?\buniqueCount\s*=\s*["\']([0-9]{1,20})')


def _counted(data: bytes, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """_inflate, and the shared strings' declared count held to what the part can hold:
    calamine reserves room for uniqueCount strings before reading one (2,000,000,000 of them
    aborted it), and a string takes at least 5 bytes (<si/>)."""
    first = True
    for piece in _inflate(data, info, path):
        count = SST_COUNT.search(piece, 0, 65536) if first else None
        if count and int(count.group(1)) > max(info.file_size // 5, 1024):
            raise damaged(path, f"共享字符串表 {info.filename} 声明有 {int(count.group(1)):,} 个"
                          f"字符串，但它只有 {info.file_size:,} 字节，压缩包被改动过")
        first = False
        yield piece


def _deflated(raw: memoryview, path: Path, name: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-15)
    try:
        for i in range(0, len(raw), MB):
            piece = inflater.decompress(raw[i:i + MB], CHUNK)
            while True:
                if piece:
                    yield piece
                if not inflater.unconsumed_tail:
                    break
                piece = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        if rest := inflater.flush():
            yield rest
    except zlib.error:
        raise damaged(path, f"部件 {name} 的压缩数据已损坏") from None


def _inflated(data: bytes, info: zipfile.ZipInfo, path: Path) -> bytes:
    return b"".join(_inflate(data, info, path))


ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """A tag's attributes by local name (r:id as id), either quotes."""
    return {k.split(b":")[-1]: a or b for k, a, b in ATTR.findall(tag)}


def _sheet_targets(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> the zip part holding its cells, from workbook.xml and its relationships."""
    rels: dict[str, str] = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>",
                          parts.get("xl/_rels/workbook.xml.rels", b"")):
        attrs = _attrs(tag)
        if b"Id" in attrs and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace").lstrip("/")
            rels[attrs[b"Id"].decode("utf-8", "replace")] = \
                target if target.startswith("xl/") else "xl/" + target
    out: dict[str, str] = {}
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", parts.get("xl/workbook.xml", b"")):
        attrs = _attrs(tag)
        if b"name" in attrs and b"id" in attrs:
            name = html.unescape(attrs[b"name"].decode("utf-8", "replace"))
            part = rels.get(attrs[b"id"].decode("utf-8", "replace"))
            if part:
                out[name] = part
    return out


# ------------------------------------------------------------------------------ a sheet's XML


def col_index(letters: bytes) -> int:
    """A1 column letters as a 1-based number (A = 1, XFD = 16384)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch & 0xDF) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
NS = rb'(?:[A-Za-z_][\w.-]*:)?'  # a namespace prefix
# what follows a cell's start tag when it holds a value: <v> or <is>, after its formula if any
# (a formula without a value is an empty cell to calamine)
VALUE = rb'\s*(?:<' + NS + rb'f\b[^>]*?(?:/>|>[^<]*</' + NS + rb'f>)\s*)?<' + NS + rb'(?:v|is)[\s/>]'
FILLED = rb'(?=[^>]*(?<!/)>' + VALUE + rb')'
REGULAR_REF = rb'[A-Z]{1,3}[1-9][0-9]{0,6}'
FILLED_CELL = re.compile(rb'<c\s+r="([A-Z]{1,3})([1-9][0-9]{0,6})"' + FILLED)
# a cell not written `<c r="A1"`: no r, another attribute first, a ref such as a01 or A0001
ODD = rb'<c(?:[>/]|\s++(?!r="' + REGULAR_REF + rb'"))'
ODD_CELL = re.compile(ODD)
PREFIXED = re.compile(rb'<[A-Za-z_][\w.-]*:(?:c|row)[\s/>]')
PREFIX_HINT = re.compile(rb':(?:c|row)[\s/>]')  # cheap: a colon is rare in sheet XML
CELL_START = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])')
MERGE = re.compile(rb'mergeCell\b[^>]*?\bref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')
DIMENSION = re.compile(rb'dimension\b[^>]*?\bref="([^"]*)"')


def _greater(text: str, alphabet: str) -> list[str]:
    """Regex alternatives for the strings of `alphabet` digits (no leading zero digit) greater
    than `text`: longer ones, or as long and greater at the first difference."""
    low, high = alphabet[0], alphabet[-1]
    first = alphabet[1] if alphabet == DIGITS else low  # no leading zero
    k = len(text)
    out = [f"[{first}-{high}][{low}-{high}]{{{k},}}"]
    for i, ch in enumerate(text):
        if ch < high:
            nxt = alphabet[alphabet.index(ch) + 1]
            out.append(f"{text[:i]}[{nxt}-{high}][{low}-{high}]{{{k - i - 1}}}")
    return out


def _less(text: str, alphabet: str) -> list[str]:
    """Regex alternatives for the strings of `alphabet` digits less than `text` (no leading
    zero digit, not empty)."""
    low, high = alphabet[0], alphabet[-1]
    first = alphabet[1] if alphabet == DIGITS else low
    k = len(text)
    out = [f"[{first}-{high}][{low}-{high}]{{0,{k - 2}}}"] if k >= 2 else []
    for i, ch in enumerate(text):
        floor = first if i == 0 else low
        if ch > floor:
            prev = alphabet[alphabet.index(ch) - 1]
            out.append(f"{text[:i]}[{floor}-{prev}][{low}-{high}]{{{k - i - 1}}}")
    return out


@lru_cache(maxsize=64)
def _outside(r1: int, r2: int, c1: int, c2: int) -> re.Pattern[bytes]:
    """A filled regular cell outside rows r1–r2 and columns c1–c2 (1-based, inclusive), or an
    odd cell (ODD): one search for both."""
    cols = _less(col_letters(c1), LETTERS) + _greater(col_letters(c2), LETTERS)
    rows = _less(str(r1), DIGITS) + _greater(str(r2), DIGITS)
    alternatives = [f"(?:{'|'.join(cols)})[0-9]+"] if cols else []
    alternatives += [f"[A-Z]+(?:{'|'.join(rows)})"] if rows else []
    outside = b'r="(?:' + "|".join(alternatives).encode() + b')"' + FILLED
    return re.compile(b'<c(?:[>/]|\\s++(?:(?!r="' + REGULAR_REF + b'")|' + outside + b'))')


REF = re.compile(rb'r="([A-Z]+)([0-9]+)"')


class _Extent:
    """The rows and columns (1-based, inclusive) the filled cells reach."""

    def __init__(self) -> None:
        self.r1 = self.r2 = self.c1 = self.c2 = 0  # 0: no filled cell yet

    def add(self, row: int, col: int) -> None:
        if not self.r2:
            self.r1 = self.r2 = row
            self.c1 = self.c2 = col
            return
        self.r1, self.r2 = min(self.r1, row), max(self.r2, row)
        self.c1, self.c2 = min(self.c1, col), max(self.c2, col)

    def add_ref(self, letters: bytes, digits: bytes) -> None:
        self.add(int(digits), col_index(letters))

    @property
    def cells(self) -> int:
        return (self.r2 - self.r1 + 1) * (self.c2 - self.c1 + 1) if self.r2 else 0

    def text(self) -> str:
        return f"{col_letters(self.c1)}{self.r1}:{col_letters(self.c2)}{self.r2}"


class _Odd(Exception):
    """The sheet has cells the fast search does not read: walk it cell by cell."""


def scan_sheet(chunks: Callable[[], Iterator[bytes]], where: str, limits: Limits
               ) -> SheetLayout:
    """The layout of one sheet from its XML (`chunks()` yields it in pieces, anew on each
    call); InputError when its filled cells span more than limits.sheet_cells."""
    state = _Scan(where, limits)
    try:
        state.run(chunks(), state.fast)
    except _Odd:
        state = _Scan(where, limits)
        state.run(chunks(), state.walk)
    return state.layout()


class _Scan:
    def __init__(self, where: str, limits: Limits) -> None:
        self.where, self.limits = where, limits
        self.extent = _Extent()
        self.merges: list[tuple[int, int, int, int]] = []  # r1, r2, c1, c2, 1-based
        self.declared: str | None = None
        self.row, self.col = 0, 0  # the walk's position (1-based; 0: before the first)

    def run(self, pieces: Iterator[bytes], step: Callable[[bytes], None]) -> None:
        carry = b""
        for piece in pieces:
            chunk = carry + piece if carry else piece
            cut = _cut(chunk)
            if cut == 0:  # one tag or text longer than a chunk: carried on, up to a bound
                if len(chunk) > CARRY_MOST:
                    raise InputError(f"{self.where}：XML 中有超过 {CARRY_MOST // MB} MB 的单个元素，"
                                     "不是正常的工作表（文件已损坏或被故意构造）")
                carry = chunk
                continue
            self._chunk(chunk[:cut] if cut > 0 else chunk, step)
            carry = chunk[cut:] if cut > 0 else b""
        if carry:
            self._chunk(carry, step)

    def _chunk(self, text: bytes, step: Callable[[bytes], None]) -> None:
        if self.declared is None:
            dim = DIMENSION.search(text)
            self.declared = dim.group(1)[:40].decode("ascii", "replace") if dim else ""
        step(text)
        if b"mergeCell" in text:
            for a, b, c, d in MERGE.findall(text):
                r1, c1 = int(b), col_index(a)
                self.merges.append((r1, int(d) if d else r1, c1, col_index(c) if c else c1))
        self._check()

    def _check(self) -> None:
        ext = self.extent
        if ext.cells > self.limits.sheet_cells:
            self._refuse()
        if ext.r2 and ext.c2 - ext.c1 + 1 > self.limits.columns:
            raise over_limit(self.where, f"有内容的单元格从 {ext.text()}，共 {ext.c2 - ext.c1 + 1:,} 列",
                             "columns", self.limits.columns)

    def fast(self, text: bytes) -> None:
        """Cells written `<c r="A1" …>`: the first and last filled cell bound the chunk's, and
        one search finds any filled cell outside those bounds, or a cell written otherwise
        (then _Odd)."""
        if PREFIX_HINT.search(text) and PREFIXED.search(text):
            raise _Odd
        first = FILLED_CELL.search(text)
        if first is None:
            if ODD_CELL.search(text):
                raise _Odd
            return
        ext = self.extent
        ext.add_ref(first.group(1), first.group(2))
        row_end = text.find(b"</row>", first.end())  # the first row's last cell: its width
        for end in (len(text), row_end):
            at = end
            while (at := text.rfind(b"<c", first.start() + 1, at)) > 0:
                last = FILLED_CELL.match(text, at)
                if last:
                    ext.add_ref(last.group(1), last.group(2))
                    break
        for hit in _outside(ext.r1, ext.r2, ext.c1, ext.c2).finditer(text):
            ref = REF.search(hit.group(0))
            if ref is None:
                raise _Odd
            ext.add_ref(ref.group(1), ref.group(2))

    def walk(self, text: bytes) -> None:
        """Every row and cell tag in order, placed as calamine places them: a cell without `r`
        follows the one before it, a row without `r` the row before it."""
        for tag in TAG.finditer(text):
            name, attrs = tag.group(1), tag.group(2)
            ref = REF_ANY.search(attrs)
            if name == b"row":
                self.row = _number(ref.group(2)) if ref and ref.group(2) else self.row + 1
                self.col = 0
                continue
            if ref and ref.group(1) and ref.group(2):
                row, self.col = _number(ref.group(2)), col_index(ref.group(1).upper())
            else:
                row = max(self.row, 1)
                self.col += 1
            if not attrs.endswith(b"/") and VALUE_NEXT.match(text, tag.end()):
                self.extent.add(row, self.col)
                if self.extent.cells > self.limits.sheet_cells:
                    self._check()

    def _refuse(self) -> None:
        ext = self.extent
        rows, cols = ext.r2 - ext.r1 + 1, ext.c2 - ext.c1 + 1
        declared = f"，工作表声明的范围是 {self.declared}" if self.declared else ""
        raise over_limit(self.where, f"有内容的单元格从 {ext.text()}，共 {rows:,} 行 × {cols:,} 列"
                         f" = {ext.cells:,} 个单元格{declared}", "sheet_cells",
                         self.limits.sheet_cells)

    def layout(self) -> SheetLayout:
        ext = self.extent
        r0, c0 = (ext.r1, ext.c1) if ext.r2 else (1, 1)
        if not self.merges:
            return SheetLayout(r0 - 1)
        area = 0
        for r1, r2, c1, c2 in self.merges:  # clipped to the cells: fill_merged repeats these
            area += max(0, min(r2, ext.r2) - max(r1, r0) + 1) * \
                max(0, min(c2, ext.c2) - max(c1, c0) + 1)
        if area > self.limits.sheet_cells:
            raise over_limit(self.where, f"合并单元格共覆盖 {area:,} 个单元格（{len(self.merges):,} "
                             "处合并）", "sheet_cells", self.limits.sheet_cells)
        return SheetLayout(r0 - 1, c0 - 1, [(r1 - r0, r2 - r0, c1 - c0, c2 - c0)
                                            for r1, r2, c1, c2 in self.merges])


TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>')
REF_ANY = re.compile(rb'(?:^|\s)r\s*=\s*["\']\s*([A-Za-z]*)0*([0-9]*)\s*["\']')
VALUE_NEXT = re.compile(VALUE)


def _number(digits: bytes) -> int:
    """A row number as written; one of more than 12 digits (int() refuses thousands) as 10¹²."""
    return int(digits) if len(digits) <= 12 else 10 ** 12


def _cut(chunk: bytes) -> int:
    """Where to cut a chunk so that no cell's start tag is parted from the tag after it (its
    value): before the last tag, or before the cell start tag in front of it; -1 for a chunk
    without a tag."""
    at = chunk.rfind(b"<")
    if at <= 0:
        return at
    before = chunk.rfind(b"<", 0, at)
    return before if before >= 0 and CELL_START.match(chunk, before) else at
