"""C06 借他人名义办卡: a beneficiary card opened through an agent with no tie to it.

Finds: every card on the roll or paid in the period that the bank's account master says was
opened through an agent (agent_id / agent_name_key) who is neither the holder, nor a member of
the holder's household or of a household the card is registered to, nor the payee (代领人,
guardian) registered on the roll for that card. IDs are compared when both sides have usable
IDs, name keys otherwise. The hub is the agent (agent:ID, or agent:name when the bank kept no ID).
Why: cards opened in a beneficiary's name by a cadre, a bank clerk or a relative outside the
household are how cards end up kept by others (借他人名义违规办卡, 代管代取).
Known false positive: a village 代办员 or a care-home worker authorised in writing to open cards
for bedridden people; such agents recur on many cards (see C04 for the count).
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card, mask_id
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import (
    PLACE,
    card_paid,
    id_like,
    no_money,
    same_person,
    shared_households,
    shared_owners,
    span,
    usable,
)

CAND = ["card_no", "cand_id", "cand_ok", "cand_key"]


def check(ctx: Context) -> nw.LazyFrame:
    roll, pays = ctx.table("roll"), ctx.table("payments")
    subsidy_cards = nw.concat([
        roll.filter(~nw.col("card_no").is_null()).select("card_no"),
        pays.filter(~nw.col("card_no").is_null()).select("card_no"),
    ]).unique()
    agented = (
        ctx.table("accounts")
        .filter(~nw.col("agent_id").is_null() | ~nw.col("agent_name_key").is_null())
        .join(subsidy_cards, on="card_no", how="semi")
        .with_columns(
            holder_ok=usable("holder_id_status").fill_null(False),
            agent_ok=id_like("agent_id"),
        )
    )
    holder = agented.select("card_no", nw.col("holder_id").alias("cand_id"),
                            nw.col("holder_ok").alias("cand_ok"),
                            nw.col("holder_name_key").alias("cand_key"))
    card_hh = (roll.filter(~nw.col("card_no").is_null() & ~nw.col("household_id").is_null())
               .select("card_no", "household_id"))
    holder_hh = (agented.filter(nw.col("holder_ok")).select("card_no", "holder_id")
                 .join(roll.filter(usable("id_status")).select("id_number", "household_id"),
                       left_on="holder_id", right_on="id_number", how="inner")
                 .select("card_no", "household_id"))
    members = roll.select("household_id", nw.col("id_number").alias("cand_id"),
                          usable("id_status").alias("cand_ok"), nw.col("name_key").alias("cand_key"))
    household = (nw.concat([card_hh, holder_hh]).unique()
                 .join(members, on="household_id", how="inner").select(CAND))
    payee = (roll.filter(~nw.col("card_no").is_null()
                         & (~nw.col("payee_id").is_null() | ~nw.col("payee_name_key").is_null()))
             .select("card_no", nw.col("payee_id").alias("cand_id"),
                     id_like("payee_id").alias("cand_ok"),
                     nw.col("payee_name_key").alias("cand_key")))
    tied = (
        nw.concat([holder, household, payee])
        .join(agented.select("card_no", "agent_id", "agent_ok", "agent_name_key"),
              on="card_no", how="inner")
        .filter(same_person("agent_id", "agent_ok", "agent_name_key",
                            "cand_id", "cand_ok", "cand_key"))
        .select("card_no").unique()
    )
    agent_text = nw.concat_str([
        text(nw.col("agent_name")),
        nw.when(nw.col("agent_id").is_null()).then(nw.lit("")).otherwise(
            nw.concat_str([nw.lit(" ("), mask_id(nw.col("agent_id")), nw.lit(")")])),
    ])
    return no_money(
        agented.join(tied, on="card_no", how="anti")
        .join(shared_owners(ctx).select("card_no", "household_id", "id_number", "name"),
              on="card_no", how="left")
        .join(shared_households(ctx).drop("head_id"), on="household_id", how="left")
        .join(card_paid(ctx), on="card_no", how="left")
    ).with_columns(
        hub=nw.concat_str([nw.lit("agent:"),
                           nw.col("agent_id").fill_null(nw.col("agent_name_key"))]),
        evidence=nw.concat_str([
            nw.lit("卡 "), mask_card(nw.col("card_no")), nw.lit(" ("),
            nw.when(nw.col("head_name").is_null()).then(nw.lit("名册无此卡"))
            .otherwise(nw.concat_str([nw.col("head_name"), nw.lit("户")])),
            nw.lit(", 开户人 "), text(nw.col("holder_name")), nw.lit(") 由 "), agent_text,
            nw.lit(" 代办开户, 代办人既非开户人本人或同户成员, 也非登记的代领人或监护人; 期内入账 "),
            yuan(nw.col("amount")), nw.lit(" 元"),
            span(nw.col("first_month"), nw.col("last_month")),
        ]),
    )


RULE = Rule(
    code="C06",
    name="借他人名义办卡",
    title="card opened through an unrelated agent",
    severity="medium",
    needs={"accounts": ("card_no", "agent_name_key"), "roll": ("household_id", "card_no"),
           "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", "payee_id", "payee_name", *PLACE),
          "accounts": ("agent_name", "agent_id", "holder_name", "holder_id"),
          "payments": ("pay_date",)},
    check=check,
    doc=__doc__ or "",
)
