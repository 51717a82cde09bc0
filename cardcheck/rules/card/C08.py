"""C08 长期未动用: subsidies keep arriving on a card nobody draws on.

Finds: every card of the transactions file with min_idle_months or more consecutive months,
from a month with a credit to a later month with a credit, without a single debit in between
(no ATM, POS, counter or transfer), while subsidies keep being credited (credit transactions, or
the card's payments when larger). amount = the credits of those months; months = the span.
Why: money that piles up untouched suggests a beneficiary who died, moved or never knew of the
card, or a card kept by someone waiting to draw it all at once (私存扣留); the campaign asks
"卡在哪里, 谁在用卡".
Known false positive: old people or orphans' guardians who save on purpose; the inspector
confirms by a visit. A card whose bank export misses debits looks idle too.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.rules.base import Context, Rule, month_index, month_text, text, yuan
from cardcheck.rules.card.common import PLACE, card_months, shared_households, shared_owners


def idle_runs(months: nw.LazyFrame) -> nw.LazyFrame:
    """(card_no, run, first_month, last_month, span, amount, credits): the credited months
    between two debit months, per card."""
    return (
        months.with_columns(
            run=nw.col("debit").cum_sum().over("card_no", order_by="month").cast(nw.Int64))
        .filter((nw.col("debit") == 0) & (nw.col("credit") > 0))
        .group_by("card_no", "run")
        .agg(nw.col("month").min().cast(nw.Int32).alias("first_month"),
             nw.col("month").max().cast(nw.Int32).alias("last_month"),
             nw.col("credit").sum().cast(nw.Int64).alias("amount"),
             nw.len().cast(nw.Int64).alias("credits"))  # months with a credit
        .with_columns(span=(month_index(nw.col("last_month"))
                            - month_index(nw.col("first_month")) + 1).cast(nw.Int32))
    )


def check(ctx: Context) -> nw.LazyFrame:
    least = int(ctx.params["min_idle_months"])
    # the cards of the transactions file (a card with payments only has no debits to see)
    months = card_months(ctx).filter(nw.col("moves").sum().over("card_no") > 0)
    runs = idle_runs(months)
    idle = (
        runs.filter(nw.col("span") >= least)
        .group_by("card_no")
        .agg(nw.col("first_month").min(), nw.col("last_month").max(),
             nw.col("span").sum().cast(nw.Int32).alias("months"),
             nw.col("span").max().alias("longest"),
             nw.col("amount").sum().cast(nw.Int64), nw.col("credits").sum())
    )
    return (
        idle.join(shared_owners(ctx).select("card_no", "household_id", "id_number", "name"),
                  on="card_no", how="left")
        .join(shared_households(ctx).drop("head_id"), on="household_id", how="left")
        .with_columns(evidence=nw.concat_str([
            nw.lit("卡 "), mask_card(nw.col("card_no")), nw.lit(" ("),
            nw.when(nw.col("head_name").is_null()).then(nw.lit("名册无此卡"))
            .otherwise(nw.concat_str([nw.col("head_name"), nw.lit("户")])),
            nw.lit(") 自 "), month_text(nw.col("first_month")), nw.lit(" 至 "),
            month_text(nw.col("last_month")), nw.lit(" 最长连续 "), text(nw.col("longest")),
            nw.lit(" 个月有补贴入账却无任何支取, 期间 "), text(nw.col("credits")),
            nw.lit(" 个月入账共 "), yuan(nw.col("amount")), nw.lit(" 元"),
        ]))
    )


RULE = Rule(
    code="C08",
    name="长期未动用",
    title="card credited for months, never drawn on",
    severity="medium",
    needs={"transactions": ("card_no", "txn_month", "direction", "amount"),
           "roll": ("household_id", "card_no"), "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", *PLACE), "payments": ("pay_date",)},
    check=check,
    doc=__doc__ or "",
)
