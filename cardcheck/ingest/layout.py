"""Bank text files (报盘/回盘: 代发明细, account lists, transactions) read by a declared layout,
or recognised by shape.

Banks send their files as .txt: fields separated by "|" with or without a header line, or fixed
widths (GBK, counted in characters or in bytes), often with a batch header line first and a
trailer line last (H|20230105|…, T|1234|…). A layout under `layouts:` of the user's config
(config.LayoutSpec; docs/bank-layouts.md) says how one kind of such file is laid out.

`layout_grid` is called by the loader before the usual reader. For a text file its layout
applies to, it returns the `Grid` read.py would: `head[0]` a header made of the canonical
column names (a canonical name is its own alias; `amount(分)` carries a unit) and `body(0)`
every physical line, numbered as an editor shows it (1 for the first line). Lines that are not
data stay in the body with their verdict: `__layout_skip` (batch header, trailer, the header
line: skipped, counted under that reason) or `__layout_reject` (a ragged line: rejected, with
what was expected); `layout_verdicts` takes them out before the rows are read, so every
physical line is loaded, rejected or skipped. Fixed widths are cut by whole-column string
slices; for `units: bytes` each multi-byte character is first followed by one mark per extra
byte (U+FFFF), so a character slice of the marked line is a byte slice of the file's line.

A text file with no recognisable header and no layout for it is read by shape when it is
pipe-delimited and its values leave no doubt which column holds what (`by_shape`), with a note
saying so; otherwise the error says how to declare a layout. Any other file: None, and the
usual reader takes it.
"""

from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from cardcheck.config import Config, LayoutSpec, TableSpec
from cardcheck.errors import InputError
from cardcheck.ingest.checks import note_sha256
from cardcheck.ingest.guard import check_lines, read_file
from cardcheck.ingest.header import OPTIONAL_REQUIRED, _encoding_note, scorer
from cardcheck.ingest.read import DELIMITERS, HEAD_LINE_CHARS, HEAD_ROWS, Grid, decode, sniff
from cardcheck.ingest.values import DIRECTIONS
from cardcheck.limits import Limits

PREFIX_BYTES = 1 << 20  # read to decide whether a layout applies
SAMPLE_LINES = 200  # lines a layout is tried on, or a shape judged by
SKIP, REJECT, VALUE = "__layout_skip", "__layout_reject", "__layout_value"
BATCH_HEADER = "batch header (批次头)"
BATCH_TRAILER = "batch trailer (批次尾)"
HEADER_LINE = "header line (表头行)"
WHOLE_LINE = "整行"
MARK = "\uffff"  # a noncharacter: never in decoded text
SHOWN_CHARS = 200  # of a rejected line, in rejects.csv
BANK_SUFFIXES = {"", ".txt", ".dat", ".prn", ".fix", ".asc", ".rpt"}
GB = ("gbk", "gb2312", "gb18030", "cp936")
SHAPE = "按内容识别"


# ------------------------------------------------------------------------------ the hook


def layout_grid(path: Path, kind: str, config: Config) -> Grid | None:
    """The grid of `path` read by its layout (or by shape), or None when the usual reader
    takes it: not a text file, a header found, or no file to read (the reader says why)."""
    path = Path(path)
    spec = config.tables.get("roll" if kind == "other_roll" else kind)
    if spec is None:
        return None
    layouts = [lay for lay in config.layouts.values() if lay.kind == kind]
    named = [lay for lay in layouts if lay.files and _matches(path.name, lay.files)]
    # a FIFO, a device, a file too large: refused here as the usual reader would
    prefix, _, whole = read_file(path, config.limits, PREFIX_BYTES)
    if not prefix or prefix.isspace():
        return None
    fmt = sniff(prefix)
    if fmt != "text":
        if named:
            raise InputError(
                f"{path.name}：按 {named[0].source} 中布局“{named[0].name}”（files: "
                f"{'、'.join(named[0].files)}）应是银行的文本文件，但它是 {fmt.upper()} 文件；"
                "请确认选对了文件，或修改该布局的 files:")
        return None
    if len(named) > 1:
        raise InputError(
            f"{path.name}：文件名同时符合 {named[0].source} 中的布局"
            f"{'、'.join(f'“{lay.name}”' for lay in named)}（files:），无法确定按哪个读取；"
            "请修改 files: 让每个文件只符合一个布局")
    text, encoding = _prefix_text(prefix, whole, path, named[0] if named else None)
    if text is None:
        return None
    if named:
        _check_fit(named[0], text, encoding, path)
        note = f"{path.name}：按 {named[0].source} 中的布局“{named[0].name}”读取（files: 符合）"
        return _grid(path, named[0], [note], config.limits)
    if _has_header(text, spec):
        return None
    defaults = [lay for lay in layouts if not lay.files]
    if defaults:
        chosen = _default_layout(defaults, text, encoding, path)
        note = f"{path.name}：没有表头，按 {chosen.source} 中的布局“{chosen.name}”读取"
        return _grid(path, chosen, [note], config.limits)
    if not _bank_like(path, text):
        return None  # a table with an unknown header: the usual reader says what it lacks
    shape, why = by_shape(text, whole, kind, spec)
    if shape is None:
        raise InputError(_no_layout(path, kind, spec, text, encoding, why))
    return _grid(path, shape, [_shape_note(path, kind, shape)], config.limits)


