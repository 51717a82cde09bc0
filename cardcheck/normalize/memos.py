"""Read a payment memo: which fund it names, which month, and whether it says nothing at all.

Patterns come from configs/funds.yaml (`memo` per fund, `generic_memos`). The longest pattern
found decides the fund: 农村低保金 names 农村低保, 低保金 names the family 城乡低保 (either fund).
Periods: 2023年04月, 2023年4月, 2023-04, 2023.04, 202304, and a bare 4月/4月份 or 四月/十二月 (year
taken from the pay date: a month later than the pay month means the previous year). A quarter
(2023年1季度, 一季度) is not a month: it leaves the period empty (C05 accepts it as a period).
"""

from __future__ import annotations

import re

import polars as pl

from cardcheck.config import Config
from cardcheck.normalize.text import clean

HAN_NAME = r"^[\u4e00-\u9fff·]{2,4}$"
COMMITTEE = r"(村委|居委|村民委员会|居民委员会|村委会|居委会)"
# months in Chinese numerals (十一月 before 一月: the character before 月 is not the whole month)
CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
             "十": 10, "十一": 11, "十二": 12}
CN_MONTH = r"(?:^|[^十\d一二三四五六七八九〇零])(十[一二]|[一二三四五六七八九十])月"


def _patterns(config: Config) -> list[tuple[str, list[str]]]:
    """(pattern, funds it names), longest first."""
    owners: dict[str, list[str]] = {}
    for fund in config.funds.values():
        for pat in (fund.name, *fund.variants, *fund.memo):
            owners.setdefault(pat, [])
            if fund.name not in owners[pat]:
                owners[pat].append(fund.name)
    return sorted(owners.items(), key=lambda kv: -len(kv[0]))


def read_memos(memos: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Per distinct memo (column `memo`): memo_fund, memo_family, memo_funds, __text (clean),
    __generic (generic without looking at the account name), __full (yyyymm the memo names with
    its year) and __month (a bare month). Staged columns: each step reads the previous one."""
    families = {f.name: f.family for f in config.funds.values()}
    df = memos.with_columns(clean(pl.col("memo")).str.replace_all(r"\s", "").alias("__text"))
    text = pl.col("__text")
    fund_expr: pl.Expr = pl.lit(None, dtype=pl.String)
    family_expr: pl.Expr = pl.lit(None, dtype=pl.String)
    count_expr: pl.Expr = pl.lit(0, dtype=pl.Int32)
    # build from the shortest up, so the longest matching pattern wins (applied last)
    for pat, funds in reversed(_patterns(config)):
        hit = text.str.contains(pat, literal=True)
        fams = {families[f] for f in funds}
        one_fund = funds[0] if len(funds) == 1 else None
        one_family = fams.pop() if len(fams) == 1 else None
        fund_expr = pl.when(hit).then(pl.lit(one_fund, dtype=pl.String)).otherwise(fund_expr)
        family_expr = pl.when(hit).then(pl.lit(one_family, dtype=pl.String)).otherwise(family_expr)
        count_expr = pl.when(hit).then(pl.lit(len(funds), dtype=pl.Int32)).otherwise(count_expr)
    generic_words = "|".join(re.escape(w) for w in config.generic_memos)
    df = df.with_columns(fund_expr.alias("memo_fund"), family_expr.alias("memo_family"),
                         count_expr.alias("memo_funds"))
    generic = text.is_null() | ((pl.col("memo_funds") == 0) & (
        text.str.contains(f"^({generic_words})+$")
        | text.str.contains(COMMITTEE)
        | text.str.contains(HAN_NAME)
    ))
    # a year and month, not a year and quarter (2023年1季度)
    ym = r"((?:19|20)\d{2})\s*(?:年|-|\.|/)\s*(1[0-2]|0?[1-9])(?:[^\d季]|$)"
    full = text.str.extract(ym, 1).cast(pl.Int32) * 100 + text.str.extract(ym, 2).cast(pl.Int32)
    compact = text.str.extract(r"(?:^|\D)((?:19|20)\d{2}(?:0[1-9]|1[0-2]))(?:\D|$)", 1).cast(pl.Int32)
    month_only = pl.coalesce(
        text.str.extract(r"(?:^|[^\d年])(1[0-2]|0?[1-9])月", 1).cast(pl.Int32),
        text.str.extract(CN_MONTH, 1).replace_strict(CN_MONTHS, default=None,
                                                     return_dtype=pl.Int32))
    return df.with_columns(
        generic.fill_null(True).alias("__generic"),
        pl.coalesce(full, compact).alias("__full"),
        month_only.alias("__month"),
    )


def finish_memos(df: pl.LazyFrame) -> pl.LazyFrame:
    """Per payment, from read_memos' columns: memo_generic (a memo that is only the account
    holder's name is generic too) and memo_period (a bare month takes the pay date's year; one
    later than the pay month by more than one is last year's: 12月 paid in January)."""
    pay_year = pl.col("pay_date").dt.year().cast(pl.Int32)
    pay_month = pl.col("pay_date").dt.month().cast(pl.Int32)
    month = pl.col("__month")
    year = pl.when(month > pay_month + 1).then(pay_year - 1).otherwise(pay_year)
    only_name = (pl.col("memo_funds") == 0) & (pl.col("__text") == pl.col("account_name_key"))
    return df.with_columns(
        (pl.col("__generic") | only_name.fill_null(False)).alias("memo_generic"),
        pl.coalesce(pl.col("__full"), year * 100 + month).cast(pl.Int32).alias("memo_period"),
    ).drop("__text", "__generic", "__full", "__month")
