"""Write the demo's tables in the shapes real exports come in, values still decoding to the truth.

- roll: GBK CSV, two title lines, a 序号 column, blank rows, a 合计 row and a 制表人 footer; IDs
  with a lower-case x, 15-digit legacy IDs and full-width digits on a few rows; dates as
  2019-04-15, 2019/4/15, 20190415, 2019年4月15日 or (1st of a month) 2019年4月; amounts as 368.00,
  "1,234.50" or 368元.
- accounts: XLSX with the bank's headers, card numbers grouped by spaces or dashes on some rows;
  IDs are text cells except the planted precision-lost one, written as a number as Excel does.
- payments: UTF-8 CSV with BOM, dates 20230408; transactions: 借/贷, "1,234.50" amounts
  (both written a month at a time by write.py).
- deaths: XLSX; the other lists CSV (payroll in GBK), dates in mixed formats.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from cardcheck.demo.county import Demo
from cardcheck.demo.files import FILES, HEADERS, text_frame
from cardcheck.demo.people import COUNTY, OTHER_COUNTY

FULL = str.maketrans("0123456789", "０１２３４５６７８９")
CREATED = dt.datetime(2024, 1, 10, 9, 0, 0)


def _rng(demo: Demo, table: str) -> np.random.Generator:
    return np.random.default_rng([demo.world.n_households, sum(map(ord, table))])


def _pick(rng: np.random.Generator, n: int, share: float) -> pl.Series:
    return pl.Series(rng.random(n) < share)


def messy_ids(col: str, rng: np.random.Generator, n: int, usable: pl.Expr) -> list[pl.Expr]:
    """x → lower case on some; 15-digit legacy form on a few born in the 1900s; full-width on a few."""
    e = pl.col(col)
    r = pl.Series(rng.random(n))
    legacy = usable & (r < 0.006) & e.str.slice(6, 2).eq("19")
    full = usable & (r >= 0.006) & (r < 0.012)
    lower = usable & (r >= 0.5) & e.str.ends_with("X")
    widened = e
    for d in "0123456789":
        widened = widened.str.replace_all(d, d.translate(FULL), literal=True)
    return [pl.when(legacy).then(e.str.slice(0, 6) + e.str.slice(8, 9))
            .when(full).then(widened).when(lower).then(e.str.to_lowercase()).otherwise(e).alias(col)]


def messy_dates(col: str, rng: np.random.Generator, n: int) -> pl.Expr:
    """A date column in five spellings; 2019年4月 only where the date is the 1st."""
    d = pl.col(col)
    k = pl.Series(rng.integers(0, 5, n))
    y, m, day = d.dt.year().cast(pl.String), d.dt.month().cast(pl.String), d.dt.day().cast(pl.String)
    return (
        pl.when(d.is_null()).then(pl.lit(None, pl.String))
        .when(k == 1).then(y + "/" + m + "/" + day)
        .when(k == 2).then(d.dt.strftime("%Y%m%d"))
        .when(k == 3).then(y + "年" + m + "月" + day + "日")
        .when((k == 4) & (d.dt.day() == 1)).then(y + "年" + m + "月")
        .otherwise(d.dt.strftime("%Y-%m-%d")).alias(col)
    )


def messy_money(col: str, rng: np.random.Generator, n: int) -> pl.Expr:
    """368.00, 1,234.50 (thousands separators) or 368元 (whole yuan)."""
    fen = pl.col(col)
    k = pl.Series(rng.integers(0, 4, n))
    yuan = fen // 100
    cents = (fen % 100).cast(pl.String).str.zfill(2)
    grouped = pl.when(yuan >= 1000).then(
        (yuan // 1000).cast(pl.String) + "," + (yuan % 1000).cast(pl.String).str.zfill(3)
    ).otherwise(yuan.cast(pl.String))
    return (
        pl.when(fen.is_null()).then(pl.lit(None, pl.String))
        .when((k == 1) & (fen % 100 == 0)).then(yuan.cast(pl.String) + "元")
        .when(k == 2).then(grouped + "." + cents)
        .otherwise(yuan.cast(pl.String) + "." + cents).alias(col)
    )


def _csv_lines(df: pl.DataFrame) -> list[str]:
    return df.write_csv(quote_style="necessary").rstrip("\n").split("\n")


def _roll(demo: Demo, df: pl.DataFrame, table: str) -> pl.DataFrame:
    rng = _rng(demo, table)
    n = df.height
    usable = pl.col("id_status").eq("ok")
    pre = df.with_columns(
        *messy_ids("id_number", rng, n, usable), messy_money("monthly_amount", rng, n),
        messy_dates("start_date", rng, n), messy_dates("end_date", rng, n),
    )
    headers = HEADERS[table]
    text = pre.select([pl.col(c).cast(pl.String).alias(h) for c, h in headers.items()])
    return text.insert_column(0, pl.Series("序号", [str(i) for i in range(1, n + 1)]))


def write_roll(demo: Demo, df: pl.DataFrame, out: Path, table: str) -> str:
    """GBK CSV with title lines, blank rows, a 合计 row and a footer."""
    rng = _rng(demo, table + "layout")
    text = _roll(demo, df, table)
    width = text.width
    lines = _csv_lines(text)
    blank = "," * (width - 1)
    body = lines[1:]
    for at in sorted(rng.choice(len(body), size=min(3, len(body)), replace=False), reverse=True):
        body.insert(int(at), blank)
    total = df["monthly_amount"].sum()
    amount_at = list(text.columns).index("月保障金额")
    total_row = ["合计"] + [""] * (width - 1)
    total_row[amount_at] = f"{total // 100}.{total % 100:02d}"
    county = COUNTY if table == "roll" else OTHER_COUNTY
    title = f"{county}2023年城乡低保等救助对象花名册" if table == "roll" else f"{county}2023年农村低保特困对象名册"
    head = [title + blank[:-1] if width > 1 else title,
            f"填报单位：{county}民政局" + "," * (width - 2) + ",单位：元"]
    foot = ["制表人：李晓红" + "," * 3 + "审核人：张建平" + "," * (width - 4),
            "制表时间：2024年1月10日" + blank]
    content = "\n".join(head + [lines[0]] + body + [",".join(total_row)] + foot) + "\n"
    name = FILES[table] + ".csv"
    encoding = "gbk" if table == "roll" else "utf-8"
    (out / name).write_bytes(content.encode(encoding))
    return name


def _grouped_card(col: str, rng: np.random.Generator, n: int) -> pl.Expr:
    """Card numbers with spaces every four digits (5%) or dashes (3%) on some rows."""
    e = pl.col(col)
    r = pl.Series(rng.random(n))
    spaced = e.str.replace_all(r"(\d{4})", "$1 ").str.strip_chars(" ")
    dashed = e.str.replace_all(r"(\d{4})", "$1-").str.strip_chars("-")
    return pl.when(r < 0.05).then(spaced).when(r < 0.08).then(dashed).otherwise(e).alias(col)


def write_xlsx(path: Path, header: list[str], rows: pl.DataFrame, numbers: dict[int, set[int]],
               title: str | None = None) -> None:
    """An XLSX sheet of text cells (IDs stay text); `numbers` = {column: rows} written as numbers,
    as Excel stores a long ID typed into a General cell."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": CREATED, "author": COUNTY})
    ws = wb.add_worksheet("Sheet1")
    r0 = 0
    if title:
        ws.write_string(0, 0, title)
        r0 = 1
    ws.write_row(r0, 0, header)
    for i, row in enumerate(rows.iter_rows()):
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            if i in numbers.get(j, ()):
                # Excel keeps 15 significant digits of a number typed into a General cell
                ws.write_number(r0 + 1 + i, j, float(value[:15] + "0" * (len(value) - 15)))
            else:
                ws.write_string(r0 + 1 + i, j, value)
    wb.close()


