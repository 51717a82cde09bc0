"""Columns derived from others (name keys, months, memo readings, a prisoner's 刑期起止 as its
start and end dates), computed once per table.

Readers call `derive` after normalising; rule fixtures call it too, so a fixture lists only the
columns a person would type.
"""

from __future__ import annotations

import polars as pl

from cardcheck.config import Config
from cardcheck.model import conform
from cardcheck.normalize.dates import term_dates
from cardcheck.normalize.memos import finish_memos, read_memos
from cardcheck.normalize.names import name_key

NAME_KEYS = {
    "roll": {"name_key": "name", "payee_name_key": "payee_name"},
    "other_roll": {"name_key": "name", "payee_name_key": "payee_name"},
    "accounts": {"holder_name_key": "holder_name", "agent_name_key": "agent_name"},
    "payments": {"account_name_key": "account_name"},
}


# Han characters (but 丶, one of the dots name_key unifies): name_key leaves such names as they are
PLAIN_NAME = "^[\u4e00-\u4e35\u4e37-\u9fff]+$"


def _month(col: str) -> pl.Expr:
    return (pl.col(col).dt.year() * 100 + pl.col(col).dt.month()).cast(pl.Int32)


def derive(table: str, df: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Conform `df` to the canonical schema of `table` and fill its derived columns (one query)."""
    df = conform(df, table)
    lf = df.lazy()
    for dst, src in NAME_KEYS.get(table, {}).items():
        # a name of Han characters only is its own key; the others once per distinct name (keys
        # fold full-width forms, which is slow on every row)
        plain = pl.col(src).str.contains(PLAIN_NAME).fill_null(False)
        keys = df.lazy().filter(~plain).select(src).unique().with_columns(
            name_key(pl.col(src)).alias(dst)).collect()
        if keys.height:
            lf = lf.drop(dst).join(keys.lazy(), on=src, how="left", nulls_equal=True,
                                   maintain_order="left")
        lf = lf.with_columns(pl.when(plain).then(pl.col(src)).otherwise(
            pl.col(dst) if keys.height else None).alias(dst))
    exprs = []
    if table == "payments":
        exprs.append(_month("pay_date").alias("pay_month"))
    if table == "transactions":
        exprs.append(_month("txn_time").alias("txn_month"))
    if exprs:
        lf = lf.with_columns(exprs)
    if table == "payments":
        lf = with_memo(lf, df, config)
    if table == "prisoners" and df.get_column("term").null_count() < df.height:
        lf = with_term(lf, config)
    return conform(lf.collect(), table)


def with_term(lf: pl.LazyFrame, config: Config) -> pl.LazyFrame:
    """start_date and end_date, where empty, from the term written in one cell (刑期起止)."""
    start, end = term_dates(pl.col("term"), config.dates.spec("prisoners", "start_date"),
                            config.dates.spec("prisoners", "end_date"))
    return lf.with_columns(pl.coalesce(pl.col("start_date"), start).alias("start_date"),
                           pl.coalesce(pl.col("end_date"), end).alias("end_date"))


def with_memo(lf: pl.LazyFrame, df: pl.DataFrame, config: Config) -> pl.LazyFrame:
    """Read each distinct memo text of `df` once (a county has a few hundred), then finish per
    row of `lf` (the same rows)."""
    out_cols = ["memo_fund", "memo_family", "memo_funds", "memo_generic", "memo_period"]
    read = read_memos(df.lazy().select("memo").unique().collect(), config)
    joined = lf.drop(out_cols).join(read.lazy(), on="memo", how="left", nulls_equal=True,
                                    maintain_order="left")
    return finish_memos(joined)
