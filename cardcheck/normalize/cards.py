"""Bank card and account numbers: cleaned text, never numbers.

Spaces, dashes, full-width digits and Excel text guards are removed. A number stored in scientific
notation (6.217E+15), or a long number stored as an Excel number cell, has lost digits: the card is
unusable and the row is rejected (`card_problem`). The Luhn check is a soft signal only
(`luhn_ok`); a card is never rejected for failing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from cardcheck.normalize.text import squeeze

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

SCIENTIFIC = r"^[+-]?\d+(\.\d+)?E[+-]?\d+$"
EXACT_BELOW = str(2 ** 53)  # 9007199254740992: a 16-digit number cell up to it is exact


def clean_card(expr: pl.Expr) -> pl.Expr:
    """Card text without spaces, dashes, guards (', ="…"), and with a trailing Excel '.0' cut."""
    out = (
        squeeze(expr)
        .str.replace(r'^="?(.*?)"?$', "$1")
        .str.strip_chars_start("'`")
        .str.replace_all(r"[-_‐‑–—]", "")
        .str.to_uppercase()
        .str.replace(r"^(\d+)\.0+$", "$1")
    )
    return pl.when(out == "").then(None).otherwise(out)


def card_problem(expr: pl.Expr, numeric: pl.Expr | None = None) -> pl.Expr:
    """Why a card number is unusable (a reject reason), or null."""
    c = clean_card(expr)
    sci = c.str.contains(SCIENTIFIC)
    reason: Then | ChainedThen = pl.when(sci).then(
        pl.lit("卡号以科学计数法存储（如 6.217E+15），位数已丢失，无法使用")
    )
    if numeric is not None:
        # a number cell is exact below 2^53 (a program wrote it); what Excel cut when a person
        # typed it ends in 0 past the 15th digit, and 17+ digits never survive as a number
        n = c.str.len_chars()
        # (a 16-digit number ending in 0 that passes the Luhn check lost nothing: a cut card
        # ends in 0 where its check digit was not, and then fails it)
        lost = numeric.fill_null(False) & c.str.contains(r"^\d{16,}$") & (
            (n >= 17) | (c.str.ends_with("0") & ~luhn_ok(c)) | ((n == 16) & (c >= EXACT_BELOW)))
        reason = reason.when(lost).then(
            pl.lit("卡号在 Excel 中被存成数字，超过 15 位的数字已丢失，无法使用")
        )
    return reason.otherwise(None)


def luhn_ok(expr: pl.Expr) -> pl.Expr:
    """True when a 12–19 digit card number passes the Luhn check (a soft signal only)."""
    c = clean_card(expr)
    rev = c.str.reverse()
    terms = []
    for i in range(19):
        d = rev.str.slice(i, 1).cast(pl.Int32, strict=False)
        if i % 2 == 1:
            d = pl.when(d * 2 > 9).then(d * 2 - 9).otherwise(d * 2)
        terms.append(d.fill_null(0))
    total = pl.sum_horizontal(terms)
    return (c.str.contains(r"^\d{12,19}$") & (total % 10 == 0)).fill_null(False)
