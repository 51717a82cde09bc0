"""Masking of ID, card and phone numbers for screens and workbooks (on by default; --unmask).

110102********1234 for IDs (first six, last four), 6217****5678 for cards (first four, last
four), 138****5678 for phones. Short or odd values keep only their last two characters, so a
masked text never leaks more than a proper one. Whole-column polars expressions.
"""

from __future__ import annotations

import polars as pl

ID_COLUMNS = ("id_number", "holder_id", "payee_id", "agent_id", "official_id", "relative_id")
CARD_COLUMNS = ("card_no", "counterparty_account")


def _short(expr: pl.Expr) -> pl.Expr:
    return pl.lit("****") + expr.str.slice(-2)


def mask_id(expr: pl.Expr) -> pl.Expr:
    return (
        pl.when(expr.str.len_chars() >= 15)
        .then(expr.str.slice(0, 6) + pl.lit("********") + expr.str.slice(-4))
        .otherwise(_short(expr))
    )


def mask_card(expr: pl.Expr) -> pl.Expr:
    return (
        pl.when(expr.str.len_chars() >= 12)
        .then(expr.str.slice(0, 4) + pl.lit("****") + expr.str.slice(-4))
        .otherwise(_short(expr))
    )


def mask_phone(expr: pl.Expr) -> pl.Expr:
    return (
        pl.when(expr.str.len_chars() >= 7)
        .then(expr.str.slice(0, 3) + pl.lit("****") + expr.str.slice(-4))
        .otherwise(_short(expr))
    )


def mask_hub(expr: pl.Expr) -> pl.Expr:
    """A hub 'kind:value' (phone:138…, holder:1101…, agent:…, account:6217…, address:…): the
    value masked by its shape; addresses and names are kept (they identify no one alone)."""
    kind = expr.str.extract(r"^([^:]*):", 1)
    value = expr.str.replace(r"^[^:]*:", "")
    digits = value.str.contains(r"^[0-9Xx]+$")
    n = value.str.len_chars()
    masked = (
        pl.when(~digits).then(value)
        .when(n == 11).then(mask_phone(value))
        .when((n == 18) | (n == 15)).then(mask_id(value))
        .when(n >= 12).then(mask_card(value))
        .otherwise(mask_phone(value))
    )
    return pl.when(kind.is_null()).then(masked).otherwise(kind + pl.lit(":") + masked)


def masked(df: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """`df` with its ID, card and hub columns masked, unless `unmask`."""
    if unmask:
        return df
    exprs = []
    for col, dtype in df.schema.items():
        if dtype != pl.String:
            continue
        if col in ID_COLUMNS:
            exprs.append(mask_id(pl.col(col)).alias(col))
        elif col in CARD_COLUMNS:
            exprs.append(mask_card(pl.col(col)).alias(col))
        elif col == "phone":
            exprs.append(mask_phone(pl.col(col)).alias(col))
        elif col == "hub":
            exprs.append(mask_hub(pl.col(col)).alias(col))
    return df.with_columns(exprs) if exprs else df
