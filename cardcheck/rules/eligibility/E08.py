"""E08 优亲厚友: officials, their households and their close relatives on the roll, unfiled.

Finds: beneficiaries linked to an official or village cadre (table `officials`): the official
himself; a member of his household (the household in which his own ID appears on the roll, or
the household officials.household_id names); or a relative listed in `relatives` — unless a
filing (relatives row for that official and person with filed = 是) exists. The evidence says
同户 only when the roll lists the official in that household; a household known from the
officials list alone is said to be so (户编号 from the list, the official not among the roll's
members), for the visit to settle. One finding per beneficiary, fund and official
(hub = "official:<ID>"); amount = what the beneficiary received of that fund in the period (his
share for household-level funds; 0 without payments), months = the months received.
Why: relatives of officials and cadres who handle assistance must be filed (近亲属备案) and
reviewed; unfiled, it is the 优亲厚友 the campaign names.
Known false positive: a filing made on paper that is missing from the relatives file, or filed
under a different official (a spouse filed by the other cadre); the evidence names the official
and what the file says about the filing.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_id
from cardcheck.rules.base import Context, Rule, text
from cardcheck.rules.payment.attribution import PAID_BY, ROLL_ENTRY, month_span
from cardcheck.rules.payment.evidence import count, money, span
from cardcheck.rules.payment.periods import usable
from cardcheck.rules.payment.receipts import receipts_or_empty

WHO = ["id_number", "name", "household_id", "region_code", "township", "village", "card_no",
       "fund"]
LINK = [*WHO, "official_id", "official_name", "position", "relation", "rank"]
S = nw.String()


def _links(ctx: Context) -> nw.LazyFrame:
    rows = ctx.table("roll").filter(~nw.col("fund").is_null())
    ok_rows = rows.filter(usable())
    off = ctx.table("officials").filter(usable()).select(
        nw.col("id_number").alias("official_id"), nw.col("name").alias("official_name"),
        "position", nw.col("household_id").alias("off_household"),
    )
    not_self = (nw.col("id_number") != nw.col("official_id")).fill_null(True)
    self_ = ok_rows.join(off.with_columns(id_number=nw.col("official_id")), on="id_number",
                         how="inner").with_columns(relation=nw.lit(None).cast(S), rank=nw.lit(0))
    by_list = rows.join(
        off.filter(~nw.col("off_household").is_null())
        .with_columns(household_id=nw.col("off_household")), on="household_id", how="inner")
    # the official among a household's members on the roll (a member without a fund counts)
    members = ctx.table("roll").filter(usable() & ~nw.col("household_id").is_null())
    on_roll = members.join(off.with_columns(id_number=nw.col("official_id")), on="id_number",
                           how="inner").select("household_id", "official_id", "official_name",
                                               "position").unique()
    by_roll = rows.filter(~nw.col("household_id").is_null()).join(
        on_roll, on="household_id", how="inner")
    # rank 1: the roll lists the official in this household; 2: only the officials list says so
    household = nw.concat([
        by_roll.select(*WHO, "official_id", "official_name", "position").with_columns(
            rank=nw.lit(1)),
        by_list.select(*WHO, "official_id", "official_name", "position").with_columns(
            rank=nw.lit(2))], how="vertical").filter(not_self) \
        .with_columns(relation=nw.lit(None).cast(S))
    parts = [self_.select(LINK), household.select(LINK)]
    if ctx.has("relatives"):
        rel = ctx.table("relatives").filter(~nw.col("official_id").is_null()
                                            & ~nw.col("relative_id").is_null())
        relatives = ok_rows.join(
            rel.select(nw.col("relative_id").alias("id_number"), "official_id",
                       nw.col("official_name").alias("rel_official_name"),
                       nw.col("relation").alias("rel_relation")),
            on="id_number", how="inner",
        ).join(off.select("official_id", "official_name", "position"), on="official_id",
               how="left").with_columns(
            official_name=nw.when(nw.col("official_name").is_null())
            .then(nw.col("rel_official_name")).otherwise(nw.col("official_name")),
            relation=nw.col("rel_relation"), rank=nw.lit(3),
        )
        parts.append(relatives.select(LINK))
    return nw.concat([p.with_columns(nw.col("rank").cast(nw.Int32)) for p in parts],
                     how="vertical")


def check(ctx: Context) -> nw.LazyFrame:
    links = _links(ctx).group_by("household_id", "id_number", "fund", "official_id").agg(
        *(nw.col(c).min() for c in ["name", "region_code", "township", "village", "card_no",
                                     "official_name", "position", "relation", "rank"]),
    )
    if ctx.has("relatives"):
        filing = ctx.table("relatives").select(
            "official_id", nw.col("relative_id").alias("id_number"),
            nw.col("filed").cast(nw.Int32).alias("filed"),
        ).group_by("official_id", "id_number").agg(nw.col("filed").max())
        links = links.join(filing, on=["official_id", "id_number"], how="left")
    else:
        links = links.with_columns(filed=nw.lit(None).cast(nw.Int32))
    links = links.filter((nw.col("filed") != 1).fill_null(True))
    got = receipts_or_empty(ctx, links).group_by("id_number", "fund").agg(
        nw.col("paid").sum().cast(nw.Int64).alias("amount"), *month_span(),
    )
    out = links.join(got, on=["id_number", "fund"], how="left").with_columns(
        amount=nw.col("amount").fill_null(0), months=nw.col("months").fill_null(0),
        hub=nw.concat_str([nw.lit("official:"), nw.col("official_id")]),
    )
    official = nw.concat_str([text(nw.col("position")), text(nw.col("official_name")), nw.lit("（"),
                              mask_id(nw.col("official_id")), nw.lit("）")])
    tie = (
        nw.when(nw.col("rank") == 0).then(nw.concat_str([nw.lit("本人即"), text(nw.col("position"))]))
        .when(nw.col("rank") == 1).then(nw.concat_str([nw.lit("与"), official,
                                                       nw.lit("同户（名册本户成员）")]))
        .when(nw.col("rank") == 2).then(nw.concat_str([
            nw.lit("所在户即"), official,
            nw.lit("在经办人员名单上登记的户（名册本户成员中无其本人）")]))
        .otherwise(nw.concat_str([nw.lit("系"), official, nw.lit("的"),
                                  text(nw.col("relation")).str.replace_all("^$", "亲属")]))
    )
    return out.with_columns(
        evidence=nw.concat_str([
            text(nw.col("name")), nw.lit("（"), mask_id(nw.col("id_number")), nw.lit("）"), tie,
            nw.lit("，享受"), nw.col("fund"),
            nw.when(nw.col("filed") == 0).then(nw.lit("，近亲属备案为“否”"))
            .otherwise(nw.lit("，无近亲属备案")),
            nw.when(nw.col("months") > 0)
            .then(nw.concat_str([nw.lit("；"), span(), nw.lit(" 领取 "), count("months", "个月"),
                                 nw.lit("共 "), money()]))
            .otherwise(nw.lit("；期内无入账")),
        ])
    )


RULE = Rule(
    code="E08",
    name="优亲厚友",
    title="officials and their relatives on the roll, unfiled",
    severity="high",
    needs={"roll": ("id_number", "fund"), "officials": ("id_number",)},
    uses={"roll": (*ROLL_ENTRY, "card_no", "monthly_amount"),
          "payments": ("card_no", "amount", "pay_date", *PAID_BY),
          "officials": ("name", "position", "household_id"),
          "relatives": ("official_id", "official_name", "relative_id", "relation", "filed")},
    optional=("relatives", "payments"),
    check=check,
    doc=__doc__ or "",
)
