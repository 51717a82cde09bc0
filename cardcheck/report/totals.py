"""The rows every table shares: 合计 under the data and 序号 beside it."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from cardcheck.report.summary import TOTAL


def with_total(df: pl.DataFrame, label_col: str, sums: list[str],
               values: Mapping[str, object] | None = None) -> pl.DataFrame:
    """`df` with a 合计 row under it: `sums` added up, `values` as given (a count that is not a
    sum, such as the county's distinct funds), every other column blank."""
    total = df.select([pl.lit(TOTAL).alias(label_col)] +
                      [pl.col(c).sum() for c in sums if c in df.columns])
    for col, value in (values or {}).items():
        total = total.with_columns(pl.lit(value).alias(col))
    for col in df.columns:
        if col not in total.columns:
            total = total.with_columns(pl.lit(None).alias(col))
    return pl.concat([df, total.select(df.columns).cast(df.schema)])


def numbered(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with 序号 1, 2, … (seq) in its order."""
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("seq"))
