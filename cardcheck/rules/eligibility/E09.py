"""E09 身份信息错误: ID numbers that cannot be right, and one ID under different names.

Finds: on the roll and in the bank's accounts, ID numbers whose GB 11643 check digit fails, whose
birth date does not exist, whose shape is wrong, or whose digits Excel lost by storing them as a
number (medium); roll rows whose card number Excel cut the same way (the row loads without it); roll rows with no ID at all (medium); usable IDs whose first two digits are no
province (warning); and one usable ID under different names: twice on the roll, or on the roll
and in the bank's accounts (holder) or payments (account name). One finding per ID and problem.
Why: a wrong ID defeats every cross-check (deaths, prison, payroll, other counties' rolls), and
the campaign asks for 100% validation of identity data; one ID under two names means the roll,
the bank or both hold someone else's identity.
Known false positive: a name written with a variant character (乾/干, 珺/君) in one system; the
evidence shows both names so the inspector can tell. Money is not counted here (amount 0): the
payments at stake are counted by the rules that find where they went.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card, mask_id
from cardcheck.normalize.ids import PROVINCES
from cardcheck.rules.base import Context, Rule, text

USABLE = ["ok", "upgraded15"]
SHAPED = ["ok", "upgraded15", "bad_checksum", "bad_birth_date"]
REPORTED = ["precision_lost", "bad_checksum", "bad_birth_date", "bad_format"]
WHAT = {
    "precision_lost": "在 Excel 中被存成数字，后几位已丢失，无法用于比对",
    "bad_checksum": "校验位错误",
    "bad_birth_date": "出生日期不存在",
    "bad_format": "位数或格式不对",
    "bad_region": "前两位不是有效的省级行政区划代码",
}
PERSON = ("name", "household_id", "region_code", "township", "village", "fund", "card_no")


def _describe(problem: nw.Expr) -> nw.Expr:
    out = nw.lit("")
    for key, words in WHAT.items():
        out = nw.when(problem == key).then(nw.lit(words)).otherwise(out)
    return out


def _status_findings(ctx: Context) -> nw.LazyFrame:
    roll = ctx.table("roll").select(
        "id_number", nw.col("id_status").alias("problem"), *PERSON,
        nw.lit("名册").alias("source"))
    parts = [roll]
    if ctx.has("accounts"):
        acc = ctx.table("accounts").filter(~nw.col("holder_id").is_null()).select(
            nw.col("holder_id").alias("id_number"), nw.col("holder_id_status").alias("problem"),
            nw.col("holder_name").alias("name"), *[nw.lit(None).cast(nw.String).alias(c)
                                                   for c in PERSON[1:6]],
            "card_no", nw.lit("银行账户").alias("source"))
        parts.append(acc)
    ids = nw.concat(parts)
    region = (
        ids.filter(nw.col("problem").is_in(SHAPED))
        .filter(~nw.col("id_number").str.slice(0, 2).cast(nw.Int32).is_in(list(PROVINCES)))
        .with_columns(nw.lit("bad_region").alias("problem"))
    )
    bad = nw.concat([ids.filter(nw.col("problem").is_in(REPORTED)), region])
    found = bad.group_by("id_number", "problem").agg(
        *[nw.col(c).min() for c in PERSON], nw.col("source").min().alias("src_a"),
        nw.col("source").max().alias("src_b"),
    )
    sources = nw.when(nw.col("src_a") == nw.col("src_b")).then(nw.col("src_a")).otherwise(
        nw.concat_str([nw.col("src_a"), nw.lit("和"), nw.col("src_b")]))
    return found.with_columns(
        severity=nw.when(nw.col("problem") == "bad_region").then(nw.lit("warning"))
        .otherwise(nw.lit("medium")),
        evidence=nw.concat_str([
            sources, nw.lit("中 "), text(nw.col("name")), nw.lit(" 的身份证号 "),
            mask_id(nw.col("id_number")), nw.lit(" "), _describe(nw.col("problem")),
        ]),
    )


def _missing_findings(ctx: Context) -> nw.LazyFrame:
    roll = ctx.table("roll").filter(nw.col("id_status") == "missing")
    return roll.group_by("household_id", "name_key").agg(
        *[nw.col(c).min() for c in PERSON if c != "household_id"], nw.col("id_number").min()
    ).with_columns(
        problem=nw.lit("missing"), severity=nw.lit("medium"),
        evidence=nw.concat_str([nw.lit("名册中 "), text(nw.col("name")), nw.lit("（户 "),
                                text(nw.col("household_id")), nw.lit("）没有身份证号")]),
    )


def _name_findings(ctx: Context) -> list[nw.LazyFrame]:
    roll = ctx.table("roll").filter(nw.col("id_status").is_in(USABLE) & ~nw.col("name_key").is_null())
    # (kept: each is used more than once below, and would be computed again for every use)
    pairs = ctx.keep(roll.select("id_number", "name_key").unique())
    ids = pairs.select("id_number").unique()
    # the roll's IDs under more than one name, then each side's IDs under a name the roll does
    # not give them; the roll rows are grouped into persons only for the IDs found
    found = [(ctx.keep(pairs.group_by("id_number").agg(nw.len().alias("n_names"))
                       .filter(nw.col("n_names") > 1).select("id_number")),
              "name_conflict_roll", "")]
    if ctx.has("accounts"):
        acc = ctx.table("accounts").filter(nw.col("holder_id_status").is_in(USABLE)).select(
            nw.col("holder_id").alias("id_number"), nw.col("holder_name_key").alias("name_key"),
            nw.col("holder_name").alias("other_name"), "card_no")
        found.append((_odd(acc, ids, pairs, ctx), "name_mismatch_bank", "银行账户的户名为"))
    if ctx.has("payments"):
        pay = ctx.table("payments").filter(~nw.col("id_number").is_null()).select(
            "id_number", nw.col("account_name_key").alias("name_key"),
            nw.col("account_name").alias("other_name"), "card_no")
        found.append((_odd(pay, ids, pairs, ctx), "name_mismatch_payments", "代发明细的户名为"))
    wanted = nw.concat([f.select("id_number") for f, _, _ in found]).unique()
    person = ctx.keep(roll.join(wanted, on="id_number", how="semi").group_by("id_number").agg(
        *[nw.col(c).min() for c in PERSON], nw.col("name").max().alias("other_name"),
    ))
    conflicts, problem, _ = found[0]
    out = [conflicts.join(person, on="id_number", how="inner").with_columns(
        problem=nw.lit(problem), severity=nw.lit("medium"),
        evidence=nw.concat_str([
            nw.lit("名册中同一身份证号 "), mask_id(nw.col("id_number")), nw.lit(" 对应不同姓名: "),
            text(nw.col("name")), nw.lit(" / "), text(nw.col("other_name"))]),
    )]
    for odd, problem, label in found[1:]:
        out.append(odd.join(person.drop("other_name"), on="id_number", how="inner").with_columns(
            problem=nw.lit(problem), severity=nw.lit("medium"),
            card_no=nw.coalesce(nw.col("odd_card"), nw.col("card_no")),
            evidence=nw.concat_str([
                nw.lit("身份证号 "), mask_id(nw.col("id_number")), nw.lit(" 在名册中是 "),
                text(nw.col("name")), nw.lit("，" + label + " "), text(nw.col("other_name")),
                nw.lit("（卡 "), mask_card(text(nw.coalesce(nw.col("odd_card"), nw.col("card_no")))),
                nw.lit("）")]),
        ))
    return out


def _odd(side: nw.LazyFrame, ids: nw.LazyFrame, pairs: nw.LazyFrame, ctx: Context
         ) -> nw.LazyFrame:
    """(id_number, other_name, odd_card): the roll's IDs that `side` writes under a name the
    roll does not give them (kept: it names the persons to read and is joined to them)."""
    return ctx.keep(
        side.filter(~nw.col("name_key").is_null())
        .join(ids, on="id_number", how="semi")
        .join(pairs, on=["id_number", "name_key"], how="anti")
        .group_by("id_number").agg(nw.col("other_name").min(),
                                   nw.col("card_no").min().alias("odd_card"))
    )


def _card_findings(ctx: Context) -> list[nw.LazyFrame]:
    """Roll rows whose card number could not be trusted (Excel stored it as a number and cut
    its digits): the row loaded without it; one finding per person, for a clerk to correct."""
    roll = ctx.table("roll")
    if "card_damage" not in roll.collect_schema().names():
        return []
    damaged = roll.filter(~nw.col("card_damage").is_null())
    return [damaged.group_by("id_number", "household_id").agg(
        *[nw.col(c).min() for c in PERSON if c != "household_id"],
        nw.col("card_damage").min()).with_columns(
        problem=nw.lit("card_damaged"), severity=nw.lit("medium"),
        evidence=nw.concat_str([nw.lit("名册中 "), text(nw.col("name")), nw.lit(" 的银行卡号无法使用（"),
                                nw.col("card_damage"), nw.lit("），请按银行记录更正")]),
    )]


def check(ctx: Context) -> nw.LazyFrame:
    cols = ["id_number", "problem", "severity", "evidence", *PERSON]
    parts = [_status_findings(ctx), _missing_findings(ctx), *_name_findings(ctx),
             *_card_findings(ctx)]
    return nw.concat([p.select(cols) for p in parts]).with_columns(
        hub=nw.col("problem"), amount=nw.lit(0).cast(nw.Int64))


RULE = Rule(
    code="E09",
    name="身份信息错误",
    title="wrong or inconsistent identity data",
    severity="medium",
    needs={"roll": ("id_number", "id_status", "name")},
    uses={"roll": ("card_no", "fund", "household_id", "region_code", "township", "village"),
          "payments": ("card_no", "id_number", "account_name"),
          "accounts": ("card_no", "holder_name", "holder_id")},
    check=check,
    doc=__doc__ or "",
    optional=("accounts", "payments"),
)
