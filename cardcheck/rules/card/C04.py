"""C04 代管代取 / 私存扣留: one holder, agent, phone or address tied to many households' cards.

Finds: every card attached to an identifier shared by min_households or more different
households: the card holder's ID (accounts.holder_id), the ID of the agent who opened it
(accounts.agent_id), a phone (accounts.phone, or the roll's phone of the card's beneficiary), or
an address with a house number (accounts.address). Sharing inside one household is normal and
never counts. The finding's hub names the identifier (phone:138…); severity is raised to high
when the hub person, or the phone, belongs to someone on the officials list (table officials).
Why: cards kept, or opened and reserved with one phone, by a cadre or a relative are how
subsidies are withdrawn and kept by others (代管代取, 私存扣留); the bank's reserved phone is
where the card's SMS codes go.
Known false positive: a care home or a village's 代办员 who legitimately helps many old people
(the evidence says who), and addresses of one building (集体户); switch hubs off in rules.yaml.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card, mask_id, mask_phone
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import (
    PLACE,
    card_paid,
    no_money,
    shared_households,
    shared_owners,
    span,
    usable,
)

KINDS = {"holder": "持卡人", "agent": "代办人", "phone": "手机号", "address": "联系地址"}
EDGE = ["kind", "value", "card_no", "household_id", "who"]


def phone(col: str) -> nw.Expr:
    """A phone as digits only, 86 prefix dropped; null when shorter than seven digits."""
    digits = nw.col(col).str.replace_all(r"\D", "")
    digits = nw.when((digits.str.len_chars() == 13) & digits.str.starts_with("86")).then(
        digits.str.slice(2)).otherwise(digits)
    return nw.when(digits.str.len_chars() >= 7).then(digits)


def hub_edges(accounts: nw.LazyFrame, roll: nw.LazyFrame, kinds: list[str]) -> nw.LazyFrame:
    """(kind, value, card_no, household_id, who): which identifier touches which household's
    card; `who` is the holder's or agent's name as the bank wrote it."""
    card_hh = (roll.filter(~nw.col("card_no").is_null() & ~nw.col("household_id").is_null())
               .select("card_no", "household_id").unique())
    values = {
        "holder": nw.when(usable("holder_id_status")).then(nw.col("holder_id")),
        "agent": nw.col("agent_id"),
        "phone": phone("phone"),
        "address": nw.when(nw.col("address").str.contains(r"\d")).then(nw.col("address")),
    }
    who = {"holder": nw.col("holder_name"), "agent": nw.col("agent_name")}
    parts = [
        accounts.select("card_no", values[k].alias("value"),
                        who.get(k, nw.lit(None).cast(nw.String)).alias("who"))
        .with_columns(kind=nw.lit(k))
        .filter(~nw.col("value").is_null()).join(card_hh, on="card_no", how="inner").select(EDGE)
        for k in kinds
    ]
    if "phone" in kinds:
        parts.append(
            roll.filter(~nw.col("card_no").is_null() & ~nw.col("household_id").is_null())
            .select("card_no", "household_id", phone("phone").alias("value"))
            .filter(~nw.col("value").is_null())
            .with_columns(kind=nw.lit("phone"), who=nw.lit(None).cast(nw.String)).select(EDGE))
    return nw.concat(parts).unique()


def official_hubs(ctx: Context) -> nw.LazyFrame | None:
    """(kind, value, official): IDs of officials, and phones reserved on their cards or roll rows."""
    if not ctx.has("officials"):
        return None
    off = ctx.table("officials").filter(usable("id_status")).select(
        "id_number", nw.concat_str([text(nw.col("position")), nw.lit(" "), text(nw.col("name"))])
        .alias("official"))
    by_id = [off.select(nw.lit(k).alias("kind"), nw.col("id_number").alias("value"), "official")
             for k in ("holder", "agent")]
    acct_phone = ctx.table("accounts").select(
        nw.col("holder_id").alias("id_number"), phone("phone").alias("value"))
    roll_phone = ctx.table("roll").select("id_number", phone("phone").alias("value"))
    phones = (nw.concat([acct_phone, roll_phone]).filter(~nw.col("value").is_null())
              .join(off, on="id_number", how="inner")
              .select(nw.lit("phone").alias("kind"), "value", "official"))
    return nw.concat([*by_id, phones]).group_by("kind", "value").agg(nw.col("official").min())


def check(ctx: Context) -> nw.LazyFrame:
    kinds = [k for k in ctx.params["hubs"] if k in KINDS]
    base = str(ctx.config.rule_params("C04").get("severity", RULE.severity))
    roll = ctx.table("roll")
    edges = ctx.keep(hub_edges(ctx.table("accounts"), roll, kinds))  # used twice below
    groups = (
        edges.group_by("kind", "value")
        .agg(nw.col("household_id").n_unique().alias("n_households"),
             nw.col("card_no").n_unique().alias("n_cards"), nw.col("who").min())
        .filter(nw.col("n_households") >= int(ctx.params["min_households"]))
    )
    hit = (edges.join(groups, on=["kind", "value"], how="inner")
           .group_by("kind", "value", "card_no")
           .agg(nw.col("household_id").min(), nw.col("n_households").min(),
                nw.col("n_cards").min(), nw.col("who").min()))
    officials = official_hubs(ctx)
    if officials is None:
        hit = hit.with_columns(official=nw.lit(None).cast(nw.String))
    else:
        hit = hit.join(officials, on=["kind", "value"], how="left")
    owner = shared_owners(ctx).select("card_no", "id_number", "name")
    shown = nw.col("value")
    for kind, mask in (("holder", mask_id), ("agent", mask_id), ("phone", mask_phone)):
        shown = nw.when(nw.col("kind") == kind).then(mask(nw.col("value"))).otherwise(shown)
    shown = nw.when(nw.col("who").is_null()).then(shown).otherwise(
        nw.concat_str([nw.col("who"), nw.lit(" ("), shown, nw.lit(")")]))
    label = nw.lit("")
    for kind, chinese in KINDS.items():
        label = nw.when(nw.col("kind") == kind).then(nw.lit(chinese)).otherwise(label)
    return no_money(
        hit.join(owner, on="card_no", how="left")
        .join(shared_households(ctx).drop("head_id"), on="household_id", how="left")
        .join(card_paid(ctx), on="card_no", how="left")
    ).with_columns(
        hub=nw.concat_str([nw.col("kind"), nw.lit(":"), nw.col("value")]),
        severity=nw.when(nw.col("official").is_null()).then(nw.lit(base))
        .otherwise(nw.lit("high")),
        evidence=nw.concat_str([
            label, nw.lit(" "), shown, nw.lit(" 关联 "), text(nw.col("n_households")),
            nw.lit(" 户 "), text(nw.col("n_cards")), nw.lit(" 张卡 (分属不同户)"),
            nw.when(nw.col("official").is_null()).then(nw.lit(""))
            .otherwise(nw.concat_str([nw.lit(", 系 "), nw.col("official")])),
            nw.lit("; 本卡 "), mask_card(nw.col("card_no")), nw.lit(" ("),
            text(nw.col("head_name")), nw.lit("户) 期内入账 "), yuan(nw.col("amount")),
            nw.lit(" 元"), span(nw.col("first_month"), nw.col("last_month")),
        ]),
    )


RULE = Rule(
    code="C04",
    name="代管代取",
    title="one holder, agent, phone or address on many households' cards",
    severity="medium",
    needs={"roll": ("household_id", "card_no"), "accounts": ("card_no",),
           "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", "phone", *PLACE),
          "accounts": ("holder_name", "holder_id", "agent_name", "agent_id", "phone", "address"),
          "payments": ("pay_date",), "officials": ("id_number", "name", "position")},
    check=check,
    doc=__doc__ or "",
    optional=("officials",),
)
