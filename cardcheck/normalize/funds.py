"""Fund names as rolls and banks spell them, mapped to the canonical names of configs/funds.yaml.

A value matches a fund's name or one of its `variants`, ignoring spaces, full-width forms and
case. An unknown value maps to null (the roll reader rejects such a row, naming the value).
"""

from __future__ import annotations

import unicodedata

import polars as pl

from cardcheck.config import Config
from cardcheck.normalize.text import squeeze


def fund_key(text: str) -> str:
    """The comparison form of a fund name (Python side, for building the lookup)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def fund_lookup(config: Config) -> dict[str, str]:
    """Every spelling (name and variants, folded) → canonical fund name."""
    out: dict[str, str] = {}
    for fund in config.funds.values():
        for spelling in (fund.name, *fund.variants):
            out.setdefault(fund_key(spelling), fund.name)
    return out


def canonical_fund(expr: pl.Expr, config: Config) -> pl.Expr:
    """The canonical fund name of each value, or null when the value is not a known fund."""
    key = squeeze(expr).str.replace_all(r"\s", "").str.to_uppercase()
    return key.replace_strict(fund_lookup(config), default=None, return_dtype=pl.String)
