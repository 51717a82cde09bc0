"""C03 救助对象与持卡人不一致: the card a beneficiary is paid on is held by someone else.

Finds: every roll entry (a person's fund, or a household's household-level fund) whose
registered card is held, in the bank's account master, by someone who is neither the
beneficiary, nor the payee registered on the roll (代领人, guardian of an orphan or a minor),
nor — for household-level funds — a member of the household. IDs are compared when both sides
have usable IDs, name keys otherwise (so 阿卜杜·艾力 and 阿卜杜.艾力 are one name). The hub is the
holder (holder:ID, or holder:name when the bank has no usable ID).
Why: money paid onto a card someone else holds is money the beneficiary may never see
(代管代取, 私存扣留); the campaign requires 救助对象与持卡人一致.
Known false positive: a guardian or 代领人 who is not recorded on the roll (payee columns empty)
holds the card legitimately; the evidence names the holder so the inspector can check the file.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card, mask_id
from cardcheck.rules.base import Context, Rule, text, yuan
from cardcheck.rules.card.common import (
    PLACE,
    attribute,
    id_like,
    no_money,
    same_person,
    shared_households,
    span,
    totals,
    usable,
)

ENTRY = ["entry", "fund", "card_no"]


def check(ctx: Context) -> nw.LazyFrame:
    cfg = ctx.config
    hh = cfg.household_funds
    roll = ctx.table("roll")
    rows = roll.filter(~nw.col("card_no").is_null() & ~nw.col("fund").is_null()).with_columns(
        household_level=nw.col("fund").is_in(hh),
        entry=nw.when(nw.col("fund").is_in(hh))
        .then(nw.concat_str([nw.lit("H:"), nw.col("household_id").fill_null("")]))
        .otherwise(nw.concat_str([
            nw.lit("P:"), nw.col("id_number").fill_null(nw.col("name_key")).fill_null("")])),
    )
    cand = ["cand_id", "cand_ok", "cand_key"]
    itself = rows.filter(~nw.col("household_level")).select(
        *ENTRY, nw.col("id_number").alias("cand_id"), usable("id_status").alias("cand_ok"),
        nw.col("name_key").alias("cand_key"))
    payee = rows.filter(~nw.col("payee_id").is_null() | ~nw.col("payee_name_key").is_null()).select(
        *ENTRY, nw.col("payee_id").alias("cand_id"),
        id_like("payee_id").alias("cand_ok"),
        nw.col("payee_name_key").alias("cand_key"))
    members = roll.select(
        "household_id", nw.col("id_number").alias("cand_id"), usable("id_status").alias("cand_ok"),
        nw.col("name_key").alias("cand_key"))
    household = (rows.filter(nw.col("household_level")).select(*ENTRY, "household_id").unique()
                 .join(members, on="household_id", how="inner").select(*ENTRY, *cand))
    allowed = nw.concat([itself, payee, household])

    acct = (ctx.table("accounts")
            .filter(~nw.col("holder_id").is_null() | ~nw.col("holder_name_key").is_null())
            .select("card_no", "holder_name", "holder_id", "holder_name_key",
                    usable("holder_id_status").fill_null(False).alias("holder_ok")))
    # (kept: few rows, used to pick the payments and again for the findings)
    judged = ctx.keep(
        allowed.join(acct, on="card_no", how="inner")
        .with_columns(ok=same_person("holder_id", "holder_ok", "holder_name_key",
                                     "cand_id", "cand_ok", "cand_key").cast(nw.Int32))
        .group_by(*ENTRY).agg(nw.col("ok").max())
        .filter(nw.col("ok") == 0)
    )
    entries = rows.group_by(*ENTRY).agg(
        nw.col("household_id").min(), nw.col("id_number").min(), nw.col("name").min(),
        nw.col("household_level").max())
    pays = ctx.table("payments").join(judged.select("card_no").unique(), on="card_no", how="semi")
    money = totals(attribute(pays, roll, cfg).filter(~nw.col("fund").is_null()),
                   ["card_no", "fund"])
    holder_text = nw.concat_str([
        text(nw.col("holder_name")),
        nw.when(nw.col("holder_id").is_null()).then(nw.lit(""))
        .otherwise(nw.concat_str([nw.lit(" (证件号 "), mask_id(nw.col("holder_id")), nw.lit(")")])),
    ])
    return no_money(
        judged.join(entries, on=ENTRY, how="inner")
        .join(acct, on="card_no", how="inner")
        .join(shared_households(ctx), on="household_id", how="left")
        .join(money, on=["card_no", "fund"], how="left")
    ).with_columns(
        id_number=nw.when(nw.col("household_level")).then(nw.col("head_id"))
        .otherwise(nw.col("id_number")),
        name=nw.when(nw.col("household_level")).then(nw.col("head_name"))
        .otherwise(nw.col("name")),
    ).with_columns(
        hub=nw.concat_str([nw.lit("holder:"), nw.when(nw.col("holder_ok"))
                           .then(nw.col("holder_id")).otherwise(nw.col("holder_name_key"))]),
        evidence=nw.concat_str([
            text(nw.col("name")),
            nw.when(nw.col("household_level")).then(nw.lit("户")).otherwise(nw.lit("")),
            nw.lit(" "), text(nw.col("fund")), nw.lit(" 的发放卡 "), mask_card(nw.col("card_no")),
            nw.lit(" 开户人为 "), text(holder_text),
            nw.lit(", 既非救助对象本人, 也非名册登记的代领人或监护人"),
            nw.when(nw.col("household_level")).then(nw.lit(", 也非同户成员"))
            .otherwise(nw.lit("")),
            nw.lit("; 期内入账 "), yuan(nw.col("amount")), nw.lit(" 元"),
            span(nw.col("first_month"), nw.col("last_month")),
        ])
    )


RULE = Rule(
    code="C03",
    name="救助对象与持卡人不一致",
    title="card held by someone else",
    severity="high",
    needs={"roll": ("household_id", "fund", "card_no"),
           "accounts": ("card_no", "holder_name_key"),
           "payments": ("card_no", "amount")},
    uses={"roll": ("id_number", "name", "relation", "payee_id", "payee_name", *PLACE),
          "accounts": ("holder_name", "holder_id"), "payments": ("pay_date", "memo")},
    check=check,
    doc=__doc__ or "",
)