def _matches(name: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), g.lower()) for g in globs)


def _prefix_text(prefix: bytes, whole: bool, path: Path, layout: LayoutSpec | None
                 ) -> tuple[str | None, str | None]:
    """The start of the file as text, cut after its last whole line, and its encoding."""
    if not whole:
        cut = prefix.rfind(b"\n") + 1
        if cut % 2 and prefix[cut:cut + 1] == b"\x00":  # UTF-16-LE: the line break's 2nd byte
            cut += 1
        prefix = prefix[:cut] if cut else prefix
    if layout is not None and layout.encoding:
        return prefix.rstrip(b"\x00").decode(layout.encoding, errors="replace"), layout.encoding
    try:
        utf8, encoding = decode(prefix, path)
    except InputError:
        return None, None  # the usual reader reads it whole and says what is wrong
    return utf8.decode("utf-8", errors="replace"), encoding


def _has_header(text: str, spec: TableSpec) -> bool:
    """A row among the first ones names a column of the table, by any delimiter (as the usual
    reader finds a header)."""
    score = scorer(spec)
    for line in text.split("\n", HEAD_ROWS)[:HEAD_ROWS]:
        line = line.rstrip("\r")[:HEAD_LINE_CHARS].replace("\r", " ")
        for delimiter in DELIMITERS:
            try:
                row = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                continue
            if score(row) > 0:
                return True
    return False


def _bank_like(path: Path, text: str) -> bool:
    """A bank's text file rather than a table with an unknown header: named .txt, .dat …, or
    a "|" in every line."""
    if path.suffix.lower() in BANK_SUFFIXES:
        return True
    lines = _sample(text)
    return bool(lines) and all("|" in ln for ln in lines)


def _sample(text: str) -> list[str]:
    lines = (ln.rstrip("\r") for ln in text.split("\n"))
    out = []
    for ln in lines:
        if ln.strip():
            out.append(ln)
            if len(out) == SAMPLE_LINES:
                break
    return out


# ------------------------------------------------------------------------------ the grid


def _grid(path: Path, layout: LayoutSpec, notes: list[str], limits: Limits) -> Grid:
    data, stat, _ = read_file(path, limits)
    note_sha256(path, stat, data)
    check_lines(data, path.name, limits)
    text, encoding = _decode(data, path, layout)
    lines, marks = _lines(text), _marks(layout, text, encoding, path)
    del text, data
    head = [[_header_cell(col, layout) for col in layout.columns if col]]

    def body(header_index: int) -> pl.DataFrame:  # the header is synthetic: always 0
        return _body(lines, layout, marks, encoding)

    return Grid(f"txt:{layout.name}", encoding, head, body, notes=notes)


def _header_cell(col: str, layout: LayoutSpec) -> str:
    unit = layout.units.get(col)
    return f"{col}({'分' if unit == 'fen' else '元'})" if unit else col


def _decode(data: bytes, path: Path, layout: LayoutSpec) -> tuple[str, str]:
    if not layout.encoding:
        utf8, encoding = decode(data, path)
        return utf8.decode("utf-8"), encoding
    data = data.rstrip(b"\x00")
    try:
        text = data.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path.name}：第 {line} 行不是有效的 {layout.encoding.upper()} 文本（{layout.source} "
            f"中布局“{layout.name}”写明 encoding: {layout.encoding}）；请核对 encoding，或删去这"
            "一项让 cardcheck 自动识别编码") from None
    return text.removeprefix("\ufeff"), layout.encoding


