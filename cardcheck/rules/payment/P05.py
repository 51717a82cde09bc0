"""P05 发放不及时: a payment made after its fund's deadline day of the month it is for.

Finds: attributed payments paid after `deadline_day` (configs/funds.yaml, per fund; capped at
the month's last day) of their period month — e.g. May's 农村低保 paid on 20 June. One finding
per entry (several people's person-level fund on one card is one entry, every member named):
the periods paid late, the money paid late and the worst delay in days. Severity is
the rule's (medium) unless some payment was more than `max_days_late` days late: then high. A
severity set for P05 in configs/rules.yaml applies to every finding.
Why: the campaign requires subsidies to reach the card on time (按时发放); a pattern of late
payment points to 滞留 or 拖延 in the township.
Known false positive: a back-payment (补发) for months approved after the fact — the roll's
start_date was entered late — looks late by design. The evidence gives the delay in days.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule, text
from cardcheck.rules.payment.attribution import (
    ENTRY,
    PAID_BY,
    ROLL_ENTRY,
    month_span,
    prepare,
    with_place,
)
from cardcheck.rules.payment.evidence import count, money, span, who
from cardcheck.rules.payment.periods import deadline_of, with_days_late


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    late = with_days_late(
        att.attributed.filter(~nw.col("period").is_null() & ~nw.col("pay_date").is_null()),
        "pay_date", "period", deadline_of(ctx.config),
    ).with_columns(deadline=deadline_of(ctx.config)).filter(nw.col("days_late") > 0)
    agg = late.group_by(*ENTRY).agg(
        nw.col("amount").sum().cast(nw.Int64), nw.col("days_late").max(),
        nw.col("deadline").max(), *month_span(),
    )
    out = with_place(agg, att.entries)
    if "severity" not in ctx.config.rule_params("P05"):
        limit = int(ctx.params["max_days_late"])
        out = out.with_columns(
            severity=nw.when(nw.col("days_late") > limit).then(nw.lit("high"))
            .otherwise(nw.lit(RULE.severity))
        )
    return out.with_columns(
        evidence=nw.concat_str([
            who(), nw.lit(" "), nw.col("fund"), nw.lit(" "), span(), nw.lit(" 有 "),
            count("months", "个月"), nw.lit("晚于所属月 "), text(nw.col("deadline")),
            nw.lit(" 日发放，最迟晚 "), count("days_late", "天"), nw.lit("，涉及 "), money(),
        ]),
    )


RULE = Rule(
    code="P05",
    name="发放不及时",
    title="paid late",
    severity="medium",
    needs={"roll": ("fund", "card_no"), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*ROLL_ENTRY, "id_number"), "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
