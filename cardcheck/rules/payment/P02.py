"""P02 应发未发: a roll entry active in a covered month that received nothing for that month.

Finds: every (entry, month) where the entry (a household for household-level funds, a person
otherwise) is active on the roll (start_date ≤ month ≤ end_date) in a month the payment files
cover, but no payment is attributed to it for that period. One finding per entry: the months
and the approved money not paid (sum of the approved monthly amounts). One-off funds (临时救助,
`one_off: true`) are not expected monthly and are skipped. A month counts as covered when at
least `cover_min_share` of the busiest month's cards are paid for it.
Why: withheld or delayed subsidies (拖延发放, 滞留资金) are what the campaign names first.
Known false positive: a payment the matching cannot attribute (a generic memo on a card that
carries two funds) counts as paid for every entry it could belong to, so P02 stays quiet there;
but a payment under a card the roll does not know and without an ID shows here as unpaid and
under P01 as paid without a roll entry.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule, yuan
from cardcheck.rules.payment.attribution import (
    AMBIGUOUS,
    ENTRY,
    PAID_BY,
    ROLL_ENTRY,
    approved_for,
    covered_months,
    month_span,
    prepare,
    with_place,
)
from cardcheck.rules.payment.evidence import count, money, span, who
from cardcheck.rules.payment.periods import one_off_funds


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    months = covered_months(att.payments, float(ctx.params["cover_min_share"]))
    regular = att.entries.filter(~nw.col("fund").is_in(one_off_funds(ctx.config)))
    paid = att.per_period().select(*ENTRY, "period")
    # an ambiguous payment may belong to any entry on its card with a matching fund
    maybe = (
        att.payments.filter(nw.col("unattributed_reason") == AMBIGUOUS)
        .select("card_no", nw.col("fund").alias("amb_fund"), "period").unique()
        .join(att.rows.select("card_no", *ENTRY, "fund"), on="card_no", how="inner")
        .filter(nw.col("amb_fund").is_null() | (nw.col("amb_fund") == nw.col("fund")))
        .select(*ENTRY, "period").unique()
    )
    # the months not paid first, then their approved amounts (for those the entry is active
    # in): approved_for works pair by pair, so this is the same as removing the paid months from
    # what is due, and it sums members for the few unpaid months instead of every month
    unpaid_months = (
        regular.select(*ENTRY).join(months, how="cross")
        .join(paid, on=[*ENTRY, "period"], how="anti")
        .join(maybe, on=[*ENTRY, "period"], how="anti")
    )
    unpaid = (
        approved_for(unpaid_months, att.rows, ctx.keep)
        .group_by(*ENTRY).agg(
            nw.col("approved").sum().cast(nw.Int64).alias("amount"),
            nw.col("approved").max().alias("approved"), *month_span(),
        )
    )
    return with_place(unpaid, att.entries).with_columns(
        amount=nw.col("amount").fill_null(0),
        evidence=nw.concat_str([
            who(), nw.lit(" "), nw.col("fund"), nw.lit(" 在册应发，"), span(), nw.lit(" 有 "),
            count("months", "个月"), nw.lit("未发放（核定每月 "),
            yuan(nw.col("approved").fill_null(0)), nw.lit(" 元），共 "), money(),
        ]),
    )


RULE = Rule(
    code="P02",
    name="应发未发",
    title="approved but not paid",
    severity="high",
    needs={"roll": ("fund",), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*ROLL_ENTRY, "id_number", "card_no", "monthly_amount"),
          "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