def _lines(text: str) -> pl.DataFrame:
    """Every physical line as `__raw`, numbered `__line` from 1 (line breaks CRLF, LF or CR; a
    DOS end-of-file mark ^Z at the end is not a line)."""
    text = text.rstrip("\x1a")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    df = pl.DataFrame({"__raw": [text]}).select(pl.col("__raw").str.split("\n")).explode("__raw")
    if text.endswith("\n"):
        df = df.head(df.height - 1)
    return df.with_row_index("__line", offset=1).with_columns(pl.col("__line").cast(pl.Int64))


def _marks(layout: LayoutSpec, text: str, encoding: str | None, path: Path
           ) -> list[tuple[str, int]]:
    """What `_marked` needs to cut this text by bytes (nothing when widths count characters)."""
    if not layout.widths or layout.width_unit != "bytes":
        return []
    enc = (encoding or "").lower().replace("_", "-")
    if enc not in (*GB, "utf-8", "utf-8-sig", "utf8"):
        raise InputError(
            f"{path.name}：按 {layout.source} 中的布局“{layout.name}”按字节定宽（units: bytes），"
            f"但文件是 {enc.upper() or '未知'} 编码；按字节定宽只适用于 GBK、GB18030 或 UTF-8 "
            "文件，请改用 units: chars")
    return _byte_widths(text, enc)


def _body(lines: pl.DataFrame, layout: LayoutSpec, marks: list[tuple[str, int]],
          encoding: str | None) -> pl.DataFrame:
    """c0, c1 … (the named fields, trimmed, '' as null), __line, and the verdicts."""
    raw = pl.col("__raw")
    blank = raw.str.strip_chars().str.len_bytes().fill_null(0) == 0
    rank = (~blank).cast(pl.Int64).cum_sum()  # the line's place among the non-blank lines
    filled = (~blank).cast(pl.Int64).sum()
    skip = (pl.when(blank).then(None)
            .when(rank <= layout.skip_first).then(pl.lit(BATCH_HEADER))
            .when(rank > filled - layout.skip_last).then(pl.lit(BATCH_TRAILER))
            .when(pl.lit(layout.header) & (rank == layout.skip_first + 1))
            .then(pl.lit(HEADER_LINE))
            .otherwise(None))
    lf = lines.lazy().with_columns(skip.alias(SKIP))
    if layout.widths:
        # the line to cut (bytes: marked) and its length, worked out once for every slice
        lf = lf.with_columns(_marked(raw, marks).alias("__cut")).with_columns(
            pl.col("__cut").str.len_chars().alias("__length"))
        cells, problem = _fixed(layout, encoding)
    else:
        lf = lf.with_columns(pl.col("__raw").str.split(layout.delimiter or "|").alias("__parts"))
        cells, problem = _delimited(layout)
    data = pl.col(SKIP).is_null() & ~blank
    lf = lf.with_columns(pl.when(data).then(problem).alias(REJECT))
    names = [f"c{i}" for i in range(len(cells))]
    return lf.select(
        *[_trim(c).alias(n) for c, n in zip(cells, names, strict=True)],
        "__line", SKIP, REJECT,
        pl.when(pl.col(REJECT).is_not_null()).then(raw.str.slice(0, SHOWN_CHARS)).alias(VALUE),
    ).collect()


def _trim(e: pl.Expr) -> pl.Expr:
    t = e.str.strip_chars()
    return pl.when(t == "").then(None).otherwise(t)


def _delimited(layout: LayoutSpec) -> tuple[list[pl.Expr], pl.Expr]:
    """The named fields of a delimited line, and why a line is ragged (or null). A delimiter
    ending the line (a|b|c|) is no extra field."""
    d = layout.delimiter or "|"
    parts = pl.col("__parts")
    n = parts.list.len()
    k = len(layout.columns)
    trailing = (n == k + 1) & (parts.list.last().str.strip_chars() == "")
    shown = d.replace("\t", "\\t")
    problem = pl.when((n != k) & ~trailing).then(pl.format(
        f"该行有 {{}} 个字段（以“{shown}”分隔），按{_named(layout)}应为 {k} 个", n))
    cells = [parts.list.get(i, null_on_oob=True) for i, col in enumerate(layout.columns) if col]
    return cells, problem


