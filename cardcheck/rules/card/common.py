"""Helpers the card rules (C02–C08) share: who a card belongs to, which funds it carries, and
which fund each payment onto it pays.

Everything here is narwhals over LazyFrames, so the rules that use it run on every engine.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.config import Config
from cardcheck.rules.base import Context, month_text, usable

PLACE = ("region_code", "township", "village")


# an ID column without a status column (payee_id, agent_id) is usable when it looks like an
# 18-digit ID or a `cardcheck tokenize` pseudonym (T + 24 hex digits)
ID_LIKE = r"^(\d{17}[\dX]|T[0-9A-Fa-f]{24})$"


def id_like(col: str) -> nw.Expr:
    """An ID column without a status column holds a usable ID (see ID_LIKE); never null."""
    return nw.col(col).str.contains(ID_LIKE).fill_null(False)


def family_of(fund: nw.Expr, config: Config) -> nw.Expr:
    """A canonical fund's family (城乡低保 for 城市低保/农村低保; the fund itself otherwise)."""
    out: nw.Expr = fund
    for spec in config.funds.values():
        if spec.family != spec.name:
            out = nw.when(fund == spec.name).then(nw.lit(spec.family)).otherwise(out)
    return out


def same_person(id_a: str, ok_a: str, key_a: str, id_b: str, ok_b: str, key_b: str) -> nw.Expr:
    """Two sides are one person: equal IDs when both IDs are usable, else equal name keys."""
    both_ids = nw.col(ok_a) & nw.col(ok_b)
    by_id = both_ids & (nw.col(id_a) == nw.col(id_b))
    by_name = ~both_ids & (nw.col(key_a) == nw.col(key_b))
    return (by_id | by_name).fill_null(False)


def households(roll: nw.LazyFrame) -> nw.LazyFrame:
    """One row per household: its place and its head (户主, else the smallest usable ID)."""
    rows = roll.filter(~nw.col("household_id").is_null()).with_columns(
        _rank=nw.concat_str([
            nw.when(nw.col("relation") == "户主").then(nw.lit("0")).otherwise(nw.lit("1")),
            nw.when(usable("id_status")).then(nw.lit("0")).otherwise(nw.lit("1")),
            nw.col("id_number").fill_null(""),
        ])
    )
    best = rows.group_by("household_id").agg(nw.col("_rank").min())
    head = (
        rows.join(best, on=["household_id", "_rank"], how="inner")
        .group_by("household_id")
        .agg(nw.col("id_number").min().alias("head_id"), nw.col("name").min().alias("head_name"))
    )
    place = rows.group_by("household_id").agg(*(nw.col(c).min() for c in PLACE))
    return place.join(head, on="household_id", how="left")


def card_owners(roll: nw.LazyFrame) -> nw.LazyFrame:
    """One row per registered card: the household and person it is registered to (a 户主 first),
    with the household's place. Columns: card_no, household_id, id_number, name, place."""
    rows = roll.filter(~nw.col("card_no").is_null()).with_columns(
        _rank=nw.concat_str([
            nw.when(nw.col("relation") == "户主").then(nw.lit("0")).otherwise(nw.lit("1")),
            nw.col("household_id").fill_null(""),
            nw.col("id_number").fill_null(""),
        ])
    )
    best = rows.group_by("card_no").agg(nw.col("_rank").min())
    return (
        rows.join(best, on=["card_no", "_rank"], how="inner")
        .group_by("card_no")
        .agg(nw.col("household_id").min(), nw.col("id_number").min(), nw.col("name").min(),
             *(nw.col(c).min() for c in PLACE))
    )


def shared_households(ctx: Context) -> nw.LazyFrame:
    """households() of the run's roll, built once per run for every card rule."""
    return ctx.once("card.households", lambda: households(ctx.table("roll")))


def shared_owners(ctx: Context) -> nw.LazyFrame:
    """card_owners() of the run's roll, built once per run for every card rule."""
    return ctx.once("card.owners", lambda: card_owners(ctx.table("roll")))


def card_funds(roll: nw.LazyFrame, config: Config) -> nw.LazyFrame:
    """(card_no, fund, family, n_funds): the funds the roll registers on each card."""
    return (
        roll.filter(~nw.col("card_no").is_null() & ~nw.col("fund").is_null())
        .select("card_no", "fund").unique()
        .with_columns(n_funds=nw.col("fund").count().over("card_no"),
                      family=family_of(nw.col("fund"), config))
    )


SIG = ["card_no", "_mf", "_mfam", "_mn"]  # a payment's card and memo reading


def memo_reading(pays: nw.LazyFrame) -> nw.LazyFrame:
    """Payments with their memo reading as SIG columns (nulls as '' and 0)."""
    return pays.with_columns(
        _mf=nw.col("memo_fund").fill_null(""),
        _mfam=nw.col("memo_family").fill_null(""),
        _mn=nw.col("memo_funds").fill_null(0),
    )


