"""What each person received, per fund and month: the view the eligibility rules (E01–E08) use.

Person-level funds: the person's attributed payments. Household-level funds: every member with a
usable ID receives their share — the member row's monthly_amount, or the household's payment if
that is smaller or the row has no amount. Members whose row is not active in the month are left
out, unless the household as a whole is not active then (paid before its first member started
or after its last member ended: everyone listed counts). A card unit (several people's
person-level fund on one card, attribution.py) is shared out the same way, and each member's
receipt is their own (entry_type `person`): the fund is theirs, not the household's.

The whole frame is long (people × months: 8.7M rows at 300k households), and every rule that
uses it asks about a few people only (those on a reference list, holding two exclusive funds, on
another county's roll, related to an official). So it is built per rule for the IDs the rule
names, from two frames shared by the run: the money per entry and month, and the roll's members.
It carries keys and money only; `with_people` adds the name and place of the few rows a rule
reports, read from those people's roll rows only.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context
from cardcheck.rules.payment.attribution import CARD_UNIT, ENTRY, Attribution, prepare

RECEIPTS = ["id_number", "household_id", "entry_type", "fund", "period", "card_no", "paid"]
PEOPLE = ["id_number", "name", "region_code", "township", "village"]


def receipts(att: Attribution, ids: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """One row per (usable id_number, entry, period) received: RECEIPTS columns, paid in fen;
    only for the IDs in `ids` (an id_number column) when given."""
    per = att.per_period().select(*ENTRY, "period", "paid", "card_no")

    def only(lf: nw.LazyFrame, col: str = "id_number") -> nw.LazyFrame:
        if ids is None:
            return lf
        return lf.join(ids.select(nw.col("id_number").alias(col)).unique(), on=col, how="semi")

    person = only(
        att.entries.filter((nw.col("entry_type") == "person") & ~nw.col("id_number").is_null())
        .select(*ENTRY, "entry_type", "fund", "id_number", "household_id")
    ).join(per, on=ENTRY, how="inner")
    # one row per member (a member listed twice: the larger amount, the widest span)
    members = (
        only(att.rows.filter(nw.col("entry_type").is_in(["household", CARD_UNIT])
                             & ~nw.col("member_id").is_null()), "member_id")
        .with_columns(entry_type=nw.when(nw.col("entry_type") == CARD_UNIT)
                      .then(nw.lit("person")).otherwise(nw.col("entry_type")))
        .group_by(*ENTRY, "member_id").agg(
            nw.col("entry_type").min(), nw.col("fund").min(), nw.col("household_id").min(),
            nw.col("monthly_amount").max().alias("share"),
            nw.col("start_month").min(), nw.col("end_month").max(),
        )
        .join(att.entries.select(*ENTRY, nw.col("start_month").alias("hh_start"),
                                 nw.col("end_month").alias("hh_end")), on=ENTRY, how="inner")
        .rename({"member_id": "id_number"})
    )
    period = nw.col("period")
    counted = (
        ((nw.col("start_month") <= period) & (nw.col("end_month") >= period))
        | (period < nw.col("hh_start")) | (period > nw.col("hh_end"))
    )
    household = (
        members.join(per, on=ENTRY, how="inner")
        .filter(counted)
        .with_columns(paid=nw.when(nw.col("share").is_null() | (nw.col("share") > nw.col("paid")))
                      .then(nw.col("paid")).otherwise(nw.col("share")))
    )
    return nw.concat([person.select(RECEIPTS), household.select(RECEIPTS)], how="vertical")


def shared_receipts(ctx: Context, ids: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """receipts() of the run's attribution for `ids` (everyone when None), on the money per
    entry and month computed once per run."""
    return receipts(prepare(ctx), ids)


def people(att: Attribution, ids: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """Name and place of every usable ID on the roll (PEOPLE columns), one row per person; only
    for the IDs in `ids` (column id_number) when given: the rules that name a few people then
    group their roll rows only, not the whole roll's."""
    rows = att.rows.filter(~nw.col("member_id").is_null())
    if ids is not None:
        wanted = ids.select(nw.col("id_number").alias("member_id")).unique()
        rows = rows.join(wanted, on="member_id", how="semi")
    return rows.group_by("member_id").agg(
        *(nw.col(c).min() for c in PEOPLE[1:])
    ).rename({"member_id": "id_number"})


def with_people(ctx: Context, found: nw.LazyFrame) -> nw.LazyFrame:
    """`found` (the rows a rule reports, with their id_number) with the name and place of each
    person (PEOPLE), read from the roll rows of those IDs only. `found` is kept: it is used
    twice, for the IDs to read and for the rows they join."""
    found = ctx.keep(found)
    return found.join(people(prepare(ctx), found), on="id_number", how="left")


def receipts_or_empty(ctx: Context, ids: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """shared_receipts(ctx, ids), or an empty frame of the same columns when no payments are
    given."""
    if ctx.has("payments"):
        return shared_receipts(ctx, ids)
    s = nw.String()
    types = {c: s for c in RECEIPTS} | {"period": nw.Int32(), "paid": nw.Int64()}
    return ctx.table("roll").head(0).with_columns(
        *(nw.lit(None).cast(t).alias(c) for c, t in types.items())
    ).select(RECEIPTS)