def _named(layout: LayoutSpec) -> str:
    return "内容识别的格式" if layout.name == SHAPE else f"布局“{layout.name}”"


def _fixed(layout: LayoutSpec, encoding: str | None) -> tuple[list[pl.Expr], pl.Expr]:
    """The named fields of a fixed-width line `__cut` of `__length` (whole-column slices), and
    why a line does not fit the widths (or null)."""
    raw = pl.col("__raw")
    offsets = [sum(layout.widths[:i]) for i in range(len(layout.widths))]
    total = sum(layout.widths)
    in_bytes = layout.width_unit == "bytes"
    unit = "字节" if in_bytes else "个字符"
    line, length = pl.col("__cut"), pl.col("__length")
    named = _named(layout)
    cases: list[pl.Expr] = []  # why the line does not fit, the first that holds
    if in_bytes:  # a field boundary inside a character: the widths are wrong for this line
        for i, off in [*enumerate(offsets), (len(offsets), total)]:
            if off == 0:
                continue
            col = layout.columns[i] if i < len(offsets) else None
            what = (f"{col} 列从这里开始" if col else f"第 {i + 1} 段从这里开始"
                    if i < len(offsets) else "各列宽度之和到此为止")
            cases.append(pl.when((length > off) & (line.str.slice(off, 1) == MARK)).then(
                pl.lit(f"第 {off + 1} 字节落在一个汉字的中间（{what}），按{named}的字节宽度无法"
                       "切分这一行，请核对 widths")))
    short = pl.format(f"该行长 {{}} {unit}，短于{named}各列宽度之和 {total} {unit}", length)
    if not in_bytes and (encoding or "").lower() in GB:
        gb_bytes = length + raw.str.count_matches(r"[^\x00-\x7f]")
        short = pl.when(gb_bytes == total).then(pl.concat_str([
            short, pl.lit("（按 GBK 字节数正好合适：若银行按字节定宽，请在布局中加 units: bytes）")])
        ).otherwise(short)
    beyond = line.str.slice(total).str.replace_all(MARK, "", literal=True).str.strip_chars()
    cases.append(pl.when(length < total).then(short))
    cases.append(pl.when((length > total) & (beyond != "")).then(pl.format(
        f"该行长 {{}} {unit}，超出{named}各列宽度之和 {total} {unit}（之后还有内容）", length)))
    cells = []
    for col, off, width in zip(layout.columns, offsets, layout.widths, strict=True):
        if col:
            cell = line.str.slice(off, width)
            cells.append(cell.str.replace_all(MARK, "", literal=True) if in_bytes else cell)
    return cells, pl.coalesce(cases)


def _byte_widths(text: str, encoding: str) -> list[tuple[str, int]]:
    """(character class, bytes each of its characters takes beyond one) in the file's
    encoding: GBK's double-byte characters, GB18030's four-byte ones, UTF-8's two to four."""
    enc = encoding.lower()
    if enc in ("utf-8", "utf-8-sig", "utf8"):
        return [(r"[\x{80}-\x{7FF}]", 1), (r"[\x{800}-\x{FFFE}]", 2),
                (r"[\x{10000}-\x{10FFFF}]", 3)]
    wide = len(text) - len(text.encode("ascii", errors="ignore"))
    if len(text.encode(enc, errors="replace")) == len(text) + wide:
        return [(r"[^\x00-\x7F\x{FFFF}]", 1)]  # every non-ASCII character takes two bytes
    odd = {ch for ch in set(text) if ord(ch) > 127 and len(ch.encode(enc, errors="replace")) != 2}
    groups: dict[int, list[str]] = {}
    for ch in odd:
        groups.setdefault(len(ch.encode(enc, errors="replace")) - 1, []).append(ch)
    out = [(f"[{''.join(sorted(chs))}]", extra) for extra, chs in groups.items() if extra > 0]
    return [*out, (r"[^\x00-\x7F\x{FFFF}" + "".join(sorted(odd)) + "]", 1)]