def reading_funds(keyed: nw.LazyFrame, roll: nw.LazyFrame, config: Config) -> nw.LazyFrame:
    """(SIG…, fund): per distinct (card, memo reading) of `keyed` (memo_reading), the roll funds
    such a payment pays — one row each, or one row with a null fund when it pays none."""
    hit = ((nw.col("_mf") == nw.col("fund"))
           | ((nw.col("_mf") == "") & (nw.col("_mfam") == nw.col("family")))
           | ((nw.col("_mn") == 0) & (nw.col("n_funds") == 1))).fill_null(False)
    return (
        keyed.select(SIG).unique()
        .join(card_funds(roll, config), on="card_no", how="left")
        .with_columns(_hit=hit.cast(nw.Int32))
        .with_columns(_hits=nw.col("_hit").sum().over(*SIG),
                      _first=nw.col("fund").min().over("card_no"))
        .filter((nw.col("_hit") == 1) | ((nw.col("_hits") == 0) & (
            nw.col("fund").is_null() | (nw.col("fund") == nw.col("_first")))))
        .select(*SIG, fund=nw.when(nw.col("_hit") == 1).then(nw.col("fund")))
    )


def attribute(pays: nw.LazyFrame, roll: nw.LazyFrame, config: Config) -> nw.LazyFrame:
    """Payments with `fund`: the roll fund of the card the payment pays (null if none), and
    `period` (the memo's month, else the pay month).

    A payment pays a fund registered on its card when the memo names that fund, or names its
    family (低保金 → 城乡低保), or names no fund and the card carries only that fund; a family
    memo on a card carrying both funds of the family pays both (one row each).
    The fund depends only on the card and the memo's reading, so it is worked out once per
    distinct (card, memo reading) — far fewer than payments — and joined back onto the payments.
    """
    keyed = memo_reading(pays)
    return (
        keyed.join(reading_funds(keyed, roll, config), on=SIG, how="left")
        .with_columns(period=nw.col("memo_period").fill_null(nw.col("pay_month")).cast(nw.Int32))
        .drop("_mf", "_mfam", "_mn")
    )


def span(first: nw.Expr, last: nw.Expr) -> nw.Expr:
    """' (2023-04 至 2023-09)' or ' (2023-04)'; '' when there are no months."""
    both = nw.concat_str([nw.lit(" ("), month_text(first), nw.lit(" 至 "), month_text(last),
                          nw.lit(")")])
    one = nw.concat_str([nw.lit(" ("), month_text(first), nw.lit(")")])
    return (nw.when(first.is_null()).then(nw.lit(""))
            .otherwise(nw.when(first == last).then(one).otherwise(both)))


def totals(lf: nw.LazyFrame, keys: list[str], month: str = "period") -> nw.LazyFrame:
    """Money and months per key: amount (fen), first_month, last_month, months."""
    return lf.group_by(*keys).agg(
        nw.col("amount").sum().cast(nw.Int64).alias("amount"),
        nw.col(month).min().cast(nw.Int32).alias("first_month"),
        nw.col(month).max().cast(nw.Int32).alias("last_month"),
        nw.col(month).n_unique().cast(nw.Int32).alias("months"),
    )


def card_paid(ctx: Context) -> nw.LazyFrame:
    """Money and months (pay months) paid onto each card in the period, whatever the fund;
    built once per run."""
    return ctx.once("card.paid", lambda: totals(
        ctx.table("payments").filter(~nw.col("card_no").is_null()), ["card_no"],
        month="pay_month"))


def card_months(ctx: Context) -> nw.LazyFrame:
    """(card_no, month, txn_in, paid_in, credit, debit, moves): one row per card and month with a
    transaction or a payment — credit transactions and payments (pay month) added up, credit
    the larger of the two, debit 1 when anything was drawn, moves the number of transactions.
    Built once per run for C07 and C08."""
    def build() -> nw.LazyFrame:
        i64 = nw.Int64
        moves = ctx.table("transactions").filter(~nw.col("card_no").is_null()).select(
            "card_no", nw.col("txn_month").alias("month"),
            nw.when(nw.col("direction") == "C").then(nw.col("amount")).otherwise(0).cast(i64)
            .alias("txn_in"),
            nw.lit(0).cast(i64).alias("paid_in"),
            nw.when(nw.col("direction") == "D").then(1).otherwise(0).cast(i64).alias("debit"),
            nw.lit(1).cast(i64).alias("moves"),
        )
        paid = ctx.table("payments").filter(~nw.col("card_no").is_null()).select(
            "card_no", nw.col("pay_month").alias("month"), nw.lit(0).cast(i64).alias("txn_in"),
            nw.col("amount").cast(i64).alias("paid_in"), nw.lit(0).cast(i64).alias("debit"),
            nw.lit(0).cast(i64).alias("moves"),
        )
        return (
            nw.concat([moves, paid])
            .group_by("card_no", "month")
            .agg(nw.col("txn_in").sum(), nw.col("paid_in").sum(), nw.col("debit").max(),
                 nw.col("moves").sum())
            .with_columns(credit=nw.max_horizontal(nw.col("txn_in"), nw.col("paid_in"))
                          .cast(i64))
        )
    return ctx.once("card.months", build)


def no_money(lf: nw.LazyFrame) -> nw.LazyFrame:
    """After a left join on totals: a card paid nothing shows 0 fen and 0 months."""
    return lf.with_columns(nw.col("amount").fill_null(0), nw.col("months").fill_null(0))
