"""C01 一人多卡: one beneficiary paid through, or registered to, more than one card.

Finds: every (person, card) pair of a beneficiary linked to two or more distinct cards in the
period, by the roll (the card registered for any of the person's funds) or by payments that carry
the person's ID number.
Why: the campaign requires one card per person for all subsidies (一人一卡); extra cards are how
payments are split, duplicated or kept by others.
Known false positive: a card replaced after loss (挂失换卡) shows the old and the new card in one
period; the evidence lists both cards' months so the inspector can tell.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.model import ID_USABLE
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import PLACE


def check(ctx: Context) -> nw.LazyFrame:
    roll = ctx.table("roll").filter(nw.col("id_status").is_in(list(ID_USABLE)))
    person = roll.group_by("id_number").agg(
        nw.col("name").min(), nw.col("household_id").min(), nw.col("region_code").min(),
        nw.col("township").min(), nw.col("village").min(),
    )
    registered = (
        roll.filter(~nw.col("card_no").is_null())
        .select("id_number", "card_no").unique()
    )
    pays = ctx.table("payments").filter(~nw.col("card_no").is_null())
    by_id = (
        pays.filter(~nw.col("id_number").is_null())
        .join(person.select("id_number"), on="id_number", how="semi")
        .select("id_number", "card_no").unique()
    )
    # (kept: each is used twice below, and would be computed again for every use)
    links = ctx.keep(nw.concat([registered, by_id]).unique())
    many = ctx.keep(
        links.group_by("id_number").agg(nw.col("card_no").n_unique().alias("n_cards"))
        .filter(nw.col("n_cards") >= 2)
    )
    # money and months paid on each linked card (payments by card, or by the person's ID)
    paid = (
        pays.join(links.join(many, on="id_number", how="semi"), on="card_no", how="inner")
        .filter(nw.col("id_number").is_null() | (nw.col("id_number") == nw.col("id_number_right")))
        .group_by("id_number_right", "card_no")
        .agg(
            nw.col("amount").sum().cast(nw.Int64).alias("amount"),
            nw.col("pay_month").min().alias("first_month"),
            nw.col("pay_month").max().alias("last_month"),
            nw.col("pay_month").n_unique().alias("months"),
        )
        .rename({"id_number_right": "id_number"})
    )
    return (
        links.join(many, on="id_number", how="inner")
        .join(person, on="id_number", how="left")
        .join(paid, on=["id_number", "card_no"], how="left")
        .with_columns(nw.col("amount").fill_null(0))
        .with_columns(
            evidence=nw.concat_str([
                text(nw.col("name")), nw.lit(" 名下有 "), text(nw.col("n_cards")),
                nw.lit(" 张发放卡; 本卡 "), mask_card(nw.col("card_no")),
                nw.lit(" 期内入账 "), yuan(nw.col("amount")), nw.lit(" 元"),
            ])
        )
    )


RULE = Rule(
    code="C01",
    name="一人多卡",
    title="one person, several cards",
    severity="high",
    needs={"roll": ("id_number", "card_no"), "payments": ("card_no", "amount")},
    uses={"roll": ("household_id", "name", *PLACE), "payments": ("id_number", "pay_date")},
    check=check,
    doc=__doc__ or "",
)
