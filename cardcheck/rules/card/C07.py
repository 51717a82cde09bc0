"""C07 资金归集: subsidies of several households moved on to one outside account.

Finds: every card that transferred (transactions direction D with a counterparty_account) at
least min_share of what it was credited in the same months on to one account that is not itself
a beneficiary card (not on the roll, the account master, the payments or the transactions),
when that account collects so from the cards of min_households or more different households.
The hub is the collecting account (account:number); amount = what the card sent there.
Credits are the card's credit transactions of the month, or its payments when larger.
Why: money swept from many beneficiaries' cards to one account is how cards kept by a cadre or
an agent are emptied (代管代取, 私存扣留, 资金归集); each card alone looks like a transfer home.
Known false positive: a care home or nursing service billed by transfer from its residents'
cards; the evidence names the account holder as the bank shows it.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import PLACE, card_months, shared_households, shared_owners, span


def check(ctx: Context) -> nw.LazyFrame:
    roll, txns = ctx.table("roll"), ctx.table("transactions")
    share, min_hh = float(ctx.params["min_share"]), int(ctx.params["min_households"])
    # every card of ours: the roll's, the accounts', and those paid or moving money (card_months
    # holds the cards of the payments and transactions already, one row per month)
    ours = nw.concat([
        t.filter(~nw.col("card_no").is_null()).select("card_no")
        for t in (roll, ctx.table("accounts"), card_months(ctx))
    ]).unique()
    sent = (
        txns.filter((nw.col("direction") == "D") & ~nw.col("counterparty_account").is_null())
        .join(ours, left_on="counterparty_account", right_on="card_no", how="anti")
        .group_by("card_no", "counterparty_account", "txn_month")
        .agg(nw.col("amount").sum().cast(nw.Int64).alias("sent"),
             nw.col("counterparty_name").min())
    )
    credited = card_months(ctx).select("card_no", nw.col("month").alias("txn_month"), "credit")
    pairs = (
        sent.join(credited, on=["card_no", "txn_month"], how="left")
        .with_columns(credit=nw.col("credit").fill_null(0))
        .group_by("card_no", "counterparty_account")
        .agg(nw.col("sent").sum().cast(nw.Int64).alias("amount"),
             nw.col("credit").sum().cast(nw.Int64).alias("credit"),
             nw.col("txn_month").min().cast(nw.Int32).alias("first_month"),
             nw.col("txn_month").max().cast(nw.Int32).alias("last_month"),
             nw.col("txn_month").n_unique().cast(nw.Int32).alias("months"),
             nw.col("counterparty_name").min())
        .filter((nw.col("credit") > 0) & (nw.col("amount") >= nw.col("credit") * share))
        .join(shared_owners(ctx).select("card_no", "household_id", "id_number", "name"),
              on="card_no", how="left")
        .with_columns(_hh=nw.col("household_id").fill_null(
            nw.concat_str([nw.lit("card:"), nw.col("card_no")])))
    )
    # the collecting account's totals by group-by and join (Spark has no distinct-count window)
    totals = pairs.group_by("counterparty_account").agg(
        nw.col("_hh").n_unique().alias("n_households"),
        nw.col("card_no").n_unique().alias("n_cards"),
        nw.col("amount").sum().cast(nw.Int64).alias("hub_amount"),
        nw.col("counterparty_name").min().alias("hub_name"),
    ).filter(nw.col("n_households") >= min_hh)
    hubs = pairs.join(totals, on="counterparty_account", how="inner")
    pct = (nw.col("amount") * 100 // nw.col("credit")).cast(nw.Int64)
    return (
        hubs.join(shared_households(ctx).drop("head_id"), on="household_id", how="left")
        .with_columns(
            hub=nw.concat_str([nw.lit("account:"), nw.col("counterparty_account")]),
            evidence=nw.concat_str([
                nw.lit("卡 "), mask_card(nw.col("card_no")), nw.lit(" ("),
                nw.when(nw.col("head_name").is_null()).then(nw.lit("名册无此卡"))
                .otherwise(nw.concat_str([nw.col("head_name"), nw.lit("户")])),
                nw.lit(") 有 "), text(nw.col("months")), nw.lit(" 个月把当月入账的 "), text(pct),
                nw.lit("% 转至同一外部账户 "), mask_card(nw.col("counterparty_account")),
                nw.when(nw.col("hub_name").is_null()).then(nw.lit("")).otherwise(
                    nw.concat_str([nw.lit(" (户名 "), nw.col("hub_name"), nw.lit(")")])),
                nw.lit(", 共 "),
                yuan(nw.col("amount")), nw.lit(" 元"),
                span(nw.col("first_month"), nw.col("last_month")),
                nw.lit("; 该账户共归集 "), text(nw.col("n_households")), nw.lit(" 户 "),
                text(nw.col("n_cards")), nw.lit(" 张卡 "), yuan(nw.col("hub_amount")), nw.lit(" 元"),
            ]),
        )
    )


RULE = Rule(
    code="C07",
    name="资金归集",
    title="several households' money swept to one outside account",
    severity="high",
    needs={"transactions": ("card_no", "txn_month", "direction", "amount",
                            "counterparty_account"),
           "roll": ("household_id", "card_no"), "accounts": ("card_no",),
           "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", *PLACE),
          "transactions": ("counterparty_name",), "payments": ("pay_date",)},
    check=check,
    doc=__doc__ or "",
)
