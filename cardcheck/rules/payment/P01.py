"""P01 无名册发放: money paid to a card that is not on the roll, or not for that fund.

Finds: payments that cannot be matched to any roll entry — the card is on no roll row (and the
payment carries no ID number of a beneficiary with that fund), or the card is on the roll but
none of its entries has the fund the memo names. One finding per card and fund, with the months,
the number of payments and the money.
Why: every subsidy must go to an approved beneficiary (名册内发放); money to a card outside the
roll is the classic 虚报冒领 or 挪用 pattern.
Known false positive: a beneficiary who changed cards (挂失换卡) while the roll still lists the
old card, with a bank file that carries no ID numbers; the evidence names the account holder so
the inspector can check the new card against the person.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.rules.base import Context, Rule, text
from cardcheck.rules.payment.attribution import (
    CARD_NOT_ON_ROLL,
    FUND_NOT_ON_ROLL,
    PAID_BY,
    ROLL_ENTRY,
    month_span,
    prepare,
)
from cardcheck.rules.payment.evidence import count, fund_label, money, span


def check(ctx: Context) -> nw.LazyFrame:
    att = prepare(ctx)
    bad = att.payments.filter(
        nw.col("unattributed_reason").is_in([CARD_NOT_ON_ROLL, FUND_NOT_ON_ROLL])
    ).with_columns(
        fund=nw.when(nw.col("fund").is_null()).then(nw.col("memo_family"))
        .otherwise(nw.col("fund"))
    )
    per_card = bad.group_by("card_no", "fund", "pay_id_number", "unattributed_reason").agg(
        nw.col("amount").sum().cast(nw.Int64), nw.len().alias("n_payments"),
        nw.col("account_name").min(), *month_span(),
    )
    # a card that is on the roll (for other funds) is placed where the roll puts it
    head = nw.col("relation").fill_null("") == "户主"
    card_info = (
        att.rows.filter(~nw.col("card_no").is_null())
        .with_columns(head_id=nw.when(head).then(nw.col("member_id")))
        .group_by("card_no").agg(
            nw.col("household_id").min(), nw.col("region_code").min(),
            nw.col("township").min(), nw.col("village").min(),
            nw.col("head_id").min(), nw.col("member_id").min(),
        )
    )
    not_on_roll = nw.col("unattributed_reason") == CARD_NOT_ON_ROLL
    return (
        per_card.join(card_info, on="card_no", how="left")
        .with_columns(
            name=nw.col("account_name"),
            id_number=nw.when(~nw.col("pay_id_number").is_null()).then(nw.col("pay_id_number"))
            .otherwise(nw.when(nw.col("head_id").is_null()).then(nw.col("member_id"))
                       .otherwise(nw.col("head_id"))),
            evidence=nw.concat_str([
                nw.lit("卡 "), mask_card(nw.col("card_no")),
                nw.when(nw.col("account_name").is_null()).then(nw.lit(" "))
                .otherwise(nw.concat_str([nw.lit("（户名 "), text(nw.col("account_name")),
                                          nw.lit("）")])),
                nw.when(not_on_roll).then(nw.lit("不在救助名册上"))
                .otherwise(nw.concat_str([nw.lit("在名册上没有"), fund_label()])),
                nw.lit("，"), span(), nw.lit(" 收到"), fund_label(), nw.lit(" "),
                count("n_payments", "笔"), nw.lit("共 "), money(),
            ]),
        )
    )


RULE = Rule(
    code="P01",
    name="无名册发放",
    title="paid without a roll entry",
    severity="high",
    needs={"roll": ("fund", "card_no"), "payments": ("card_no", "amount", "pay_date")},
    uses={"roll": (*ROLL_ENTRY, "id_number"), "payments": (*PAID_BY, "account_name")},
    check=check,
    doc=__doc__ or "",
)
