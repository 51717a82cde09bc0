"""The demo county's clean files rewritten in the shapes real systems export.

A reshaper takes the folder `cardcheck demo --clean` writes (plain UTF-8 CSVs named by its
inputs.yaml) and a new folder, writes the same data there in another shape with an inputs.yaml of
its own, and returns the new folder. Every shape carries exactly the data of the plain county, so
`cardcheck check` must find exactly the same problems in both.

The shapes follow what the exporting systems write (the 低保 information system, the 残联 system,
bank core systems, Excel used by hand), not what cardcheck's readers expect: nothing is imported
from cardcheck. Table work is done with polars; the Excel and HTML writers iterate over cells.

Conventions the shapes rely on, stated once:
- direction codes 1/2 come in two conventions, told apart by the column's name: under 借贷标志,
  the bank core systems' 1 = 借 (a debit: money out), 2 = 贷 (a credit: money in), the order of
  the two words (`txn_direction_jie_dai_1_2`); under 收付标志, the PBOC anti-money-laundering
  reports' 资金收付标志 1 = 收 (money in), 2 = 付 (money out) (`txn_direction_shou_fu_1_2`).
- Excel number cells hold doubles: an integer is exact only below 2**53 (16 digits, and the
  16-digit cards start 62). So `*_number_cells` writes as numbers the 16-digit cards, phones,
  region codes, amounts and dates (as date cells), and leaves 18-digit IDs, 19-digit cards,
  17-digit household numbers and 20-digit counterparty accounts as text, as a program that
  writes exact values must.
- blank cells stay blank: a blank in the plain data is an empty cell, `&nbsp;` in HTML, padding in
  fixed-width text.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

MAIN = ("roll", "accounts", "payments", "transactions")
OTHER_ROLLS = "other_rolls"

# the plain county's column names this module reshapes by name
AMOUNTS = {"roll": "月保障金额", OTHER_ROLLS: "月保障金额", "payments": "金额",
           "transactions": "交易金额", "pensions": "月养老金"}
ROLL_GROUPS = {"保障信息": ["救助类别", "月保障金额", "保障起始日期", "终止日期"],
               "银行账户信息": ["银行卡号", "持卡人姓名", "持卡人身份证号"]}
# columns that one household shares on the 民政 roll (merged over its rows when constant)
HOUSEHOLD_COLUMNS = ["行政区划代码", "乡镇", "村", "户编号", "户主姓名", "户主身份证号", "银行卡号",
                     "持卡人姓名", "持卡人身份证号", "联系电话"]
MINZHENG_FUNDS = ["农村低保", "城市低保", "特困供养", "临时救助", "孤儿基本生活费"]
CANLIAN_FUNDS = ["困难残疾人生活补贴", "重度残疾人护理补贴"]

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
MONEY_RE = r"^\d{1,6}\.\d{2}$"

# The pipe-delimited and fixed-width payments files carry no header (or one a reader need not
# trust): a user declares their layout in a --config file. These describe them.
PAYMENTS_PIPE_FIELDS = ["交易日期", "账号", "户名", "金额", "摘要", "批次号", "代发单位"]
# (field, first byte counted from 0, width in bytes of GBK); dates YYYYMMDD, amounts in 元 with
# two decimals right-aligned, text left-aligned and padded with spaces; CRLF; GBK.
PAYMENTS_FIXED_LAYOUT = [("交易日期", 0, 8), ("账号", 8, 20), ("户名", 28, 20), ("金额", 48, 12),
                         ("摘要", 60, 48), ("批次号", 108, 16), ("代发单位", 124, 40)]


# ---------------------------------------------------------------------------------------------
# the plain county and the folder being written


def read_layout(folder: Path) -> dict[str, list[str]]:
    """inputs.yaml as kind -> file names; reference lists by their own kind."""
    data = yaml.safe_load((folder / "inputs.yaml").read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if key == "refs":
            out.update({kind: _listed(v) for kind, v in value.items()})
        elif key in ("other_rolls", "other_roll"):
            out[OTHER_ROLLS] = _listed(value)
        else:
            out[key] = _listed(value)
    return out


def _listed(value: str | list[str]) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def read_plain(path: Path) -> pl.DataFrame:
    """A plain CSV as text columns; empty cells (quoted or not) are null."""
    df = pl.read_csv(path, infer_schema=False)
    return df.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in df.columns)


class Folder:
    """The reshaped county: kinds not replaced are copied as they are."""

    def __init__(self, src: Path, dst: Path):
        self.src, self.dst = Path(src), Path(dst)
        self.plain = read_layout(self.src)
        self.files = {kind: list(names) for kind, names in self.plain.items()}
        self.replaced: set[str] = set()
        self.dst.mkdir(parents=True, exist_ok=True)

    @property
    def kinds(self) -> list[str]:
        return list(self.plain)

    @property
    def refs(self) -> list[str]:
        return [k for k in self.plain if k not in MAIN and k != OTHER_ROLLS]

    def table(self, kind: str) -> pl.DataFrame:
        names = self.plain[kind]
        if len(names) != 1:
            raise ValueError(f"{kind}: expected one plain file, got {names}")
        return read_plain(self.src / names[0])

    def path(self, name: str) -> Path:
        return self.dst / name

    def put(self, kind: str, *names: str) -> None:
        self.files[kind] = list(names)
        self.replaced.add(kind)

    def done(self) -> Path:
        for kind, names in self.plain.items():
            if kind not in self.replaced:
                for name in names:
                    shutil.copyfile(self.src / name, self.dst / name)
        layout: dict[str, object] = {k: self.files[k] for k in MAIN if k in self.files}
        refs = {k: self.files[k] for k in self.refs}
        if refs:
            layout["refs"] = refs
        if OTHER_ROLLS in self.files:
            layout[OTHER_ROLLS] = self.files[OTHER_ROLLS]
        text = yaml.safe_dump(layout, allow_unicode=True, sort_keys=False)
        (self.dst / "inputs.yaml").write_text(text, encoding="utf-8")
        return self.dst

    def stem(self, kind: str) -> str:
        return Path(self.plain[kind][0]).stem


# ---------------------------------------------------------------------------------------------
# values


def money_text(expr: pl.Expr) -> pl.Expr:
    """A float amount as text with two decimals (433.5 -> 433.50)."""
    cents = (expr * 100).round(0).cast(pl.Int64)
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def check_money(df: pl.DataFrame, column: str) -> None:
    bad = df.filter(pl.col(column).is_not_null() & ~pl.col(column).str.contains(MONEY_RE))
    if bad.height:
        raise ValueError(f"{column}: not plain amounts: {bad[column].head(3).to_list()}")


def with_thousands(column: str) -> pl.Expr:
    """433.50 -> 433.50, 2286.50 -> 2,286.50, 123456.00 -> 123,456.00 (amounts below 10**6)."""
    parts = pl.col(column).str.split_exact(".", 1)
    whole = parts.struct.field("field_0").cast(pl.Int64)
    grouped = (pl.when(whole >= 1000)
               .then(pl.format("{},{}", whole // 1000,
                               (whole % 1000).cast(pl.String).str.zfill(3)))
               .otherwise(whole.cast(pl.String)))
    return pl.format("{}.{}", grouped, parts.struct.field("field_1")).alias(column)


def columns_matching(df: pl.DataFrame, pattern: str) -> list[str]:
    """The text columns whose every non-blank value matches (and that have one)."""
    out = []
    for c in df.columns:
        s = df[c].drop_nulls()
        if s.len() and s.str.contains(pattern).all():
            out.append(c)
    return out


DateStyle = Callable[[pl.Expr], pl.Expr]


def chinese_date(d: pl.Expr) -> pl.Expr:
    return pl.format("{}年{}月{}日", d.dt.year(), d.dt.month(), d.dt.day())


def slash_date(d: pl.Expr) -> pl.Expr:
    return pl.format("{}/{}/{}", d.dt.year(), d.dt.month(), d.dt.day())


def compact_date(d: pl.Expr) -> pl.Expr:
    return d.dt.strftime("%Y%m%d")


def redate(df: pl.DataFrame, style: DateStyle, times: str) -> pl.DataFrame:
    """Every date column in `style`; every date-time column in `style` and then a space and
    `times` ("%H:%M:%S", "%-H:%M:%S"), or, with times "compact", yyyyMMddHHmmss."""
    dates = columns_matching(df, DATE_RE)
    stamps = columns_matching(df, DATETIME_RE)

    def stamp(c: str) -> pl.Expr:
        t = pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S")
        if times == "compact":
            return t.dt.strftime("%Y%m%d%H%M%S")
        return pl.format("{} {}", style(t), t.dt.strftime(times))

    return df.with_columns(
        *[style(pl.col(c).str.to_date("%Y-%m-%d")).alias(c) for c in dates],
        *[stamp(c).alias(c) for c in stamps],
    )


def typed(value: object) -> object:
    """A text cell as a program that writes typed cells stores it: exact integers (16 digits or
    fewer, below 2**53, no leading zero) and decimals as numbers, dates as dates; the rest, the
    18-digit IDs and 19-digit cards among them, as text."""
    if not isinstance(value, str):
        return value
    if re.fullmatch(r"[1-9]\d{0,15}", value) and int(value) < 2**53:
        return int(value)
    if re.fullmatch(r"\d+\.\d+", value):
        return float(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value):
        return dt.datetime.fromisoformat(value)
    return value


# ---------------------------------------------------------------------------------------------
# grids: rows of cells and merged ranges, written as XLSX, XLS or HTML


Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based)


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]
    merges: list[Merge] = field(default_factory=list)
    hidden: bool = False


def grid(df: pl.DataFrame, header: bool = True) -> list[list[object]]:
    return ([list(df.columns)] if header else []) + [list(r) for r in df.rows()]


def write_xlsx(path: Path, sheets: list[Sheet], numbers: bool = False) -> Path:
    import openpyxl

    merged = any(s.merges for s in sheets)
    wb = openpyxl.Workbook(write_only=not merged)  # write-only (faster) cannot merge cells
    if merged:
        wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.name)
        for row in s.rows:
            ws.append([typed(v) if numbers else v for v in row])
        for r0, c0, r1, c1 in s.merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1,
                           end_column=c1 + 1)
        if s.hidden:
            ws.sheet_state = "hidden"
    wb.active = next(i for i, s in enumerate(sheets) if not s.hidden)
    wb.save(path)
    return path


def write_xls(path: Path, sheets: list[Sheet], numbers: bool = False) -> Path:
    import xlwt

    styles = {dt.date: xlwt.easyxf(num_format_str="YYYY-MM-DD"),
              dt.datetime: xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")}
    plain = xlwt.Style.default_style
    wb = xlwt.Workbook(encoding="utf-8")
    for s in sheets:
        ws = wb.add_sheet(s.name)
        covered = set()
        for r0, c0, r1, c1 in s.merges:
            ws.write_merge(r0, r1, c0, c1, s.rows[r0][c0])
            covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for r, row in enumerate(s.rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                value = typed(value) if numbers else value
                ws.write(r, c, value, styles.get(type(value), plain))
        if s.hidden:
            ws.visibility = 1
    wb.save(str(path))
    return path


def html_table(rows: list[list[object]], merges: list[Merge], blank: str = "",
               header_rows: int = 0) -> str:
    """One <table>: merged ranges as rowspan/colspan on their first cell, the cells they cover
    left out, as Excel's "save as web page" and the systems imitating it write them."""
    spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in merges}
    covered = {(r, c) for r0, c0, r1, c1 in merges
               for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - set(spans)
    out = ['<table border="1" cellspacing="0" cellpadding="2">']
    for r, row in enumerate(rows):
        tag = "th" if r < header_rows else "td"
        cells = []
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            rowspan, colspan = spans.get((r, c), (1, 1))
            attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
                f' colspan="{colspan}"' if colspan > 1 else "")
            text = blank if value is None else html.escape(str(value))
            cells.append(f'<{tag}{attrs} class="t">{text}</{tag}>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def write_html_xls(path: Path, tables: list[str], charset: str, title: str = "") -> Path:
    """HTML tables saved with an .xls name, as many Chinese systems "export to Excel"."""
    head = (f'<html xmlns:o="urn:schemas-microsoft-com:office:office" '
            f'xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
            f"<title>{html.escape(title)}</title>\n"
            '<style>.t { mso-number-format:"\\@"; }</style>\n</head>\n<body>\n')
    body = '\n<br style="page-break-before:always">\n'.join(tables)
    path.write_bytes((head + body + "\n</body>\n</html>\n").encode(charset))
    return path


# ---------------------------------------------------------------------------------------------
# printed layouts: title, unit line, grouped two-row header, 栏次, pages, totals, footer


COLUMN_LETTERS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def header_rows(columns: list[str], groups: dict[str, list[str]] | None,
                top: int) -> tuple[list[list[object]], list[Merge]]:
    """One header row, or two when columns are grouped: a group's label merged across its
    columns above their own labels, every other column merged down over both rows."""
    if not groups:
        return [list(columns)], []
    upper: list[object] = list(columns)
    lower: list[object] = [None] * len(columns)
    merges: list[Merge] = []
    grouped = {c for cols in groups.values() for c in cols}
    for label, cols in groups.items():
        first = columns.index(cols[0])
        if columns[first:first + len(cols)] != cols:
            raise ValueError(f"group {label}: columns {cols} are not side by side")
        upper[first:first + len(cols)] = [label] + [None] * (len(cols) - 1)
        lower[first:first + len(cols)] = cols
        merges.append((top, first, top, first + len(cols) - 1))
    merges += [(top, i, top + 1, i) for i, c in enumerate(columns) if c not in grouped]
    return [upper, lower], merges


def household_blocks(df: pl.DataFrame, household: str, columns: list[str],
                     top: int) -> tuple[pl.DataFrame, list[Merge]]:
    """Each household's constant cells merged over its run of member rows, the value in the top
    cell only, as Excel stores a merged cell. `top` is the sheet row of the first data row."""
    indexed = df.with_row_index("__row").with_columns(
        (pl.col(household) != pl.col(household).shift()).fill_null(True).cum_sum()
        .alias("__block"))
    merged = [c for c in columns if c in df.columns]
    blocks = indexed.group_by("__block").agg(
        pl.col("__row").min().alias("__first"), pl.col("__row").max().alias("__last"),
        *[((pl.col(c).n_unique() == 1) & pl.col(c).is_not_null().all()).alias(c)
          for c in merged])
    blocks = blocks.filter(pl.col("__last") > pl.col("__first"))
    flags = indexed.join(blocks, on="__block", how="left", suffix="__merged")
    blanked = flags.select(
        *[pl.when(pl.col(f"{c}__merged").fill_null(False)
                  & (pl.col("__row") != pl.col("__first")))
          .then(None).otherwise(pl.col(c)).alias(c) if c in merged else pl.col(c)
          for c in df.columns])
    merges = []
    for c in merged:
        i = df.columns.index(c)
        spans = blocks.filter(pl.col(c)).select("__first", "__last").rows()
        merges += [(top + a, i, top + b, i) for a, b in spans]
    return blanked, merges


@dataclass
class Printed:
    """How a printed roll or list is laid out on its sheet."""

    title: str | None = None
    issuer: str = "填报单位（盖章）："  # the left of the line under the title
    unit: str | None = "单位：元"  # its right; no such line when None
    groups: dict[str, list[str]] | None = None
    serial: bool = False  # a 序号 column first
    column_numbers: str | None = None  # "digits" (1 2 3 …) or "letters" (甲 乙 丙 …)
    households: str | None = None  # merge each household's constant cells (its id column)
    page_rows: int | None = None  # rows per printed page: header repeated, 本页合计, 第N页
    subtotal: str | None = None  # the amount column totalled per page and at the end
    footer: tuple[str, str, str] | None = None  # who made it, who checked it, the seal


ROLL_FOOTER = ("制表人：王丽", "审核人：张建国", "填报单位（盖章）：")
BANK_FOOTER = ("经办：李娜", "复核：赵强", "打印机构：柳林农村商业银行营业部")


def printed(df: pl.DataFrame, how: Printed) -> tuple[list[list[object]], list[Merge]]:
    if how.serial:
        df = df.select(pl.int_range(1, pl.len() + 1).cast(pl.String).alias("序号"), pl.all())
    columns = list(df.columns)
    n = len(columns)
    rows: list[list[object]] = []
    merges: list[Merge] = []

    def line(text: str, merged: bool = True) -> None:
        if merged:
            merges.append((len(rows), 0, len(rows), n - 1))
        rows.append([text] + [None] * (n - 1))

    if how.title:
        line(how.title)
    if how.unit:
        rows.append([how.issuer] + [None] * (n - 2) + [how.unit])

    def header() -> None:
        block, spans = header_rows(columns, how.groups, len(rows))
        rows.extend(block)
        merges.extend(spans)
        if how.column_numbers == "digits":
            rows.append([str(i) for i in range(1, n + 1)])
        elif how.column_numbers == "letters":
            rows.append(list(COLUMN_LETTERS[:n]))

    def total(label: str, part: pl.DataFrame) -> None:
        row: list[object] = [label] + [None] * (n - 1)
        if how.subtotal:
            cell = part.select(money_text(pl.col(how.subtotal).cast(pl.Float64).sum())).item()
            row[columns.index(how.subtotal)] = cell
        rows.append(row)

    pages = ([df.slice(i, how.page_rows) for i in range(0, df.height, how.page_rows)]
             if how.page_rows else [df])
    for number, page in enumerate(pages, 1):
        if number == 1 or how.page_rows:
            header()
        if how.households:
            page, spans = household_blocks(page, how.households, HOUSEHOLD_COLUMNS, len(rows))
            merges.extend(spans)
        rows.extend(grid(page, header=False))
        if how.page_rows:
            if how.subtotal:
                total("本页合计", page)
            line(f"第{number}页/共{len(pages)}页")
    if how.subtotal:
        total("合计", df)
    if how.footer:
        row: list[object] = [None] * n
        row[0], row[n // 3], row[2 * n // 3] = how.footer
        rows.append(row)
        line("填报日期：2024年1月10日", merged=False)
    return rows, merges


# ---------------------------------------------------------------------------------------------
# text files


def csv_text(df: pl.DataFrame, sep: str = ",", header: bool = True, newline: str = "\n") -> str:
    return df.write_csv(separator=sep, include_header=header, line_terminator=newline)


def write_text(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def every_nth_line_cr(text: str, n: int) -> str:
    """Every n-th line ended by a bare CR instead of LF (a file pieced together from parts
    written on different systems)."""
    lines = pl.Series("line", text.split("\n")[:-1])
    ends = (pl.when((pl.int_range(pl.len()) + 1) % n == 0).then(pl.lit("\r"))
            .otherwise(pl.lit("\n")))
    return pl.DataFrame(lines).select(pl.concat_str(pl.col("line"), ends).str.join("")).item()


def gbk_pad(column: str, width: int, right: bool = False) -> pl.Expr:
    """Text padded with spaces to `width` bytes of GBK (a CJK character takes two)."""
    text = pl.col(column).fill_null("")
    wide = text.str.len_chars() - text.str.count_matches(r"[\x00-\x7f]")
    chars = width - wide
    return text.str.pad_start(chars) if right else text.str.pad_end(chars)


def gbk_width(df: pl.DataFrame, column: str) -> int:
    text = pl.col(column).fill_null("")
    return df.select((text.str.len_chars() * 2 - text.str.count_matches(r"[\x00-\x7f]")).max()
                     ).item()


# ---------------------------------------------------------------------------------------------
# the shapes

SHAPES: dict[str, Callable[[Path, Path], Path]] = {}


def save(f: Folder, kind: str, sheets: list[Sheet], ext: str = "xlsx",
         numbers: bool = False) -> None:
    """Sheets as the workbook of `kind`, named as the plain file with the extension `ext`."""
    name = f"{f.stem(kind)}.{ext}"
    (write_xlsx if ext == "xlsx" else write_xls)(f.path(name), sheets, numbers)
    f.put(kind, name)


def shape(fn: Callable[[Folder], None]) -> Callable[[Path, Path], Path]:
    def reshape(src: Path, dst: Path) -> Path:
        folder = Folder(src, dst)
        fn(folder)
        return folder.done()

    reshape.__doc__ = fn.__doc__
    reshape.__name__ = fn.__name__
    SHAPES[fn.__name__] = reshape
    return reshape


# --- workbooks with several sheets


@shape
def roll_sheets_per_township(f: Folder) -> None:
    """The roll as XLSX, one sheet per township, the same header on each."""
    roll = f.table("roll")
    sheets = [Sheet(part["乡镇"][0], grid(part))
              for part in roll.partition_by("乡镇", maintain_order=True)]
    save(f, "roll", sheets)


@shape
def payments_sheets_per_month(f: Folder) -> None:
    """Payments as XLSX, one sheet per month (2023年01月, …)."""
    pay = f.table("payments").with_columns(
        pl.format("{}年{}月", *(pl.col("交易日期").str.slice(i, n) for i, n in ((0, 4), (5, 2))))
        .alias("__month"))
    sheets = [Sheet(part["__month"][0], grid(part.drop("__month")))
              for part in pay.partition_by("__month", maintain_order=True)]
    save(f, "payments", sheets)


@shape
def roll_hidden_old_sheet(f: Folder) -> None:
    """The roll as XLSX whose first sheet, hidden, holds last year's copy (a fifth of its rows
    gone, every amount 20 元 lower); the visible second sheet is the real roll."""
    roll = f.table("roll")
    old = roll.filter(pl.int_range(pl.len()) % 5 != 0).with_columns(
        money_text((pl.col("月保障金额").cast(pl.Float64) - 20).clip(0)).alias("月保障金额"))
    sheets = [Sheet("Sheet1", grid(old), hidden=True), Sheet("救助对象名册", grid(roll))]
    save(f, "roll", sheets)


NOTES = [["填表说明"],
         ["1. 身份证号码一律填写18位，末位为X的用大写字母；"],
         ["2. 月保障金额单位为元，保留两位小数；"],
         ["3. 同一户成员按户主在前的顺序连续填写；"],
         ["4. 本表由乡镇（街道）民政所填报，县民政局审核后报送。"]]


@shape
def roll_notes_sheet_first(f: Folder) -> None:
    """The roll as XLSX with a 填表说明 sheet of notes before the data sheet."""
    sheets = [Sheet("填表说明", NOTES), Sheet("花名册", grid(f.table("roll")))]
    save(f, "roll", sheets)


@shape
def roll_split_300_rows_xls(f: Folder) -> None:
    """The roll as legacy XLS split over sheets of 300 rows each (as exports split at the XLS
    limit of 65,536 rows), the same header on each sheet."""
    roll = f.table("roll")
    sheets = [Sheet(f"Sheet{i // 300 + 1}", grid(roll.slice(i, 300)))
              for i in range(0, roll.height, 300)]
    save(f, "roll", sheets, "xls")


@shape
def transactions_split_sheets(f: Folder) -> None:
    """Transactions as XLSX split over sheets of 2,500 rows (明细1, 明细2, …)."""
    txn = f.table("transactions")
    sheets = [Sheet(f"明细{i // 2500 + 1}", grid(txn.slice(i, 2500)))
              for i in range(0, txn.height, 2500)]
    save(f, "transactions", sheets)


# --- printed rolls


ROLL_TITLE = "2023年度城乡最低生活保障、特困人员救助供养对象花名册"
PRINTED_ROLL = Printed(title=ROLL_TITLE, groups=ROLL_GROUPS, serial=True)


@shape
def roll_printed_header_xlsx(f: Folder) -> None:
    """The printed roll as XLSX: title row, 单位：元 row, a two-row header (保障信息 and
    银行账户信息 merged across their columns, 序号/乡镇/村/户编号/姓名 … merged down over both
    rows)."""
    rows, merges = printed(f.table("roll"), PRINTED_ROLL)
    save(f, "roll", [Sheet("花名册", rows, merges)])


@shape
def roll_printed_header_xls(f: Folder) -> None:
    """The printed roll of roll_printed_header_xlsx as legacy XLS (xlwt write_merge)."""
    rows, merges = printed(f.table("roll"), PRINTED_ROLL)
    save(f, "roll", [Sheet("花名册", rows, merges)], "xls")


@shape
def roll_household_merged_xlsx(f: Folder) -> None:
    """The roll as XLSX with each household's shared cells (户编号, 乡镇, 村, 银行卡号, 联系电话 …,
    where constant) merged over its member rows, the value in the top cell only."""
    rows, merges = printed(f.table("roll"), Printed(unit=None, households="户编号"))
    save(f, "roll", [Sheet("名册", rows, merges)])


@shape
def roll_household_merged_xls(f: Folder) -> None:
    """roll_household_merged_xlsx as legacy XLS, under a title row."""
    how = Printed(title=ROLL_TITLE, unit=None, households="户编号")
    rows, merges = printed(f.table("roll"), how)
    save(f, "roll", [Sheet("名册", rows, merges)], "xls")


@shape
def roll_column_numbers_xlsx(f: Folder) -> None:
    """The roll as XLSX with a 栏次 row (1 2 3 …) under a one-row header."""
    how = Printed(title=ROLL_TITLE, serial=True, column_numbers="digits")
    rows, merges = printed(f.table("roll"), how)
    save(f, "roll", [Sheet("花名册", rows, merges)])


@shape
def roll_column_letters_xls(f: Folder) -> None:
    """The roll as legacy XLS: title, unit, grouped two-row header, then a 栏次 row
    (甲 乙 丙 …)."""
    how = Printed(title=ROLL_TITLE, groups=ROLL_GROUPS, column_numbers="letters")
    rows, merges = printed(f.table("roll"), how)
    save(f, "roll", [Sheet("花名册", rows, merges)], "xls")


@shape
def roll_pages_subtotals_xlsx(f: Folder) -> None:
    """The roll as printed to pages of 40 rows: the header repeated on each page, a 本页合计 row
    and a 第N页/共M页 row closing each, a 合计 row and the 制表人/审核人/盖章 footer at the end."""
    how = Printed(title=ROLL_TITLE, serial=True, page_rows=40, subtotal="月保障金额",
                  footer=ROLL_FOOTER)
    rows, merges = printed(f.table("roll"), how)
    save(f, "roll", [Sheet("花名册", rows, merges)])


@shape
def payments_pages_subtotals_csv(f: Folder) -> None:
    """Payments as a bank's printed 代发明细清单 saved as GBK CSV: title, pages of 200 rows with
    the header repeated, 本页合计 and 第N页/共M页 rows, 合计 and a 制表人/审核人 footer."""
    how = Printed(title="代发业务明细清单", issuer="付款单位：见各笔代发单位",
                  unit="币种：人民币  单位：元", page_rows=200, subtotal="金额",
                  footer=BANK_FOOTER)
    rows, _ = printed(f.table("payments"), how)
    text = pl.DataFrame(rows, schema=[f"c{i}" for i in range(len(rows[0]))], orient="row",
                        infer_schema_length=None)
    name = f"{f.stem('payments')}.csv"
    write_text(f.path(name), csv_text(text, header=False, newline="\r\n"), "gbk")
    f.put("payments", name)


# --- HTML saved as .xls


@shape
def roll_html_xls(f: Folder) -> None:
    """The printed roll as an HTML table saved as .xls (UTF-8): a title row (colspan), the
    two-row header as rowspan/colspan cells."""
    rows, merges = printed(f.table("roll"), PRINTED_ROLL)
    table = html_table(rows, merges)
    name = f"{f.stem('roll')}.xls"
    write_html_xls(f.path(name), [table], "utf-8", ROLL_TITLE)
    f.put("roll", name)


@shape
def roll_html_xls_pages(f: Folder) -> None:
    """The roll as HTML saved as .xls in GBK, one <table> per page of 100 rows, each with the
    two-row header (<th>, rowspan/colspan) repeated; blank cells as &nbsp;."""
    roll = f.table("roll")
    tables = []
    for i in range(0, roll.height, 100):
        rows, merges = printed(roll.slice(i, 100), Printed(unit=None, groups=ROLL_GROUPS))
        tables.append(html_table(rows, merges, blank="&nbsp;", header_rows=2))
    name = f"{f.stem('roll')}.xls"
    write_html_xls(f.path(name), tables, "gbk", ROLL_TITLE)
    f.put("roll", name)


# --- the 低保 member export and the 残联 roll


def with_household_head(roll: pl.DataFrame) -> pl.DataFrame:
    """Each member row with its household's 户主姓名 and 户主身份证号 (from the 户主 row)."""
    heads = (roll.filter(pl.col("与户主关系") == "户主")
             .group_by("户编号", maintain_order=True)
             .agg(pl.col("姓名").first().alias("户主姓名"),
                  pl.col("身份证号码").first().alias("户主身份证号")))
    out = roll.join(heads, on="户编号", how="left", maintain_order="left")
    first = out.columns.index("姓名")
    order = [*out.columns[:first], "户主姓名", "户主身份证号", *out.columns[first:-2]]
    return out.select(order)


@shape
def roll_member_export_xlsx(f: Folder) -> None:
    """The 低保 system's member export as XLSX: 户主姓名 and 户主身份证号 on every member row
    before the member's own 姓名 and 身份证号码."""
    roll = with_household_head(f.table("roll"))
    save(f, "roll", [Sheet("成员信息", grid(roll))])


@shape
def roll_member_export_csv(f: Folder) -> None:
    """The member export as CSV with the member columns called 成员姓名 and 身份证号, beside
    户主姓名 and 户主身份证号."""
    roll = with_household_head(f.table("roll"))
    roll = roll.rename({"姓名": "成员姓名", "身份证号码": "身份证号"})
    name = f"{f.stem('roll')}.csv"
    write_text(f.path(name), csv_text(roll))
    f.put("roll", name)


def canlian(roll: pl.DataFrame, amount: str) -> pl.DataFrame:
    """The 残联 system's subsidy roll: its own header names, and 残疾人证号 (the ID and two
    digits, category and grade), 残疾类别, 残疾等级 beside the ID."""
    kinds = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
    category = (pl.col("身份证号码").hash(7) % 7).cast(pl.Int64)
    grade = pl.when(pl.col("救助类别") == "重度残疾人护理补贴").then(
        pl.col("身份证号码").hash(3) % 2 + 1).otherwise(pl.col("身份证号码").hash(5) % 4 + 1
                                                   ).cast(pl.Int64)
    out = roll.with_columns(
        pl.format("{}{}{}", pl.col("身份证号码"), category + 1, grade).alias("残疾人证号"),
        category.replace_strict(dict(enumerate(kinds)), return_dtype=pl.String).alias("残疾类别"),
        grade.replace_strict({1: "一级", 2: "二级", 3: "三级", 4: "四级"},
                             return_dtype=pl.String).alias("残疾等级"))
    order = [*roll.columns[:6], "残疾人证号", "残疾类别", "残疾等级", *roll.columns[6:]]
    return out.select(order).rename({
        "乡镇": "乡镇（街道）", "村": "村（社区）", "救助类别": "补贴类别", "月保障金额": amount,
        "保障起始日期": "享受起始时间", "终止日期": "停发时间", "银行卡号": "发放账号"})


def split_rolls(f: Folder) -> tuple[pl.DataFrame, pl.DataFrame]:
    roll = f.table("roll")
    funds = set(roll["救助类别"].unique().to_list())
    if not funds <= set(MINZHENG_FUNDS) | set(CANLIAN_FUNDS):
        raise ValueError(f"funds of neither system: {funds - set(MINZHENG_FUNDS + CANLIAN_FUNDS)}")
    return (roll.filter(pl.col("救助类别").is_in(MINZHENG_FUNDS)),
            roll.filter(pl.col("救助类别").is_in(CANLIAN_FUNDS)))


@shape
def two_rolls_csv(f: Folder) -> None:
    """Two rolls: 民政's (低保/特困/临时救助/孤儿 rows) and 残联's (the two disability subsidies,
    headers 补贴类别, 补贴标准, 享受起始时间, 停发时间, 发放账号, with 残疾人证号), both CSV."""
    minzheng, disabled = split_rolls(f)
    write_text(f.path("民政救助对象名册.csv"), csv_text(minzheng))
    write_text(f.path("残疾人两项补贴名册.csv"), csv_text(canlian(disabled, "补贴标准")))
    f.put("roll", "民政救助对象名册.csv", "残疾人两项补贴名册.csv")


@shape
def two_rolls_xlsx(f: Folder) -> None:
    """The two rolls as XLSX, 残联's amount headed 发放金额（元/月） and under a title row."""
    minzheng, disabled = split_rolls(f)
    write_xlsx(f.path("民政救助对象名册.xlsx"), [Sheet("名册", grid(minzheng))])
    title = "困难残疾人生活补贴和重度残疾人护理补贴发放名册"
    rows, merges = printed(canlian(disabled, "发放金额（元/月）"), Printed(title=title, unit=None))
    write_xlsx(f.path("残疾人两项补贴名册.xlsx"), [Sheet("两项补贴", rows, merges)])
    f.put("roll", "民政救助对象名册.xlsx", "残疾人两项补贴名册.xlsx")


# --- headers


MARKED_HEADERS = {
    "roll": {"户编号": "户编号：", "姓名": "*姓名", "身份证号码": "公民身份号码（18位）",
             "救助类别": "*救助类别", "月保障金额": "保障金额（元/月）",
             "保障起始日期": "保障起始日期:", "银行卡号": "银行\n卡号",
             "持卡人姓名": "持卡人\n姓名", "联系电话": "联系电话（手机）"},
    "accounts": {"卡号": "*卡号", "户名": "*户名", "证件号码": "证件号码（18位）",
                 "开户日期": "开户日期："},
    "payments": {"交易日期": "交易日期:", "账号": "*账号", "金额": "金额（元）"},
    "transactions": {"卡号": "*卡号", "交易金额": "交易金额（元）", "借贷标志": "借贷\n标志"},
}


@shape
def headers_marked(f: Folder) -> None:
    """Main files as CSV whose headers carry marks: units and notes in brackets
    (公民身份号码（18位）, 保障金额（元/月）), required-field stars (*姓名), line breaks inside the
    cell (银行\\n卡号) and trailing colons."""
    for kind, names in MARKED_HEADERS.items():
        df = f.table(kind).rename(names)
        write_text(f.path(f.plain[kind][0]), csv_text(df))
        f.put(kind, f.plain[kind][0])


# --- encodings and line endings, every file


def every_file(f: Folder, write: Callable[[pl.DataFrame, Path], None], suffix: str) -> None:
    for kind in f.kinds:
        name = f"{f.stem(kind)}{suffix}"
        write(f.table(kind), f.path(name))
        f.put(kind, name)


@shape
def csv_gbk(f: Folder) -> None:
    """Every file as GBK CSV with CRLF, as Excel on Chinese Windows saves "CSV"."""
    every_file(f, lambda df, p: write_text(p, csv_text(df, newline="\r\n"), "gbk"), ".csv")


@shape
def csv_utf8_bom(f: Folder) -> None:
    """Every file as UTF-8 CSV with a byte-order mark ("CSV UTF-8" of Excel)."""
    every_file(f, lambda df, p: write_text(p, csv_text(df), bom=True), ".csv")


@shape
def csv_crlf(f: Folder) -> None:
    """Every file as UTF-8 CSV with CRLF line endings."""
    every_file(f, lambda df, p: write_text(p, csv_text(df, newline="\r\n")), ".csv")


@shape
def csv_bare_cr_every_100th(f: Folder) -> None:
    """Every file as UTF-8 CSV whose every 100th line ends with a bare CR, the rest LF."""
    every_file(f, lambda df, p: write_text(p, every_nth_line_cr(csv_text(df), 100)), ".csv")


@shape
def csv_cr_only(f: Folder) -> None:
    """Every file as CSV with CR-only line endings (Excel for Mac before 2016)."""
    every_file(f, lambda df, p: write_text(p, csv_text(df, newline="\r")), ".csv")


@shape
def txt_tab_separated(f: Folder) -> None:
    """Every file as tab-separated .txt (Excel's "Unicode text" re-encoded as UTF-8, CRLF)."""
    every_file(f, lambda df, p: write_text(p, csv_text(df, sep="\t", newline="\r\n")), ".txt")


# --- bank payments as the bank's own text files


@shape
def payments_pipe_header(f: Folder) -> None:
    """Payments as the bank's pipe-delimited GBK .txt with a header line."""
    pay = f.table("payments").select(PAYMENTS_PIPE_FIELDS)
    name = f"{f.stem('payments')}.txt"
    write_text(f.path(name), csv_text(pay, sep="|", newline="\r\n"), "gbk")
    f.put("payments", name)


@shape
def payments_pipe_no_header(f: Folder) -> None:
    """Payments as a pipe-delimited GBK .txt without a header, each record ending in |, dates
    YYYYMMDD (fields in PAYMENTS_PIPE_FIELDS order: needs a declared layout)."""
    pay = f.table("payments").select(PAYMENTS_PIPE_FIELDS).with_columns(
        compact_date(pl.col("交易日期").str.to_date("%Y-%m-%d")).alias("交易日期"))
    text = pay.select(pl.concat_str(pl.all().fill_null(""), separator="|") + "|\r\n")
    name = f"{f.stem('payments')}.txt"
    write_text(f.path(name), "".join(text.to_series().to_list()), "gbk")
    f.put("payments", name)


@shape
def payments_fixed_width(f: Folder) -> None:
    """Payments as a fixed-width GBK .txt (PAYMENTS_FIXED_LAYOUT: byte positions of GBK, dates
    YYYYMMDD, amounts right-aligned): needs a declared layout."""
    pay = f.table("payments").with_columns(
        compact_date(pl.col("交易日期").str.to_date("%Y-%m-%d")).alias("交易日期"))
    for column, _, width in PAYMENTS_FIXED_LAYOUT:
        if gbk_width(pay, column) > width:
            raise ValueError(f"{column}: wider than its {width} bytes")
    record = pl.concat_str(gbk_pad(c, w, right=c == "金额") for c, _, w in PAYMENTS_FIXED_LAYOUT)
    name = f"{f.stem('payments')}.txt"
    write_text(f.path(name), "".join(pay.select(record + "\r\n").to_series().to_list()), "gbk")
    f.put("payments", name)


# --- transactions: direction and time


def directions(txn: pl.DataFrame) -> pl.DataFrame:
    flags = set(txn["借贷标志"].unique().to_list())
    if not flags <= {"C", "D"}:
        raise ValueError(f"借贷标志: expected C/D, got {flags}")
    return txn


def recode_direction(f: Folder, column: str, credit: str, debit: str) -> None:
    txn = directions(f.table("transactions"))
    txn = txn.with_columns(
        pl.when(pl.col("借贷标志") == "C").then(pl.lit(credit)).otherwise(pl.lit(debit))
        .alias("借贷标志")).rename({"借贷标志": column})
    write_text(f.path(f.plain["transactions"][0]), csv_text(txn))
    f.put("transactions", f.plain["transactions"][0])


@shape
def txn_income_expense_columns(f: Folder) -> None:
    """Transactions with separate 收入金额 / 支出金额 columns (the other one blank) instead of
    借贷标志 + 交易金额."""
    txn = directions(f.table("transactions"))
    at = txn.columns.index("借贷标志")
    txn = txn.with_columns(
        pl.when(pl.col("借贷标志") == "C").then(pl.col("交易金额")).alias("收入金额"),
        pl.when(pl.col("借贷标志") == "D").then(pl.col("交易金额")).alias("支出金额"))
    rest = [c for c in txn.columns if c not in ("借贷标志", "交易金额", "收入金额", "支出金额")]
    txn = txn.select(*rest[:at], "收入金额", "支出金额", *rest[at:])
    write_text(f.path(f.plain["transactions"][0]), csv_text(txn))
    f.put("transactions", f.plain["transactions"][0])


@shape
def txn_direction_jie_dai_1_2(f: Folder) -> None:
    """Transactions with 借贷标志 coded 1 = 借 (debit, money out) / 2 = 贷 (credit, money in),
    as bank core systems code it."""
    recode_direction(f, "借贷标志", "2", "1")


@shape
def txn_direction_shou_fu_1_2(f: Folder) -> None:
    """Transactions with 收付标志 coded 1 = 收 (money in) / 2 = 付 (money out), as in the PBOC
    anti-money-laundering reports (the reverse of 借贷标志 1/2)."""
    recode_direction(f, "收付标志", "1", "2")


@shape
def txn_direction_jie_dai(f: Folder) -> None:
    """Transactions with 借贷标志 written 借 / 贷."""
    recode_direction(f, "借贷标志", "贷", "借")


@shape
def txn_direction_shou_zhi(f: Folder) -> None:
    """Transactions with 收支标志 written 收 / 支."""
    recode_direction(f, "收支标志", "收", "支")


@shape
def txn_date_and_time_columns(f: Folder) -> None:
    """Transactions with the moment in two columns, 交易日期 (20230105) and 交易时间 (083554),
    as bank core systems export it."""
    txn = f.table("transactions")
    at = txn.columns.index("交易时间")
    stamp = pl.col("交易时间").str.to_datetime("%Y-%m-%d %H:%M:%S")
    txn = txn.with_columns(stamp.dt.strftime("%Y%m%d").alias("交易日期"),
                           stamp.dt.strftime("%H%M%S").alias("__time"))
    rest = [c for c in txn.columns if c not in ("交易时间", "交易日期", "__time")]
    txn = txn.select(*rest[:at], "交易日期", pl.col("__time").alias("交易时间"), *rest[at:])
    write_text(f.path(f.plain["transactions"][0]), csv_text(txn))
    f.put("transactions", f.plain["transactions"][0])


# --- amounts and dates


def rewrite_amounts(f: Folder, expr: Callable[[str], pl.Expr], kinds: list[str]) -> None:
    for kind in kinds:
        column = AMOUNTS[kind]
        df = f.table(kind)
        check_money(df, column)
        write_text(f.path(f.plain[kind][0]), csv_text(df.with_columns(expr(column))))
        f.put(kind, f.plain[kind][0])


@shape
def amounts_thousands(f: Folder) -> None:
    """Amounts with thousands separators (2,286.50) in the roll, payments, transactions and the
    pension list."""
    kinds = [k for k in AMOUNTS if k in f.plain]
    rewrite_amounts(f, with_thousands, kinds)


@shape
def amounts_yuan_suffix(f: Folder) -> None:
    """Amounts written with 元 (433.50元) in the roll, payments and transactions."""
    rewrite_amounts(f, lambda c: (pl.col(c) + "元").alias(c), ["roll", "payments", "transactions"])


def rewrite_dates(f: Folder, style: DateStyle, times: str) -> None:
    for kind in f.kinds:
        df = f.table(kind)
        write_text(f.path(f.plain[kind][0]), csv_text(redate(df, style, times)))
        f.put(kind, f.plain[kind][0])


@shape
def dates_chinese(f: Folder) -> None:
    """Every date as 2023年1月5日 (transactions: 2023年1月5日 08:35:54)."""
    rewrite_dates(f, chinese_date, "%H:%M:%S")


@shape
def dates_slash(f: Folder) -> None:
    """Every date as 2023/1/5 (transactions: 2023/1/5 8:35:54), as Excel shows them on
    Chinese Windows."""
    rewrite_dates(f, slash_date, "%-H:%M:%S")


@shape
def dates_compact(f: Folder) -> None:
    """Every date as 20230105 (transactions: 20230105083554)."""
    rewrite_dates(f, compact_date, "compact")


# --- typed Excel cells


@shape
def xlsx_number_cells(f: Folder) -> None:
    """The four main files as XLSX written by a program with typed cells: 16-digit cards,
    phones, region codes and amounts as numbers, dates as date cells; 18-digit IDs and 19-digit
    cards stay text (a double holds them inexactly)."""
    for kind in MAIN:
        name = f"{f.stem(kind)}.xlsx"
        write_xlsx(f.path(name), [Sheet("Sheet1", grid(f.table(kind)))], numbers=True)
        f.put(kind, name)


@shape
def xls_number_cells(f: Folder) -> None:
    """xlsx_number_cells as legacy XLS (transactions split at 5,000 rows a sheet)."""
    for kind in MAIN:
        df = f.table(kind)
        sheets = [Sheet(f"Sheet{i // 5000 + 1}", grid(df.slice(i, 5000)))
                  for i in range(0, df.height, 5000)]
        name = f"{f.stem(kind)}.xls"
        write_xls(f.path(name), sheets, numbers=True)
        f.put(kind, name)


@shape
def refs_excel(f: Folder) -> None:
    """Reference lists as the agencies send them: XLSX and XLS (alternating) under a title row,
    dates as date cells; the other county's roll as an XLS printed roll."""
    for i, kind in enumerate(f.refs):
        rows, merges = printed(f.table(kind), Printed(title=f"{f.stem(kind)}（比对用）", unit=None))
        sheets = [Sheet(f.stem(kind)[:31], rows, merges)]
        name = f"{f.stem(kind)}.{'xlsx' if i % 2 == 0 else 'xls'}"
        (write_xlsx if i % 2 == 0 else write_xls)(f.path(name), sheets, numbers=True)
        f.put(kind, name)
    if OTHER_ROLLS in f.plain:
        rows, merges = printed(f.table(OTHER_ROLLS), PRINTED_ROLL)
        name = f"{f.stem(OTHER_ROLLS)}.xls"
        write_xls(f.path(name), [Sheet("花名册", rows, merges)])
        f.put(OTHER_ROLLS, name)


# --- mixed counties: several messes at once


@shape
def mixed_county_a(f: Folder) -> None:
    """A county as it arrives: the roll as the member export in legacy XLS, printed (title, unit,
    户主姓名/户主身份证号 beside 对象姓名, grouped two-row header with line breaks and marks, 栏次,
    household merges, 合计, footer, dates 2023/1/5); accounts
    as GBK CSV with marked headers and 20230105 dates; payments as XLSX one sheet per month with
    number and date cells; transactions as GBK tab .txt with 收入金额/支出金额 (0.00 on the other
    side) and 2023/1/5 8:35:54 times; reference lists as XLSX/XLS under title rows."""
    roll = with_household_head(redate(f.table("roll"), slash_date, "%-H:%M:%S")).rename(
        {"姓名": "对象姓名", "身份证号码": "公民身份号码（18位）",
         "月保障金额": "保障金额\n（元/月）"})
    groups = {"户主信息": ["户主姓名", "户主身份证号"],
              "保障信息": ["救助类别", "保障金额\n（元/月）", "保障起始日期", "终止日期"],
              "银行账户信息": ROLL_GROUPS["银行账户信息"]}
    how = Printed(title=ROLL_TITLE, groups=groups, serial=True, column_numbers="digits",
                  households="户编号", subtotal="保障金额\n（元/月）", footer=ROLL_FOOTER)
    rows, merges = printed(roll, how)
    f.put("roll", write_xls(f.path("救助对象花名册.xls"), [Sheet("花名册", rows, merges)]).name)

    accounts = redate(f.table("accounts"), compact_date, "compact").rename(
        MARKED_HEADERS["accounts"])
    write_text(f.path("账户信息.csv"), csv_text(accounts, newline="\r\n"), "gbk")
    f.put("accounts", "账户信息.csv")

    pay = f.table("payments").with_columns(pl.col("交易日期").str.slice(0, 7).alias("__month"))
    sheets = [Sheet(part["__month"][0].replace("-", "年") + "月", grid(part.drop("__month")))
              for part in pay.partition_by("__month", maintain_order=True)]
    f.put("payments", write_xlsx(f.path("代发明细.xlsx"), sheets, numbers=True).name)

    txn = directions(redate(f.table("transactions"), slash_date, "%-H:%M:%S"))
    at = txn.columns.index("借贷标志")
    txn = txn.with_columns(
        pl.when(pl.col("借贷标志") == "C").then(pl.col("交易金额")).otherwise(pl.lit("0.00"))
        .alias("收入金额"),
        pl.when(pl.col("借贷标志") == "D").then(pl.col("交易金额")).otherwise(pl.lit("0.00"))
        .alias("支出金额"))
    rest = [c for c in txn.columns if c not in ("借贷标志", "交易金额", "收入金额", "支出金额")]
    txn = txn.select(*rest[:at], "收入金额", "支出金额", *rest[at:])
    write_text(f.path("交易流水.txt"), csv_text(txn, sep="\t", newline="\r\n"), "gbk")
    f.put("transactions", "交易流水.txt")

    for i, kind in enumerate(f.refs):
        rows, merges = printed(f.table(kind), Printed(title=f.stem(kind), unit=None))
        name = f"{f.stem(kind)}.{'xls' if i % 2 == 0 else 'xlsx'}"
        (write_xls if i % 2 == 0 else write_xlsx)(f.path(name), [Sheet("Sheet1", rows, merges)],
                                                   numbers=True)
        f.put(kind, name)


@shape
def mixed_county_b(f: Folder) -> None:
    """Another county: 民政's roll as GBK HTML .xls in pages of 60 rows with 本页合计 and
    第N页 rows, 残联's roll as XLSX with a 说明 sheet first and number cells; accounts as XLSX
    with number cells; payments as UTF-8-BOM CSV with 2,286.50 amounts and 2023年1月5日 dates;
    transactions as CR-only CSV with 借贷标志 1/2 (1 = 借, 2 = 贷); reference lists as GBK CSV."""
    minzheng, disabled = split_rolls(f)
    rows, merges = printed(minzheng, Printed(title=ROLL_TITLE, groups=ROLL_GROUPS, serial=True,
                                             page_rows=60, subtotal="月保障金额",
                                             footer=ROLL_FOOTER))
    write_html_xls(f.path("民政名册.xls"), [html_table(rows, merges)], "gbk", ROLL_TITLE)
    write_xlsx(f.path("残联两项补贴.xlsx"),
               [Sheet("说明", NOTES[:1] + [["本表数据来源：全国残疾人两项补贴信息系统"]]),
                Sheet("名单", grid(canlian(disabled, "补贴标准")))], numbers=True)
    f.put("roll", "民政名册.xls", "残联两项补贴.xlsx")

    write_xlsx(f.path("账户信息.xlsx"), [Sheet("账户", grid(f.table("accounts")))], numbers=True)
    f.put("accounts", "账户信息.xlsx")

    pay = f.table("payments")
    check_money(pay, "金额")
    pay = redate(pay.with_columns(with_thousands("金额")), chinese_date, "%H:%M:%S")
    write_text(f.path("代发明细.csv"), csv_text(pay), bom=True)
    f.put("payments", "代发明细.csv")

    txn = directions(f.table("transactions")).with_columns(
        pl.when(pl.col("借贷标志") == "D").then(pl.lit("1")).otherwise(pl.lit("2"))
        .alias("借贷标志"))
    write_text(f.path("交易流水.csv"), csv_text(txn, newline="\r"))
    f.put("transactions", "交易流水.csv")

    for kind in f.refs:
        name = f.plain[kind][0]
        write_text(f.path(name), csv_text(f.table(kind), newline="\r\n"), "gbk")
        f.put(kind, name)


# --- values as other departments and exports write them (issue: real exports, part 2)


@shape
def roll_open_end_words(f: Folder) -> None:
    """The roll's empty 终止日期 cells written as the words exports use for "no end" (长期, 至今,
    无, —, 永久), in turn down the roll."""
    roll = f.table("roll")
    words = pl.Series(["长期", "至今", "无", "—", "永久"])
    filled = pl.Series([words[i % len(words)] for i in range(roll.height)])
    roll = roll.with_columns(pl.when(pl.col("终止日期").is_null()).then(filled)
                             .otherwise(pl.col("终止日期")).alias("终止日期"))
    name = f"{f.stem('roll')}.csv"
    write_text(f.path(name), csv_text(roll))
    f.put("roll", name)


@shape
def csv_text_guards(f: Folder) -> None:
    """Every file as a CSV export that guards each all-digit cell as ="…" so Excel keeps it
    text (IDs, cards, dates written 20230105, codes), the way several 民政 systems export."""
    def guarded(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            pl.when(pl.col(c).str.contains(r"^[0-9]+$")).then(pl.format('="{}"', pl.col(c)))
            .otherwise(pl.col(c)).alias(c) for c in df.columns)

    def write(df: pl.DataFrame, path: Path) -> None:
        dates = columns_matching(df, r"^\d{4}-\d{2}-\d{2}$")
        df = df.with_columns(pl.col(c).str.replace_all("-", "") for c in dates)
        write_text(path, csv_text(guarded(df)))

    every_file(f, write, ".csv")


@shape
def refs_department_headings(f: Folder) -> None:
    """The reference lists under the headings other departments' systems use: the funeral
    system's 火化日期 for the death date, the prison's 入狱时间/释放日期, 人社's 进入单位时间,
    市场监管's 注册日期, 社保's 待遇领取开始时间."""
    renames = {"死亡日期": "火化日期", "入监日期": "入狱时间", "刑满释放日期": "释放日期",
               "入职日期": "进入单位时间", "成立日期": "注册日期", "领取起始日期": "待遇领取开始时间"}
    for kind in f.refs:
        df = f.table(kind)
        df = df.rename({k: v for k, v in renames.items() if k in df.columns})
        name = f"{f.stem(kind)}.csv"
        write_text(f.path(name), csv_text(df))
        f.put(kind, name)
