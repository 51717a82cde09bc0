"""P04 重复发放: one entry paid more than once for the same fund and period.

Finds: every (entry, period) with two or more attributed payments whose sum exceeds the
approved amount by more than `tolerance_fen` (where the roll gives no amount for that month,
the largest single payment stands for it). One finding per entry; amount = the extra paid
above the approved amount, months = the periods paid twice. Several people's person-level fund
on one card (orphan siblings, two disabled members on the 户主's card) is one entry, approved at
their sum: one credit for all of them is not a duplicate, a second one is, and the finding names
every member.
Why: the same month paid twice — by two batches, or onto two cards of one household — is money
out of the fund that nobody approved.
Known false positive: a back-payment (补发) whose memo names the month it makes up, paid in the
same batch as that month's regular payment, when the roll's amount was raised in between; the
evidence gives the number of payments so the inspector can look for a 补发 batch.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule
from cardcheck.rules.payment.attribution import (
    ENTRY,
    PAID_BY,
    ROLL_ENTRY,
    month_span,
    prepare,
    with_place,
)
from cardcheck.rules.payment.evidence import count, money, span, who


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    tol = int(ctx.params["tolerance_fen"])
    base = nw.when(nw.col("approved").is_null()).then(nw.col("largest")) \
        .otherwise(nw.col("approved"))
    per = (
        att.per_period()
        .with_columns(extra=nw.col("paid") - base)
        .filter((nw.col("n_payments") >= 2) & (nw.col("extra") > tol))
    )
    agg = per.group_by(*ENTRY).agg(
        nw.col("extra").sum().cast(nw.Int64).alias("amount"),
        nw.col("n_payments").sum().cast(nw.Int64), nw.col("several_cards").max(), *month_span(),
    )
    return with_place(agg, att.entries).with_columns(
        evidence=nw.concat_str([
            who(), nw.lit(" "), nw.col("fund"), nw.lit(" "), span(), nw.lit(" 有 "),
            count("months", "个月"), nw.lit("重复发放（共 "), count("n_payments", "笔"),
            nw.when(nw.col("several_cards")).then(nw.lit("，入不同的卡")).otherwise(nw.lit("")),
            nw.lit("），多发 "), money(),
        ]),
    )


RULE = Rule(
    code="P04",
    name="重复发放",
    title="paid twice for one period",
    severity="high",
    needs={"roll": ("fund", "card_no"), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*ROLL_ENTRY, "id_number", "monthly_amount"), "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