def _marked(line: pl.Expr, widths: list[tuple[str, int]]) -> pl.Expr:
    for pattern, extra in widths:
        line = line.str.replace_all(pattern, "${0}" + MARK * extra)
    return line


# ------------------------------------------------------------------------------ verdicts


@dataclass
class Verdicts:
    """Lines a layout itself skips (with the reason) or rejects (as line, column, value,
    reason rows)."""

    skipped: list[str] = field(default_factory=list)
    rejects: pl.DataFrame | None = None

    def rejected_with(self, rejects: pl.DataFrame) -> pl.DataFrame:
        """`rejects` (of the rows read) and the layout's, in line order."""
        if self.rejects is None or self.rejects.is_empty():
            return rejects
        mine = self.rejects.cast({c: t for c, t in rejects.schema.items()
                                  if c in self.rejects.columns})
        return pl.concat([mine, rejects], how="diagonal_relaxed").sort("line", maintain_order=True)


def layout_verdicts(body: pl.DataFrame) -> tuple[pl.DataFrame, Verdicts]:
    """The body without the lines its layout skips or rejects, and those verdicts; a body of
    any other reader comes back as it is."""
    if SKIP not in body.columns:
        return body, Verdicts()
    given = pl.col(SKIP).is_not_null() | pl.col(REJECT).is_not_null()
    skipped = body.get_column(SKIP).drop_nulls().to_list()
    rejects = body.filter(pl.col(REJECT).is_not_null()).select(
        pl.col("__line").alias("line"), pl.lit(WHOLE_LINE).alias("column"),
        pl.col(VALUE).alias("value"), pl.col(REJECT).alias("reason"))
    rest = body.filter(~given).drop(SKIP, REJECT, VALUE)
    return rest, Verdicts(skipped, rejects)


# ------------------------------------------------------------------------------ choosing


def _fit(layout: LayoutSpec, text: str, encoding: str | None, path: Path
         ) -> tuple[float, str]:
    """(share of the sampled data lines the layout reads, the first misfit and its reason)."""
    limit = SAMPLE_LINES + layout.skip_first + int(layout.header)
    parts = text.split("\n", limit)
    cut = len(parts) > limit  # the file goes on: its trailer is not in the sample
    sample = "\n".join(parts[:limit])
    probe = replace(layout, skip_last=0) if cut else layout
    body = _body(_lines(sample), probe, _marks(probe, sample, encoding, path), encoding)
    cells = [pl.col(c).is_not_null() for c in body.columns if not c.startswith("__")]
    data = body.filter(pl.col(SKIP).is_null()
                       & (pl.col(REJECT).is_not_null() | pl.any_horizontal(cells)))
    if data.is_empty():
        return 1.0, ""
    bad = data.filter(pl.col(REJECT).is_not_null())
    why = "" if bad.is_empty() else f"第 {bad.item(0, '__line')} 行：{bad.item(0, REJECT)}"
    return 1 - bad.height / data.height, why


def _check_fit(layout: LayoutSpec, text: str, encoding: str | None, path: Path) -> None:
    share, why = _fit(layout, text, encoding, path)
    if share < 0.5:
        raise InputError(
            f"{path.name}：按 {layout.source} 中的布局“{layout.name}”读取，大部分行对不上"
            f"（{why}）；请核对该布局的{'widths' if layout.widths else 'delimiter 和 columns'}"
            + ("" if layout.files else "，或用 files: 指明它适用的文件名"))


def _default_layout(defaults: list[LayoutSpec], text: str, encoding: str | None,
                    path: Path) -> LayoutSpec:
    """The layout without `files:` this headerless file fits (most of its lines read)."""
    if len(defaults) == 1:
        _check_fit(defaults[0], text, encoding, path)
        return defaults[0]
    fits = [(_fit(lay, text, encoding, path), lay) for lay in defaults]
    good = [(share, lay) for (share, _), lay in fits if share >= 0.5]
    best = max((share for share, _ in good), default=0)
    top = [lay for share, lay in good if share == best]
    if len(top) == 1:
        return top[0]
    names = "、".join(f"“{lay.name}”" for lay in (top or defaults))
    what = "都对得上" if top else "都对不上"
    raise InputError(
        f"{path.name}：没有表头，{defaults[0].source} 中没有写 files: 的布局 {names}{what}，"
        "无法确定按哪个读取；请在布局中用 files: 指明各自适用的文件名")