def write_accounts(demo: Demo, df: pl.DataFrame, out: Path) -> str:
    """The bank's XLSX; the precision-lost holder ID is a number cell holding the real digits."""
    rng = _rng(demo, "accounts")
    n = df.height
    acc = demo.world.accounts
    if df["card_no"].to_list() != acc["card_no"].to_list():  # pragma: no cover - same frame
        raise AssertionError("accounts out of order")
    df = df.with_columns(acc["holder_id"].alias("holder_id"))
    text = text_frame(df, "accounts").with_columns(
        pl.Series("开户日期", df.select(messy_dates("open_date", rng, n)).to_series()),
        _grouped_card("卡号", rng, n))
    id_col = list(text.columns).index("证件号码")
    numbers = {id_col: set(np.flatnonzero(acc["precision_lost"].to_numpy()).tolist())}
    name = FILES["accounts"] + ".xlsx"
    write_xlsx(out / name, list(text.columns), text, numbers)
    return name


def payments(df: pl.DataFrame) -> pl.DataFrame:
    """Payments as the bank writes them: dates as 20230408."""
    return text_frame(df, "payments").with_columns(
        pl.Series("交易日期", df["pay_date"].dt.strftime("%Y%m%d")))


def transactions(df: pl.DataFrame, chunk: int) -> pl.DataFrame:
    """One month's transactions as the bank writes them: 借/贷, amounts as 1,234.50 on some."""
    rng = np.random.default_rng([chunk, 99])
    return text_frame(df, "transactions").with_columns(
        pl.col("借贷标志").replace_strict({"D": "借", "C": "贷"}),
        pl.Series("交易金额", df.select(messy_money("amount", rng, df.height)).to_series()))


def write(demo: Demo, table: str, df: pl.DataFrame, out: Path) -> str:
    """Write one table in its messy shape; returns the file name."""
    rng = _rng(demo, table)
    n = df.height
    if table in ("roll", "other_roll"):
        return write_roll(demo, df, out, table)
    if table == "accounts":
        return write_accounts(demo, df, out)
    text = text_frame(df, table)
    dates = [c for c, t in df.schema.items() if t == pl.Date and c in HEADERS[table]]
    if dates:
        text = text.with_columns([
            pl.Series(HEADERS[table][c], df.select(messy_dates(c, rng, n)).to_series()) for c in dates])
    if table == "deaths":
        name = FILES[table] + ".xlsx"
        text = text.insert_column(0, pl.Series("序号", [str(i) for i in range(1, n + 1)]))
        write_xlsx(out / name, list(text.columns), text, {}, title=f"{COUNTY}2023年死亡人员名单（公安户籍注销）")
        return name
    name = FILES[table] + ".csv"
    data = text.write_csv()
    (out / name).write_bytes(data.encode("gbk" if table == "payroll" else "utf-8"))
    return name
