"""E06 重复享受: one person receiving two mutually exclusive funds in the same month.

Finds: every person (usable ID) who, in one month, received both funds of a pair in
config.exclusive_pairs (城乡低保 + 特困供养, 特困供养 + 困难残疾人生活补贴 …). Receipt comes from
attributed payments; a household-level fund counts for every member of the household, at the
member's share. One finding per person and pair (fund = "A+B"); amount = the smaller of the
two funds' receipts in each such month, added up (the money that one of the two should not have
paid); months = the months with both.
Why: the policy forbids overlapping receipt (不得重复享受); it is a top audit finding (审计署
2021: 特困供养人员同时领取困难残疾人生活补贴).
Known false positive: the month a person moves from 低保 to 特困供养 (or back) when the old fund's
last payment and the new fund's first land in the same month for different months; the evidence
shows the months so the inspector can check the periods named in the memos.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.rules.base import Context, Rule, mask_card, mask_id, text
from cardcheck.rules.payment.attribution import month_span, prepare
from cardcheck.rules.payment.evidence import count, money, span
from cardcheck.rules.payment.receipts import PLACE, receipts


def check(ctx: Context) -> nw.LazyFrame:
    got = receipts(prepare(ctx)).group_by("id_number", "fund", "period").agg(
        *(nw.col(c).min() for c in PLACE), nw.col("card_no").min(),
        nw.col("paid").sum().cast(nw.Int64),
    )
    parts = []
    for a, b in ctx.config.exclusive_pairs:
        left = got.filter(nw.col("fund") == a)
        right = got.filter(nw.col("fund") == b).select(
            "id_number", "period", nw.col("paid").alias("paid_b"), nw.col("card_no").alias("card_b"),
        )
        both = left.join(right, on=["id_number", "period"], how="inner").with_columns(
            fund=nw.lit(f"{a}+{b}"), fund_a=nw.lit(a), fund_b=nw.lit(b),
            smaller=nw.when(nw.col("paid") < nw.col("paid_b")).then(nw.col("paid"))
            .otherwise(nw.col("paid_b")),
        )
        parts.append(both.select(
            "id_number", *PLACE, "fund", "fund_a", "fund_b", "period", "smaller", "paid",
            "paid_b", "card_no", "card_b",
        ))
    if not parts:
        return got.head(0)
    pairs = nw.concat(parts, how="vertical")
    agg = pairs.group_by("id_number", "fund").agg(
        *(nw.col(c).min() for c in [*PLACE, "fund_a", "fund_b", "card_no", "card_b"]),
        nw.col("smaller").sum().cast(nw.Int64).alias("amount"),
        nw.col("paid").sum().cast(nw.Int64).alias("paid_a"),
        nw.col("paid_b").sum().cast(nw.Int64), *month_span(),
    )
    same_card = nw.col("card_no") == nw.col("card_b")
    return agg.with_columns(
        evidence=nw.concat_str([
            text(nw.col("name")), nw.lit("（"), mask_id(nw.col("id_number")), nw.lit("）"),
            span(), nw.lit(" 有 "), count("months", "个月"), nw.lit("同时领取"),
            nw.col("fund_a"), nw.lit(" "), money("paid_a"), nw.lit(" 和"), nw.col("fund_b"),
            nw.lit(" "), money("paid_b"),
            nw.when(same_card).then(nw.concat_str([nw.lit("（同入卡 "), mask_card(nw.col("card_no")),
                                                   nw.lit("）")]))
            .otherwise(nw.concat_str([nw.lit("（分别入卡 "), mask_card(nw.col("card_no")),
                                      nw.lit("、"), mask_card(nw.col("card_b")), nw.lit("）")])),
            nw.lit("，按较少一项计 "), money(),
        ])
    )


RULE = Rule(
    code="E06",
    name="重复享受",
    title="mutually exclusive funds in one month",
    severity="high",
    needs={"roll": ("id_number", "fund"), "payments": ("card_no", "amount", "pay_date")},
    check=check,
    doc=__doc__ or "",
)
