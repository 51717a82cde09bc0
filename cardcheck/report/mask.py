"""Masking of the columns of outputs for screens and workbooks (on by default; --unmask), by the
one rule of cardcheck/masking.py: which columns are IDs, cards, phones and hubs."""

from __future__ import annotations

__all__ = ["mask_card", "mask_hub", "mask_id", "mask_phone", "masked"]

import polars as pl

from cardcheck.masking import mask_card, mask_id, mask_phone

ID_COLUMNS = ("id_number", "holder_id", "payee_id", "agent_id", "official_id", "relative_id")
CARD_COLUMNS = ("card_no", "counterparty_account")


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