# ------------------------------------------------------------------------------ by shape

HAN = "\u4e00-\u9fff"
PATTERNS = {
    "card": r"^\d{12,19}$",
    "amount": r"^[-+]?\d{1,9}(\.\d{1,2})?$",
    "phone": r"^1\d{10}$",
    "name": f"^[{HAN}]{{2,4}}$|^[{HAN}]+[·•.．][{HAN}·•.．]+$",
    "org": f"^[{HAN}0-9A-Za-z（）()]{{2,}}(局|会|委|办|中心|政府|公司|银行|所|站|院|部|厅|处|室|社|街道)$",
    "memo": f"[{HAN}]",
}
DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d %H:%M:%S",
                "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# canonical column -> what its values look like, for the kinds a bank sends
ROLES = {
    "payments": {"card_no": "card", "pay_date": "date", "amount": "amount",
                 "account_name": "name", "id_number": "id", "memo": "memo", "payer": "org"},
    "accounts": {"card_no": "card", "holder_name": "name", "holder_id": "id",
                 "open_date": "date", "phone": "phone"},
    "transactions": {"card_no": "card", "txn_time": "time", "amount": "amount",
                     "direction": "direction"},
}
ROLE_WORDS = {"card": "12–19 位数字的卡号", "date": "日期", "time": "交易时间（日期或日期时间）",
              "amount": "带小数点的金额", "name": "中文姓名", "id": "身份证号", "phone": "手机号",
              "direction": "借贷标志", "memo": "摘要", "org": "单位名称"}


def by_shape(text: str, whole: bool, kind: str, spec: TableSpec
             ) -> tuple[LayoutSpec | None, str]:
    """A layout read off a headerless pipe-delimited text, or (None, why not): every sampled
    line must have the same number of fields, and each column the table needs exactly one
    column whose every value looks like it (a 12–19 digit card number, a date, an amount with
    a decimal point …); a column of Chinese names is the account's name."""
    roles = ROLES.get(kind)
    if roles is None:
        return None, f"只有 {'、'.join(ROLES)} 能按内容识别"
    lines = _sample(text)
    if not whole and len(lines) == SAMPLE_LINES:
        lines = lines[:-1]
    if not lines or not all("|" in ln for ln in lines):
        first = next((i for i, ln in enumerate(lines) if "|" not in ln), 0)
        return None, f"不是以“|”分隔的文本（第 {first + 1} 个非空行没有“|”）"
    rows = [ln.split("|") for ln in lines]
    if all(len(r) > 1 and not r[-1].strip() for r in rows):
        rows = [r[:-1] for r in rows]  # every line ends with a "|"
    counts = sorted({len(r) for r in rows})
    if len(counts) > 1:
        a = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        return None, (f"各行的字段数不同（第 1 个非空行 {len(rows[0])} 个，第 {a + 1} 个非空行 "
                      f"{len(rows[a])} 个），可能有批次头或批次尾行")
    width = counts[0]
    sample = pl.DataFrame([[r[i].strip() for r in rows] for i in range(width)],
                          schema=[f"c{i}" for i in range(width)], orient="col")
    looks = _looks(sample)
    required = [c for c in spec.required if c not in OPTIONAL_REQUIRED.get(kind, set())]
    columns: list[str | None] = [None] * width
    for col, role in roles.items():
        if col not in spec.columns:
            continue
        found = [i for i, r in enumerate(looks) if r == role or (role == "time" and r == "date")]
        if len(found) == 1:
            columns[found[0]] = col
        elif col in required:
            if not found:
                ints = [i for i, r in enumerate(looks) if r == "integer"]
                if role == "amount" and ints:
                    return None, (f"第 {'、'.join(str(i + 1) for i in ints)} 列全是整数，分不清"
                                  "金额的单位是元还是分")
                return None, f"没有一列全是{ROLE_WORDS[role]}"
            return None, (f"第 {'、'.join(str(i + 1) for i in found)} 列都像"
                          f"{ROLE_WORDS[role]}，分不清哪一列是 {col}")
    layout = LayoutSpec(name=SHAPE, kind=kind, columns=tuple(columns), delimiter="|")
    return layout, ""


