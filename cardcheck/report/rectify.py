"""Rectification from the ledger's state: 表5 (township × problem category) and the progress
by township that 汇总 shows and charts (pure polars).

Counted in cases (report.case_units), as 表1 is: a case's status is the least advanced of its
findings' (不属实 only when all are), it is gone from the data when all its findings are. What
only a person can enter — accounts closed, leads handed over, people disciplined, rules made —
comes from ledger columns of those names (ENTERED) and is blank while the ledger has none; it
is never guessed from the text of 整改措施.
"""

from __future__ import annotations

import polars as pl

from cardcheck.report.spec import ReportSpec
from cardcheck.report.summary import NO_TOWNSHIP, OUTSIDE_ROLL, case_key, township_col
from cardcheck.report.totals import numbered, with_total

# ledger state columns a person fills in (a number, or yes/no, per finding), summed per case
ENTERED = ("accounts", "leads", "disciplined", "organised", "judicial", "systems")
COUNTS = ("found", "rows", "rectified", "in_progress", "open", "unfounded", "due", "recovered",
          "gone")


def _cases(state: pl.DataFrame, spec: ReportSpec, by: list[str]) -> pl.DataFrame:
    """One row per case: its status rank, rows, money due and recovered, gone, entries."""
    new, doing, done, unfounded, closed = spec.statuses[:5]
    rank = {new: 0, doing: 1, done: 2, closed: 2}  # 销号: rectified and closed
    entered = [(pl.col(c).cast(pl.Int64).fill_null(0).sum() if c in state.columns
                else pl.lit(None, pl.Int64)).alias(c) for c in ENTERED]
    due = pl.col("rule").is_in(list(spec.recoverable)) & (pl.col("status") != unfounded)
    df = state.with_columns(
        township_col(), case_key(spec.case_units),
        pl.when(pl.col("status") == unfounded).then(3)
        .otherwise(pl.col("status").replace_strict(rank, default=0, return_dtype=pl.Int64))
        .alias("_rank"))
    return df.group_by(*by, "case").agg(
        pl.col("_rank").min(), pl.len().alias("rows"),
        pl.when(due).then(pl.col("amount").fill_null(0)).otherwise(0).sum().alias("due"),
        pl.col("recovered").fill_null(0).sum().alias("recovered"),
        (~pl.col("present").fill_null(True)).all().alias("gone"), *entered)


def _counts(cases: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    status = pl.col("_rank")
    return cases.group_by(by).agg(
        pl.len().alias("found"), pl.col("rows").sum(), (status == 2).sum().alias("rectified"),
        (status == 1).sum().alias("in_progress"), (status == 0).sum().alias("open"),
        (status == 3).sum().alias("unfounded"), pl.col("due").sum(), pl.col("recovered").sum(),
        pl.col("gone").sum(),
        *[pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c)
          for c in ENTERED],
    ).with_columns(pl.col(c).cast(pl.Int64) for c in (*COUNTS, *ENTERED))


def _with_rate(df: pl.DataFrame) -> pl.DataFrame:
    base = pl.col("found") - pl.col("unfounded")
    return df.with_columns(
        pl.when(base > 0).then(pl.col("rectified") / base).otherwise(None).alias("rate"))


def _total(df: pl.DataFrame) -> pl.DataFrame:
    entered = {c: None for c in ENTERED if df.get_column(c).is_null().all()}
    sums = [c for c in (*COUNTS, *ENTERED) if c not in entered]
    return _with_rate(with_total(df, "township", sums, entered))


def _ordered(df: pl.DataFrame, *then: str) -> pl.DataFrame:
    return df.sort(pl.col("township").is_in([OUTSIDE_ROLL, NO_TOWNSHIP]), "township", *then)


def table5(state: pl.DataFrame, spec: ReportSpec) -> pl.DataFrame:
    """表5 township × problem category from the ledger's state (every problem the campaign has
    recorded): cases found and their findings (rows), cases per status, rectification rate
    (rectified / (found − unfounded)), money due back (the report.recoverable rules' money not
    unfounded) and recovered (fen), the entered counts (ENTERED), cases gone from the data."""
    by = ["township", "category"]
    out = _ordered(_counts(_cases(state, spec, by), by), "category")
    out = numbered(out.with_columns(pl.lit(None, pl.Float64).alias("rate")))
    return _total(out).with_columns(pl.col("category").fill_null(""))


def progress(state: pl.DataFrame, spec: ReportSpec) -> pl.DataFrame:
    """表5's counts by township alone (汇总's progress section and chart), with a 合计 row."""
    out = _ordered(_counts(_cases(state, spec, ["township"]), ["township"]))
    return _total(out.with_columns(pl.lit(None, pl.Float64).alias("rate")))
