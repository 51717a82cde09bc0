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

from cardcheck.masking import mask_card, mask_id
from cardcheck.rules.base import Context, Rule, text
from cardcheck.rules.payment.attribution import PAID_BY, ROLL_ENTRY, month_span, prepare
from cardcheck.rules.payment.evidence import count, money, span
from cardcheck.rules.payment.receipts import shared_receipts, with_people


def _holding_a_pair(ctx: Context, firsts: list[str], seconds: list[str],
                    is_pair: nw.Expr) -> nw.LazyFrame:
    """IDs the roll lists under both funds of a pair: the only people who can receive both (a
    receipt's ID and fund are always those of a roll row), found on the roll rows so that
    receipts are built for them only."""
    held = prepare(ctx).rows.filter(~nw.col("member_id").is_null()) \
        .select(nw.col("member_id").alias("id_number"), "fund").unique()
    return (
        held.filter(nw.col("fund").is_in(firsts))
        .join(held.filter(nw.col("fund").is_in(seconds)).rename({"fund": "fund_b"}),
              on="id_number", how="inner")
        .filter(is_pair).select("id_number").unique()
    )


def check(ctx: Context) -> nw.LazyFrame:
    pairs = ctx.config.exclusive_pairs
    if not pairs:
        return shared_receipts(ctx).head(0)
    firsts = sorted({a for a, _ in pairs})
    seconds = sorted({b for _, b in pairs})
    is_pair = nw.lit(False)
    for a, b in pairs:
        is_pair = is_pair | ((nw.col("fund") == a) & (nw.col("fund_b") == b))
    got = (
        shared_receipts(ctx, _holding_a_pair(ctx, firsts, seconds, is_pair))
        .group_by("id_number", "fund", "period").agg(
            nw.col("household_id").min(), nw.col("card_no").min(),
            nw.col("paid").sum().cast(nw.Int64),
        )
    )
    right = got.filter(nw.col("fund").is_in(seconds)).select(
        "id_number", "period", nw.col("fund").alias("fund_b"), nw.col("paid").alias("paid_b"),
        nw.col("card_no").alias("card_b"),
    )
    both = (
        got.filter(nw.col("fund").is_in(firsts))
        .join(right, on=["id_number", "period"], how="inner")
        .filter(is_pair)
        .with_columns(
            fund_a=nw.col("fund"),
            fund=nw.concat_str([nw.col("fund"), nw.lit("+"), nw.col("fund_b")]),
            smaller=nw.when(nw.col("paid") < nw.col("paid_b")).then(nw.col("paid"))
            .otherwise(nw.col("paid_b")),
        )
    )
    agg = with_people(ctx, both.group_by("id_number", "fund").agg(
        *(nw.col(c).min() for c in ["household_id", "fund_a", "fund_b", "card_no", "card_b"]),
        nw.col("smaller").sum().cast(nw.Int64).alias("amount"),
        nw.col("paid").sum().cast(nw.Int64).alias("paid_a"),
        nw.col("paid_b").sum().cast(nw.Int64), *month_span(),
    ))
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
    uses={"roll": (*ROLL_ENTRY, "card_no", "monthly_amount"), "payments": PAID_BY},
    check=check,
    doc=__doc__ or "",
)
