"""Money as integer fen, parsed from text exactly (never through a float).

Accepted: 1,234.50 / 1234.5元 / ￥300 / ¥300 / "300.00 元" / RMB 300 / (300.00) for -300 / full-width
digits. A column whose header says 分 (金额(分)) or whose config unit is fen holds whole fen.
Float noise from spreadsheets (1234.5600000001, 1234.5599999999) is rounded to the fen; any other
third decimal is a problem, not silently rounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from cardcheck.normalize.text import clean

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

NUMBER = r"^([+-]?)(\d*)(?:\.(\d*))?$"
MAX_ROW_YUAN = 1_000_000  # any single payment or transaction
MAX_MONTHLY_YUAN = 100_000  # an approved monthly amount on a roll


def money_text(expr: pl.Expr) -> pl.Expr:
    """Currency marks, thousands separators and spaces removed; (300) written as -300."""
    out = (
        clean(expr)
        .str.replace_all(r"(?i)(人民币|RMB|CNY|元整|元|¥|￥|\$)", "")
        .str.replace_all(r"[\s,，']", "")
    )
    out = out.str.replace(r"^\((.*)\)$", "-$1")
    return pl.when(out == "").then(None).otherwise(out)


def parse_money(expr: pl.Expr, unit: str = "yuan") -> tuple[pl.Expr, pl.Expr]:
    """(signed fen as Int64 or null, problem text or null) for a text column in yuan or fen."""
    t = money_text(expr)
    sign = t.str.extract(NUMBER, 1)
    whole = t.str.extract(NUMBER, 2)
    frac = t.str.extract(NUMBER, 3).fill_null("")
    shaped = t.str.contains(NUMBER) & ((whole.str.len_chars() > 0) | (frac.str.len_chars() > 0))
    too_long = whole.str.len_chars() > 13
    whole_n = pl.when(too_long).then(None).otherwise(whole).replace("", "0").cast(pl.Int64, strict=False)
    whole_n = whole_n.fill_null(0)
    factor = pl.when(sign == "-").then(-1).otherwise(1)
    if unit == "fen":
        extra_ok = frac.str.contains(r"^0*$")
        value = whole_n * factor
        bad_frac = pl.lit("以分为单位的金额不应有小数")
    else:
        cents = frac.str.slice(0, 2).str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
        rest = frac.str.slice(2)
        carry = rest.str.contains(r"^9{4,}").cast(pl.Int64)
        extra_ok = rest.str.contains(r"^(0*|0{4,}\d*|9{4,}\d*)$")
        value = (whole_n * 100 + cents + carry) * factor
        bad_frac = pl.lit("金额超过两位小数")
    problem = (
        pl.when(t.is_null()).then(None)
        .when(~shaped).then(pl.lit("不是金额"))
        .when(too_long).then(pl.lit("金额位数过多"))
        .when(~extra_ok).then(bad_frac)
        .otherwise(None)
    )
    return pl.when(problem.is_null() & t.is_not_null()).then(value).otherwise(None), problem


# an amount as machine exports write it: digits, at most two decimals, no marks
PLAIN_YUAN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
PLAIN_FEN = r"^-?[0-9]{1,15}$"


def plain_fen(expr: pl.Expr, unit: str = "yuan") -> pl.Expr:
    """Fen of a cell matching PLAIN_YUAN (or PLAIN_FEN with unit fen), without the full parse:
    the decimals padded to two and the point dropped ('-12.5' → '-1250')."""
    if unit == "fen":
        return expr.cast(pl.Int64, strict=False)
    padded = (pl.when(~expr.str.contains(".", literal=True)).then(expr + "00")
              .when(expr.str.contains(r"\.\d$")).then(expr + "0")
              .otherwise(expr))
    return padded.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)


def range_problem(fen: pl.Expr, max_yuan: int, allow_negative: bool = False) -> pl.Expr:
    """Reject reason for a negative or absurd amount, else null."""
    out: Then | ChainedThen = pl.when(fen.is_null()).then(None)
    if not allow_negative:
        out = out.when(fen < 0).then(pl.lit("金额为负数"))
    return out.when(fen.abs() > max_yuan * 100).then(
        pl.lit(f"金额超过 {max_yuan:,} 元，不合常理")
    ).otherwise(None)


def to_fen(expr: pl.Expr, unit: str = "yuan") -> pl.Expr:
    """Signed fen, or null when the text is not an amount."""
    return parse_money(expr, unit)[0]