def _looks(sample: pl.DataFrame) -> list[str | None]:
    """What every value of each sampled column looks like (the first that fits: id, card,
    time, date, amount, integer, phone, direction, an organisation, a name, Chinese text), or
    None."""
    checks = {}
    for c in sample.columns:
        v = pl.col(c)
        some = v.str.len_bytes() > 0
        every = some.all()
        checks.update({
            f"{c}|id": every & _id_ok(v).all(),
            f"{c}|card": every & v.str.contains(PATTERNS["card"]).all(),
            f"{c}|time": every & _when(v, TIME_FORMATS, pl.Datetime).is_not_null().all(),
            f"{c}|date": every & _when(v, DATE_FORMATS, pl.Date).is_not_null().all(),
            f"{c}|amount": every & v.str.contains(PATTERNS["amount"]).all()
            & v.str.contains(r"\.").any(),
            f"{c}|integer": every & v.str.contains(r"^[-+]?\d{1,9}$").all(),
            f"{c}|phone": every & v.str.contains(PATTERNS["phone"]).all(),
            f"{c}|direction": every & v.str.to_uppercase().is_in(
                [w.upper() for words in DIRECTIONS.values() for w in words]).all(),
            f"{c}|org": every & v.str.contains(PATTERNS["org"]).all(),
            f"{c}|name": some.any() & (~some | v.str.contains(PATTERNS["name"])).all(),
            f"{c}|memo": some.any() & v.str.contains(PATTERNS["memo"]).any(),
        })
    got = sample.select(**checks).row(0, named=True)
    order = ("id", "card", "time", "date", "amount", "integer", "phone", "direction", "org",
             "name", "memo")
    return [next((r for r in order if got[f"{c}|{r}"]), None) for c in sample.columns]


def _id_ok(v: pl.Expr) -> pl.Expr:
    """An 18-character ID number whose check character is right (GB 11643)."""
    digits = [v.str.slice(i, 1).cast(pl.Int32, strict=False) * w
              for i, w in enumerate(ID_WEIGHTS)]
    check = (pl.sum_horizontal(digits) % 11).replace_strict(
        dict(enumerate(ID_CHECK)), default=None, return_dtype=pl.String)
    return (v.str.contains(r"^\d{17}[\dXx]$") & (v.str.slice(17, 1).str.to_uppercase() == check)
            ).fill_null(False)


def _when(v: pl.Expr, formats: tuple[str, ...], dtype: type[pl.DataType]) -> pl.Expr:
    """The value read by the first format that fits, between 1900 and 2100, or null."""
    parse = (v.str.to_date if dtype is pl.Date else v.str.to_datetime)
    value = pl.coalesce([parse(f, strict=False) for f in formats])
    year = value.dt.year()
    return pl.when((year >= 1900) & (year <= 2100)).then(value)


def _shape_note(path: Path, kind: str, layout: LayoutSpec) -> str:
    used = "、".join(f"第 {i + 1} 列 {c}" for i, c in enumerate(layout.columns) if c)
    unused = [str(i + 1) for i, c in enumerate(layout.columns) if not c]
    rest = f"（第 {'、'.join(unused)} 列未读取）" if unused else ""
    return (f"{path.name}：没有表头，按内容识别为以“|”分隔的 {kind} 文件：{used}{rest}，金额按元"
            "读取；若识别有误，请在配置的 layouts: 中声明各列（见 docs/bank-layouts.md）")


def _no_layout(path: Path, kind: str, spec: TableSpec, text: str, encoding: str | None,
               why: str) -> str:
    """Today's no-header message, with why the shape told nothing and how to declare it."""
    head = text.split("\n", HEAD_ROWS)[:HEAD_ROWS]
    shown = "、".join(spec.columns[c][0] for c in spec.required if spec.columns.get(c))
    note = _encoding_note([[ln] for ln in head], encoding)
    return (f"{path.name}：在前 {len(head)} 行中找不到 {kind} 表的表头（没有一格是已知的列名，"
            f"如 {shown}；全部列名见 configs/columns.yaml{note}），也无法按内容认出各列（{why}）。"
            "若这是银行的无表头文本文件（报盘/回盘），请在 --config 指定的配置文件中用 layouts: "
            "声明它的格式（分隔符或各列宽度，以及各列的顺序），见 docs/bank-layouts.md")
