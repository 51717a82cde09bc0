"""C02 一户多卡: one household's household-level fund (城乡低保) on more cards than allowed.

Finds: every (household, card) of a household whose household-level funds (config
household_funds, paid once a month to the household) reach more than max_cards_per_household
distinct cards in the period: cards registered on the household's 低保 rows of the roll, plus
cards that received a payment whose memo names the household's fund when the card is registered
to a member of the household (for any fund) or the payment carries a member's ID number.
Person-level funds are per person and are not counted.
Why: 低保 is approved and paid per household onto one card; a second card is how a household's
money is paid twice, split, or diverted to a member's or someone else's account.
Known false positive: a card replaced after loss (挂失换卡) or a household whose 低保 card was
changed to another member during the year shows two cards; the evidence gives each card's months.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import (
    PLACE,
    attribute,
    family_of,
    no_money,
    shared_households,
    span,
    usable,
)
from cardcheck.rules.payment.attribution import distinct_keys

KEYS = ["household_id", "fund", "card_no"]


def _memo_names(fund: str, family: str) -> nw.Expr:
    return (nw.col("memo_fund") == nw.col(fund)) | (
        nw.col("memo_fund").is_null() & (nw.col("memo_family") == nw.col(family))
    )


def check(ctx: Context) -> nw.LazyFrame:
    cfg, limit = ctx.config, int(ctx.params["max_cards_per_household"])
    roll = ctx.table("roll").filter(~nw.col("household_id").is_null())
    pays = ctx.table("payments").filter(~nw.col("card_no").is_null())
    hh_rows = roll.filter(nw.col("fund").is_in(cfg.household_funds))
    # (kept: each is used several times below, and would be computed again for every use)
    hh_funds = ctx.keep(hh_rows.select("household_id", "fund").unique().with_columns(
        family=family_of(nw.col("fund"), cfg)))
    registered = ctx.keep(hh_rows.filter(~nw.col("card_no").is_null()).select(KEYS).unique())
    member_cards = ctx.keep(roll.filter(~nw.col("card_no").is_null())
                            .select("household_id", "card_no").unique())
    members = (roll.filter(usable("id_status"))
               .select("household_id", nw.col("id_number").alias("payer_id")).unique())

    def memo_paid(named: nw.LazyFrame) -> nw.LazyFrame:
        """Payments whose memo names the household's fund, onto a member's other card or onto
        a card outside the household carrying a member's ID number."""
        on_member = (
            named.join(member_cards, on="card_no", how="inner")
            .join(hh_funds, on="household_id", how="inner").filter(_memo_names("fund", "family"))
            .join(registered, on=KEYS, how="anti"))
        on_other = (
            named.filter(~nw.col("id_number").is_null())
            .join(members, left_on="id_number", right_on="payer_id", how="inner")
            .join(member_cards, on=["household_id", "card_no"], how="anti")
            .join(hh_funds, on="household_id", how="inner").filter(_memo_names("fund", "family")))
        return nw.concat([on_member.select(named_cols), on_other.select(named_cols)])

    # pass 1: which cards, from the distinct memo readings per card (cheap at any scale)
    named_cols = [*KEYS, "id_number"]
    # (a memo naming funds of several families names no fund and no family: nothing to match,
    # so the distinct readings naming a fund or a family are all there is to look at)
    blank = nw.lit(None).cast(nw.String)
    readings = distinct_keys(ctx).filter(
        (nw.col("k_card") != "") & ((nw.col("k_fund") != "") | (nw.col("k_fam") != ""))
    ).select(
        nw.col("k_card").alias("card_no"),
        *(nw.when(nw.col(k) != "").then(nw.col(k)).otherwise(blank).alias(c)
          for k, c in [("k_id", "id_number"), ("k_fund", "memo_fund"), ("k_fam", "memo_family")]),
    )
    links = nw.concat([
        registered.with_columns(via=nw.lit("名册登记")),
        memo_paid(readings).select(KEYS).unique().with_columns(via=nw.lit("代发入账")),
    ])
    per_card = links.group_by("household_id", "card_no").agg(
        nw.col("fund").min(), nw.col("via").min())
    # (a window, not a group-by and a join: each frame is used once, which keeps SQL engines
    # from computing it again for every use)
    flagged = ctx.keep(per_card.with_columns(n_cards=nw.col("card_no").count().over("household_id"))
                       .filter(nw.col("n_cards") > limit))
    # pass 2: the money, from the payments onto the cards of those households only
    pays = pays.join(flagged.select("card_no").unique(), on="card_no", how="semi").with_columns(
        period=nw.col("memo_period").fill_null(nw.col("pay_month")).cast(nw.Int32))
    named_cols = [*KEYS, "amount", "period", "id_number"]
    paid = ctx.keep(nw.concat([
        attribute(pays, roll, cfg).join(registered, on=KEYS[1:], how="inner").select(named_cols),
        memo_paid(pays.filter(nw.col("memo_funds") > 0)),
    ]).group_by("household_id", "card_no").agg(
        nw.col("amount").sum().cast(nw.Int64).alias("amount"),
        nw.col("period").min().cast(nw.Int32).alias("first_month"),
        nw.col("period").max().cast(nw.Int32).alias("last_month"),
        nw.col("period").n_unique().cast(nw.Int32).alias("months"),
        nw.col("id_number").min().alias("paid_id")))
    # names and registered persons only for the flagged cards and the IDs paid onto them
    payers = paid.filter(~nw.col("paid_id").is_null()).select(
        nw.col("paid_id").alias("id_number")).unique()
    names = (roll.filter(usable("id_status")).join(payers, on="id_number", how="semi")
             .group_by("id_number").agg(nw.col("name").min().alias("paid_name")))
    on_flagged = roll.join(flagged.select("household_id", "card_no"),
                           on=["household_id", "card_no"], how="semi")
    return no_money(
        flagged.join(shared_households(ctx), on="household_id", how="left")
        .join(_registered_person(on_flagged), on=["household_id", "card_no"], how="left")
        .join(paid, on=["household_id", "card_no"], how="left")
        .join(names, left_on="paid_id", right_on="id_number", how="left")
    ).with_columns(
        id_number=nw.col("id_number").fill_null(nw.col("paid_id")).fill_null(nw.col("head_id")),
        name=nw.col("name").fill_null(nw.col("paid_name")).fill_null(nw.col("head_name")),
    ).with_columns(
        evidence=nw.concat_str([
            text(nw.col("head_name")), nw.lit("户 城乡低保类资金期内涉及 "),
            text(nw.col("n_cards")), nw.lit(" 张卡 (规定至多 "), nw.lit(str(limit)),
            nw.lit(" 张); 本卡 "), mask_card(nw.col("card_no")), nw.lit(" ("), text(nw.col("via")),
            nw.lit(", "), text(nw.col("name")), nw.lit(") "), text(nw.col("fund")),
            nw.lit(" 入账 "), yuan(nw.col("amount")), nw.lit(" 元"),
            span(nw.col("first_month"), nw.col("last_month")),
        ])
    )


def _registered_person(roll: nw.LazyFrame) -> nw.LazyFrame:
    """Whom each (household, card) is registered to on the roll: a 户主 first, else the
    smallest ID number."""
    rows = roll.filter(~nw.col("card_no").is_null()).with_columns(
        _rank=nw.concat_str([
            nw.when(nw.col("relation") == "户主").then(nw.lit("0")).otherwise(nw.lit("1")),
            nw.col("id_number").fill_null(""),
        ]))
    best = rows.group_by("household_id", "card_no").agg(nw.col("_rank").min())
    return (rows.join(best, on=["household_id", "card_no", "_rank"], how="inner")
            .group_by("household_id", "card_no")
            .agg(nw.col("id_number").min(), nw.col("name").min()))


RULE = Rule(
    code="C02",
    name="一户多卡",
    title="one household, several cards",
    severity="high",
    needs={"roll": ("household_id", "fund", "card_no"), "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", *PLACE),
          "payments": ("id_number", "pay_date", "memo")},
    check=check,
    doc=__doc__ or "",
)
