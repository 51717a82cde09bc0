"""Monthly disbursements (代发明细) of 2023 from the roll: one payment per entry per active month.

Household funds are paid once a month per household (the sum of the members' shares) onto the
household's card; person funds per person. Payments go out in batches per township, fund and
month, on a day between the 5th and the 12th, with the memo style the bank used for that batch
(`2023年04月农村低保`, `农低保202304`, `4月份农村低保`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from cardcheck.demo.people import COUNTY, TOWNSHIPS

YEAR = 2023
FUNDS = ["农村低保", "城市低保", "特困供养", "孤儿基本生活费", "困难残疾人生活补贴",
         "重度残疾人护理补贴", "临时救助"]
HOUSEHOLD_FUNDS = ("农村低保", "城市低保")
SHORT = {"农村低保": "农低保", "城市低保": "城低保", "特困供养": "特困金", "孤儿基本生活费": "孤儿金",
         "困难残疾人生活补贴": "残补", "重度残疾人护理补贴": "护理补贴", "临时救助": "临时救助"}
BATCH_CODE = {"农村低保": "NDB", "城市低保": "CDB", "特困供养": "TK", "孤儿基本生活费": "GE",
              "困难残疾人生活补贴": "CB", "重度残疾人护理补贴": "HL", "临时救助": "LS"}
PAYER = {"困难残疾人生活补贴": f"{COUNTY}残疾人联合会", "重度残疾人护理补贴": f"{COUNTY}残疾人联合会"}
PAYER_DEFAULT = f"{COUNTY}民政局"
PAYER_ACCOUNT = {f"{COUNTY}民政局": "14050170880800000123", f"{COUNTY}残疾人联合会": "14050170880800000456"}
COLUMNS = ["pay_date", "card_no", "account_name", "amount", "memo", "batch", "payer"]


def batches(rng: np.random.Generator) -> pl.DataFrame:
    """Pay day and memo style of every (township, fund, month) batch."""
    t, f, m = (a.ravel() for a in np.meshgrid(np.arange(len(TOWNSHIPS)), np.arange(len(FUNDS)),
                                              np.arange(1, 13), indexing="ij"))
    n = len(t)
    one_off = np.array(FUNDS)[f] == "临时救助"
    day = np.where(one_off, rng.integers(5, 26, n), rng.integers(5, 13, n))
    return pl.DataFrame({
        "t": t.astype(np.int64), "fund": np.array(FUNDS)[f], "month": m.astype(np.int64),
        "day": day.astype(np.int64), "style": rng.integers(0, 3, n).astype(np.int64),
    })


def memo(fund: pl.Expr, month: pl.Expr, style: pl.Expr) -> pl.Expr:
    """The memo text a batch carries."""
    mm = month.cast(pl.String).str.zfill(2)
    short = fund.replace_strict(SHORT, return_dtype=pl.String)
    return (
        pl.when(fund == "临时救助").then(pl.when(style == 0).then(pl.lit("临时救助金"))
                                     .otherwise(pl.lit("临时救助")))
        .when(style == 0).then(pl.lit(f"{YEAR}年") + mm + pl.lit("月") + fund)
        .when(style == 1).then(short + pl.lit(str(YEAR)) + mm)
        .otherwise(month.cast(pl.String) + pl.lit("月份") + fund)
    )


def units(roll: pl.DataFrame) -> pl.DataFrame:
    """What is paid each month: per household for household funds, per person otherwise."""
    household = (
        roll.filter(pl.col("fund").is_in(HOUSEHOLD_FUNDS))
        .group_by("hid", "fund")
        .agg(pl.col("card_no").first(), pl.col("monthly_amount").sum().alias("amount"),
             pl.col("start_date").min(), pl.col("end_date").max(), pl.col("t").first(),
             pl.lit(None, pl.Int64).alias("pid"))
    )
    person = roll.filter(~pl.col("fund").is_in(HOUSEHOLD_FUNDS)).select(
        "hid", "fund", "card_no", pl.col("monthly_amount").alias("amount"), "start_date",
        "end_date", "t", "pid")
    return pl.concat([household, person], how="vertical_relaxed").sort("hid", "fund", "pid")


def active_months(start: pl.Expr, end: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """First and last month of 2023 (1–12) a roll term covers; first > last when none."""
    first = pl.when(start.dt.year() < YEAR).then(1).when(start.dt.year() > YEAR).then(13) \
        .otherwise(start.dt.month().cast(pl.Int64))
    last = pl.when(end.is_null() | (end.dt.year() > YEAR)).then(12) \
        .when(end.dt.year() < YEAR).then(0).otherwise(end.dt.month().cast(pl.Int64))
    return first, last


@dataclass
class Ledger:
    """The year's payments as a recipe: what the roll pays each month, and the planted changes
    (edit, drop, duplicate, add), applied month by month so a large county fits in memory."""

    units: pl.DataFrame
    batches: pl.DataFrame
    names: pl.DataFrame  # card_no -> account_name (the bank's 户名)
    ops: list[tuple[str, Any, Any]] = field(default_factory=list)

    def edit(self, cond: pl.Expr, **exprs: pl.Expr) -> None:
        self.ops.append(("edit", cond, exprs))

    def drop(self, cond: pl.Expr) -> None:
        self.ops.append(("drop", cond, None))

    def duplicate(self, cond: pl.Expr, **exprs: pl.Expr) -> None:
        self.ops.append(("duplicate", cond, exprs))

    def add(self, rows: pl.DataFrame) -> None:
        self.ops.append(("add", None, rows))

    def month(self, month: int) -> pl.DataFrame:
        """The payments made for `month` (planted changes included), in the bank's order."""
        first, last = active_months(pl.col("start_date"), pl.col("end_date"))
        due = self.units.filter((first <= month) & (last >= month)).with_columns(
            pl.lit(month, pl.Int64).alias("month"))
        pays = shape(due.join(self.batches, on=["t", "fund", "month"], how="left")
                     .join(self.names, on="card_no", how="left"))
        for kind, cond, arg in self.ops:
            if kind == "edit":
                pays = pays.with_columns(
                    [pl.when(cond).then(e).otherwise(pl.col(c)).alias(c) for c, e in arg.items()])
            elif kind == "drop":
                pays = pays.filter(~cond)
            elif kind == "duplicate":
                pays = pl.concat([pays, pays.filter(cond).with_columns(**arg)])
            else:
                pays = pl.concat([pays, arg.filter(pl.col("month") == month).select(pays.columns)],
                                 how="vertical_relaxed")
        return pays.sort("pay_date", "batch", "card_no", "amount").drop("day", "style")

    def all(self) -> pl.DataFrame:
        return pl.concat([self.month(m) for m in range(1, 13)])


def ledger(rng: np.random.Generator, roll: pl.DataFrame, accounts: pl.DataFrame) -> Ledger:
    """The recipe of the year's payments (internal keys hid, pid, fund, month kept for plants)."""
    names = accounts.select("card_no", pl.col("holder_name").alias("account_name"))
    return Ledger(units(roll), batches(rng), names)


def shape(pays: pl.DataFrame) -> pl.DataFrame:
    """Dates, memos, batch numbers and payers from month, day, style and fund."""
    return pays.with_columns(
        pl.date(YEAR, pl.col("month"), pl.col("day")).alias("pay_date"),
        memo(pl.col("fund"), pl.col("month"), pl.col("style")).alias("memo"),
        (pl.col("fund").replace_strict(BATCH_CODE, return_dtype=pl.String) + pl.lit(str(YEAR))
         + pl.col("month").cast(pl.String).str.zfill(2) + pl.lit("-")
         + pl.col("t").add(1).cast(pl.String).str.zfill(2)).alias("batch"),
        pl.col("fund").replace_strict(PAYER, default=PAYER_DEFAULT, return_dtype=pl.String)
        .alias("payer"),
    ).select(*COLUMNS, "hid", "pid", "fund", "month", "t", "day", "style")
