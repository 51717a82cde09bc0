"""Masking of ID, card and phone numbers, the one rule every output follows.

110102********1234 for IDs (first six, last four), 6217****5678 for cards (first four, last
four), 138****5678 for phones (first three, last four). A value too short for its form (a bad
8-digit ID, a 6-digit account) keeps only its last two characters, so a masked text never
leaks more than a proper one. The same functions take polars or narwhals expressions (outputs
and rule evidence), and `mask_value` takes a plain string (the graph's tree, the inspector).
"""

from __future__ import annotations

from typing import Any, TypeVar

import narwhals.stable.v2 as nw
import polars as pl

E = TypeVar("E", pl.Expr, nw.Expr)
# form -> (shortest value masked in form, characters kept at the start, at the end, stars)
FORMS = {"id": (15, 6, 4, 8), "card": (12, 4, 4, 4), "phone": (7, 3, 4, 4)}
SHORT = 2  # characters a too-short value keeps, at its end


def _ns(expr: Any) -> Any:
    return pl if isinstance(expr, pl.Expr) else nw


def _mask(expr: E, form: str) -> E:
    ns = _ns(expr)
    shortest, head, tail, stars = FORMS[form]
    full = ns.concat_str([expr.str.slice(0, head), ns.lit("*" * stars), expr.str.slice(-tail)])
    short = ns.concat_str([ns.lit("****"), expr.str.slice(-SHORT)])
    return ns.when(expr.str.len_chars() >= shortest).then(full).otherwise(short)


def mask_id(expr: E) -> E:
    return _mask(expr, "id")


def mask_card(expr: E) -> E:
    return _mask(expr, "card")


def mask_phone(expr: E) -> E:
    return _mask(expr, "phone")


def mask_value(form: str, value: str) -> str:
    """A plain string masked as `form` (id, card or phone)."""
    if not value:
        return value
    shortest, head, tail, stars = FORMS[form]
    if len(value) >= shortest:
        return value[:head] + "*" * stars + value[-tail:]
    return "****" + value[-SHORT:]
