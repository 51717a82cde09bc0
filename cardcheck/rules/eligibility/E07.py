"""E07 跨区域重复: the same person on this roll and on another region's roll at the same time.

Finds: every person (usable ID) on this roll and on another region's roll (table `other_roll`,
which carries `source_region`) whose periods overlap, month by month (start_date … end_date; a
null end is open). Any fund on either side: 农村低保 here and 城市低保 in the city is the classic
case. One finding per person, fund here and other region (hub = "region:<source_region>");
amount = what the person received here in the overlapping months (0 when no payment file is
given or nothing was paid), months = the months received in the overlap, first/last = the
overlap itself when nothing was received.
Why: assistance is granted where the household is registered, once (不得重复享受); the national
audit found 农村低保 here paid alongside 城市低保 elsewhere.
Known false positive: a household that moved, approved in the new place before the old place
processed its stop; the overlap is then a month or two and the evidence gives its span.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_id
from cardcheck.rules.base import Context, Rule, month_text, text
from cardcheck.rules.payment.attribution import PAID_BY, ROLL_ENTRY
from cardcheck.rules.payment.evidence import count, money
from cardcheck.rules.payment.periods import NO_END, NO_START, month_of, usable
from cardcheck.rules.payment.receipts import receipts_or_empty


def _spans(lf: nw.LazyFrame) -> nw.LazyFrame:
    return lf.filter(usable() & ~nw.col("fund").is_null()).with_columns(
        start=month_of(nw.col("start_date")).fill_null(NO_START),
        end=month_of(nw.col("end_date")).fill_null(NO_END),
    )


def check(ctx: Context) -> nw.LazyFrame:
    here = _spans(ctx.table("roll")).select(
        "id_number", "name", "household_id", "region_code", "township", "village", "card_no",
        "fund", "start", "end",
    )
    there = _spans(ctx.table("other_roll")).select(
        "id_number", nw.col("fund").alias("other_fund"), "source_region",
        nw.col("start").alias("o_start"), nw.col("end").alias("o_end"),
    )
    both = (
        here.join(there, on="id_number", how="inner")
        .with_columns(
            lo=nw.when(nw.col("start") > nw.col("o_start")).then(nw.col("start"))
            .otherwise(nw.col("o_start")),
            hi=nw.when(nw.col("end") < nw.col("o_end")).then(nw.col("end"))
            .otherwise(nw.col("o_end")),
        )
        .filter(nw.col("lo") <= nw.col("hi"))
        .group_by("id_number", "fund", "source_region").agg(
            *(nw.col(c).min() for c in ["name", "household_id", "region_code", "township",
                                         "village", "card_no", "other_fund", "lo"]),
            nw.col("hi").max(),
        )
    )
    got = receipts_or_empty(ctx, both).select("id_number", "fund", "period", "paid")
    paid = (
        both.select("id_number", "fund", "source_region", "lo", "hi")
        .join(got, on=["id_number", "fund"], how="inner")
        .filter((nw.col("period") >= nw.col("lo")) & (nw.col("period") <= nw.col("hi")))
        .group_by("id_number", "fund", "source_region").agg(
            nw.col("paid").sum().cast(nw.Int64).alias("amount"),
            nw.col("period").min().alias("p_first"), nw.col("period").max().alias("p_last"),
            nw.col("period").n_unique().cast(nw.Int32).alias("months"),
        )
    )
    out = both.join(paid, on=["id_number", "fund", "source_region"], how="left").with_columns(
        amount=nw.col("amount").fill_null(0), months=nw.col("months").fill_null(0),
        first_month=nw.when(nw.col("p_first").is_null())
        .then(nw.when(nw.col("lo") == NO_START).then(nw.lit(None)).otherwise(nw.col("lo")))
        .otherwise(nw.col("p_first")).cast(nw.Int32),
        last_month=nw.when(nw.col("p_last").is_null())
        .then(nw.when(nw.col("hi") == NO_END).then(nw.lit(None)).otherwise(nw.col("hi")))
        .otherwise(nw.col("p_last")).cast(nw.Int32),
        hub=nw.concat_str([nw.lit("region:"), text(nw.col("source_region"))]),
    )
    lo, hi = month_text(nw.col("lo")), month_text(nw.col("hi"))
    overlap = (
        nw.when(nw.col("hi") == NO_END).then(nw.concat_str([nw.lit("重叠期 "), lo, nw.lit(" 起")]))
        .otherwise(nw.when(nw.col("lo") == NO_START)
                   .then(nw.concat_str([nw.lit("重叠期至 "), hi]))
                   .otherwise(nw.concat_str([nw.lit("重叠期 "), lo, nw.lit("至"), hi])))
    )
    return out.with_columns(
        evidence=nw.concat_str([
            text(nw.col("name")), nw.lit("（"), mask_id(nw.col("id_number")), nw.lit("）在本地领取"),
            nw.col("fund"), nw.lit("，同时在 "), text(nw.col("source_region")), nw.lit(" 名册上领取"),
            text(nw.col("other_fund")), nw.lit("，"), overlap, nw.lit("；期内本地入账 "),
            count("months", "个月"), nw.lit("共 "), money(),
        ])
    )


RULE = Rule(
    code="E07",
    name="跨区域重复",
    title="on another region's roll too",
    severity="high",
    needs={"roll": ("id_number", "fund"), "other_roll": ("id_number", "source_region")},
    uses={"roll": (*ROLL_ENTRY, "card_no", "monthly_amount"),
          "payments": ("card_no", "amount", "pay_date", *PAID_BY),
          "other_roll": ("fund", "start_date", "end_date")},
    optional=("payments",),
    check=check,
    doc=__doc__ or "",
)
