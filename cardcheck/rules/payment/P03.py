"""P03 金额不符: what an entry was paid for a month differs from its approved amount.

Finds: every (entry, period) with attributed payments whose sum differs from the approved
amount (the sum of the members' amounts for household-level funds, and for a person-level fund
the roll registers on one card for several people — orphan siblings under one guardian, two
disabled members on the 户主's card — the sum of those active that month) by more than
`tolerance_fen`, in either direction. Over-payment made of two or more payments is P04's (重复
发放) and is left out here. One finding per entry; amount = the absolute differences added up
(多发 and 少发 both count); the evidence gives 多发 and 少发 separately. One-off funds are
skipped. A card unit's finding names every member on the card.
Why: paying more than approved (多发) or less (少发, 克扣) is what 足额发放 forbids.
Known false positive: a roll amount changed in the middle of the period (a re-assessment)
before the roll file was exported: the months before the change look wrong. The evidence shows
the approved amount used.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule, yuan
from cardcheck.rules.payment.attribution import (
    CARD_UNIT,
    ENTRY,
    PAID_BY,
    ROLL_ENTRY,
    month_span,
    prepare,
    with_place,
)
from cardcheck.rules.payment.evidence import count, money, span, who
from cardcheck.rules.payment.periods import one_off_funds


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    tol = int(ctx.params["tolerance_fen"])
    per = (
        att.per_period().filter(~nw.col("approved").is_null())
        .with_columns(diff=nw.col("paid") - nw.col("approved"))
        .filter((nw.col("diff").abs() > tol)
                & ~((nw.col("n_payments") >= 2) & (nw.col("diff") > tol)))
    )
    over = nw.when(nw.col("diff") > 0).then(nw.col("diff")).otherwise(nw.lit(0))
    under = nw.when(nw.col("diff") < 0).then(-nw.col("diff")).otherwise(nw.lit(0))
    agg = per.with_columns(over=over, under=under).group_by(*ENTRY).agg(
        nw.col("over").sum().cast(nw.Int64), nw.col("under").sum().cast(nw.Int64),
        nw.col("approved").min().alias("approved_min"), nw.col("approved").max(),
        *month_span(),
    )
    approved = nw.when(nw.col("approved_min") == nw.col("approved")) \
        .then(yuan(nw.col("approved"))) \
        .otherwise(nw.concat_str([yuan(nw.col("approved_min")), nw.lit("–"),
                                  yuan(nw.col("approved"))]))
    # (an entry has one fund, so one-off funds are left out per entry, after the sums)
    return with_place(agg, att.entries).filter(
        ~nw.col("fund").is_in(one_off_funds(ctx.config))
    ).with_columns(
        amount=nw.col("over") + nw.col("under"),
    ).with_columns(
        evidence=nw.concat_str([
            who(), nw.lit(" "), nw.col("fund"), nw.lit(" "), span(), nw.lit(" 有 "),
            count("months", "个月"), nw.lit("实发与核定（每月 "), approved,
            nw.when(nw.col("entry_type") == CARD_UNIT).then(nw.lit(" 元，同卡合计）不符："))
            .otherwise(nw.lit(" 元）不符：")),
            nw.when(nw.col("over") > 0)
            .then(nw.concat_str([nw.lit("多发 "), money("over")])).otherwise(nw.lit("")),
            nw.when((nw.col("over") > 0) & (nw.col("under") > 0)).then(nw.lit("，"))
            .otherwise(nw.lit("")),
            nw.when(nw.col("under") > 0)
            .then(nw.concat_str([nw.lit("少发 "), money("under")])).otherwise(nw.lit("")),
        ]),
    )


RULE = Rule(
    code="P03",
    name="金额不符",
    title="paid amount differs from approved",
    severity="medium",
    needs={"roll": ("fund", "monthly_amount"), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*ROLL_ENTRY, "id_number", "card_no"), "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
