"""What each person received, per fund and month: the view the eligibility rules (E01–E08) use.

Person-level funds: the person's attributed payments. Household-level funds: every member with a
usable ID receives their share — the member row's monthly_amount, or the household's payment if
that is smaller or the row has no amount. Members whose row is not active in the month are left
out, unless no member is active (a household paid after it ended: everyone listed counts).
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.payment.attribution import ENTRY, Attribution

PLACE = ["name", "household_id", "region_code", "township", "village"]
RECEIPTS = ["id_number", *PLACE, "entry_type", "fund", "period", "card_no", "paid"]


def receipts(att: Attribution) -> nw.LazyFrame:
    """One row per (usable id_number, fund, period) received: RECEIPTS columns, paid in fen."""
    per = att.attributed.group_by(*ENTRY, "period").agg(
        nw.col("amount").sum().cast(nw.Int64).alias("paid"), nw.col("card_no").min(),
    )
    person = (
        per.filter(nw.col("entry_type") == "person")
        .join(att.entries.select(*ENTRY, "id_number", *PLACE), on=ENTRY, how="inner")
        .filter(~nw.col("id_number").is_null())
    )
    members = att.rows.filter(
        (nw.col("entry_type") == "household") & ~nw.col("member_id").is_null()
    ).select(*ENTRY, nw.col("member_id").alias("id_number"), *PLACE, "monthly_amount",
             "start_month", "end_month")
    active = (nw.col("start_month") <= nw.col("period")) & (nw.col("end_month") >= nw.col("period"))
    household = (
        per.filter(nw.col("entry_type") == "household")
        .join(members, on=ENTRY, how="inner")
        .with_columns(active=active.cast(nw.Int32))
        .with_columns(any_active=nw.col("active").max().over(*ENTRY, "period"))
        .filter((nw.col("active") == 1) | (nw.col("any_active") == 0))
        .group_by(*ENTRY, "period", "id_number").agg(
            *(nw.col(c).min() for c in PLACE), nw.col("monthly_amount").max().alias("share"),
            nw.col("paid").max(), nw.col("card_no").min(),
        )
        .with_columns(paid=nw.when(nw.col("share").is_null() | (nw.col("share") > nw.col("paid")))
                      .then(nw.col("paid")).otherwise(nw.col("share")))
    )
    return nw.concat([person.select(RECEIPTS), household.select(RECEIPTS)], how="vertical")


def receipts_or_empty(att: Attribution | None, like: nw.LazyFrame) -> nw.LazyFrame:
    """receipts(att), or an empty frame of the same columns when there are no payments.

    `like` is any lazy frame of the engine in use (its first row is never read)."""
    if att is not None:
        return receipts(att)
    s, i = nw.String(), nw.Int64()
    types = {c: s for c in RECEIPTS} | {"period": nw.Int32(), "paid": i}
    return like.head(0).with_columns(
        *(nw.lit(None).cast(t).alias(c) for c, t in types.items())
    ).select(RECEIPTS)
