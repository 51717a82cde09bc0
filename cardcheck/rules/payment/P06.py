"""P06 停保后仍发放: payments for months after the entry left the roll.

Finds: attributed payments whose period is after the month of the entry's end_date (for a
household-level fund: after the last member row ended; an entry with any open row has not
ended). One finding per entry: the months paid after the stop and the money.
Why: a stop (停保) that does not reach the bank keeps paying — the money is recoverable and the
gap between the civil-affairs system and the bank file is the control failure.
Known false positive: a final payment for the stop month itself, made with the next month's
batch and a memo naming the pay month instead of the period; the evidence gives the stop month.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule, month_text
from cardcheck.rules.payment.attribution import (
    ENTRY,
    PAID_BY,
    ROLL_ENTRY,
    month_span,
    prepare,
    with_place,
)
from cardcheck.rules.payment.evidence import count, money, span, who
from cardcheck.rules.payment.periods import NO_END


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    after = (
        att.attributed.join(att.entries.select(*ENTRY, nw.col("end_month").alias("stop")),
                            on=ENTRY, how="inner")
        .filter((nw.col("stop") != NO_END) & (nw.col("period") > nw.col("stop")))
    )
    agg = after.group_by(*ENTRY).agg(nw.col("amount").sum().cast(nw.Int64), *month_span())
    return with_place(agg, att.entries).with_columns(
        evidence=nw.concat_str([
            who(), nw.lit(" "), nw.col("fund"), nw.lit(" 已于 "), month_text(nw.col("end_month")),
            nw.lit(" 停保，"), span(), nw.lit(" 仍发放 "), count("months", "个月"),
            nw.lit("，共 "), money(),
        ]),
    )


RULE = Rule(
    code="P06",
    name="停保后仍发放",
    title="paid after the roll entry ended",
    severity="high",
    needs={"roll": ("fund", "card_no", "end_date"), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*(c for c in ROLL_ENTRY if c != "end_date"), "id_number"),
          "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
