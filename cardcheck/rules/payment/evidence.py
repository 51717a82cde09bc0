"""Evidence-text pieces the payment and eligibility rules share (one line, read aloud)."""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import month_text, text, yuan
from cardcheck.rules.payment.attribution import CARD_UNIT


def who() -> nw.Expr:
    """'张三户' for a household entry (named by its 户主), '张三' for a person, '孙小、孙二（2 人同
    卡）' for a card unit (several people's person-level fund on one card: every member named)."""
    return nw.when(nw.col("entry_type") == "household") \
        .then(nw.concat_str([text(nw.col("name")), nw.lit("户")])) \
        .when(nw.col("entry_type") == CARD_UNIT) \
        .then(nw.concat_str([text(nw.col("names")), nw.lit("（"), text(nw.col("n_members")),
                             nw.lit(" 人同卡）")])) \
        .otherwise(text(nw.col("name")))


def fund_label(col: str = "fund") -> nw.Expr:
    return nw.when(nw.col(col).is_null()).then(nw.lit("未写明资金的款项")) \
        .otherwise(nw.col(col))


def span() -> nw.Expr:
    """'2023-04' or '2023-04至2023-09', from first_month / last_month."""
    first = month_text(nw.col("first_month"))
    return nw.when(nw.col("first_month") == nw.col("last_month")).then(first) \
        .otherwise(nw.concat_str([first, nw.lit("至"), month_text(nw.col("last_month"))]))


def money(col: str = "amount") -> nw.Expr:
    """'1800.00 元'."""
    return nw.concat_str([yuan(nw.col(col)), nw.lit(" 元")])


def count(col: str, unit: str) -> nw.Expr:
    """'3 个月', '2 笔'."""
    return nw.concat_str([text(nw.col(col)), nw.lit(f" {unit}")])
