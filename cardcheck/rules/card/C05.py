"""C05 发放摘要不规范: payment memos that do not say which subsidy, or say the wrong one.

Finds: payments whose memo is missing; generic (代发, 工资, 转账 …, a person's or a village
committee's name); names no fund (e.g. only 2023年04月); names a fund other than those the roll
registers on the card; names a fund but no period (城市低保金: no month, quarter or half-year;
one-off funds such as 临时救助 have none to name); or names a month more than
max_period_gap_months away from the pay month. One finding per (card, fund, problem), with the
payments' count, months and money; the hub says which problem (memo:missing, memo:generic,
memo:no_fund, memo:wrong_fund, memo:no_period, memo:period).
A period is a month (2023年04月, 202304, 2023.04, 4月, 四月) or one of period_words (季度 for
quarterly funds: 2023年第一季度, 一季度; 上半年, 下半年); require_period: false drops the check.
Why: the campaign requires every one-card payment to carry the fund's name and period so the
beneficiary can tell what was paid for (发放摘要规范); vague memos hide wrong or duplicate
payments.
Known false positive: a 临时救助 paid months after the crisis it names, or back pay (补发)
naming the months it makes good, shows as a period gap; the evidence gives both months.
"""

from __future__ import annotations

import re
from typing import Any

import narwhals.stable.v2 as nw

from cardcheck.masking import mask_card
from cardcheck.rules.base import Context, Rule, month_index, month_text, text, yuan
from cardcheck.rules.card.common import (
    PLACE,
    attribute,
    card_funds,
    memo_reading,
    reading_funds,
    shared_households,
    shared_owners,
    span,
)

PROBLEMS = {
    "missing": "摘要为空",
    "generic": "摘要只写通用词或人名 (如“",
    "no_fund": "摘要未写救助资金名称 (如“",
    "wrong_fund": "摘要写“",
    "no_period": "摘要未写所属月份 (如“",
    "period": "摘要所写月份与发放月份相差 ",
}


def flags(params: dict[str, Any], one_off: list[str]) -> dict[str, nw.Expr]:
    """One boolean per problem; a payment may have several."""
    memo = nw.col("memo")
    gap = int(params["max_period_gap_months"])
    distance = (month_index(nw.col("memo_period")) - month_index(nw.col("pay_month"))).abs()
    out = {
        "missing": memo.is_null(),
        "generic": ~memo.is_null() & nw.col("memo_generic"),
        "no_fund": ~memo.is_null() & ~nw.col("memo_generic") & (nw.col("memo_funds") == 0),
        "wrong_fund": (nw.col("memo_funds") > 0) & ~nw.col("matched")
        & ~nw.col("n_funds").is_null(),
        "no_period": nw.lit(False),
        "period": ~nw.col("memo_period").is_null() & (distance > gap),
    }
    if params["require_period"]:
        words = [w for w in params["period_words"] if w]
        named = memo.str.contains("|".join(re.escape(w) for w in words)) if words \
            else nw.lit(False)
        # a fund named, no month read and no period word; a one-off fund has no period
        out["no_period"] = (~nw.col("memo_generic") & (nw.col("memo_funds") > 0)
                            & nw.col("memo_period").is_null() & ~named
                            & ~nw.col("memo_fund").is_in(one_off).fill_null(False))
    return out


def problems(ctx: Context) -> nw.LazyFrame:
    """One row per payment and problem it has: the payment's card, fund (the roll's fund it
    pays, else the card's only fund), amount, months, memo and line (source_file,
    source_line), and `problem` (a key of PROBLEMS). `check` adds them up per card, fund and
    problem; `cardcheck precheck` holds the batch lines among them."""
    cfg, roll = ctx.config, ctx.table("roll")
    one_off = [f.name for f in cfg.funds.values() if f.one_off]
    flagged = flags(ctx.params, one_off)
    funds = card_funds(roll, cfg).group_by("card_no").agg(
        nw.col("n_funds").min(), nw.col("fund").min().alias("roll_fund"),
        nw.col("fund").max().alias("roll_fund_max"))
    keep = ["card_no", "fund", "amount", "pay_month", "memo", "memo_period", "gap",
            "roll_fund", "roll_fund_max", "source_file", "source_line"]
    distance = (month_index(nw.col("memo_period")) - month_index(nw.col("pay_month"))).abs()
    # one pass over the payments: their problems as a list, exploded to (payment, problem)
    listed = nw.concat_str([nw.when(flag.fill_null(False)).then(nw.lit(name + ","))
                            .otherwise(nw.lit("")) for name, flag in flagged.items()])
    # only payments that can show a problem go through the attribution: those with a problem
    # of their own, and those on cards where some memo naming a fund pays none of the card's
    wrong_cards = (
        reading_funds(memo_reading(ctx.table("payments")), roll, cfg)
        .filter(nw.col("fund").is_null() & (nw.col("_mn") > 0))
        .join(funds.select("card_no"), on="card_no", how="semi")
        .select("card_no").unique().with_columns(_wrong=nw.lit(True))
    )
    own = [f.fill_null(False) for k, f in flagged.items() if k != "wrong_fund"]
    pays = (ctx.table("payments").join(wrong_cards, on="card_no", how="left")
            .filter(nw.any_horizontal(nw.col("_wrong").fill_null(False), *own, ignore_nulls=True))
            .drop("_wrong"))
    return (
        attribute(pays, roll, cfg)
        .join(funds, on="card_no", how="left")
        .with_columns(matched=~nw.col("fund").is_null())
        .with_columns(fund=nw.col("fund").fill_null(
            nw.when(nw.col("n_funds") == 1).then(nw.col("roll_fund"))))
        .filter(nw.any_horizontal(*(f.fill_null(False) for f in flagged.values()),
                                  ignore_nulls=True))
        .with_columns(problem=listed.str.split(","), gap=distance.fill_null(0).cast(nw.Int64))
        .select(*keep, "problem")
        .explode("problem")
        .filter(nw.col("problem") != "")
        .with_columns(gap=nw.when(nw.col("problem") == "period").then(nw.col("gap"))
                      .otherwise(nw.lit(0).cast(nw.Int64)))
    )


def check(ctx: Context) -> nw.LazyFrame:
    found = (
        problems(ctx)
        .group_by("card_no", "fund", "problem").agg(
            nw.len().cast(nw.Int64).alias("n_pays"),
            nw.col("amount").sum().cast(nw.Int64).alias("amount"),
            nw.col("pay_month").min().cast(nw.Int32).alias("first_month"),
            nw.col("pay_month").max().cast(nw.Int32).alias("last_month"),
            nw.col("pay_month").n_unique().cast(nw.Int32).alias("months"),
            nw.col("memo").min().alias("example"),
            nw.col("memo_period").min().alias("example_period"),
            nw.col("gap").max(),
            nw.col("roll_fund").min(), nw.col("roll_fund_max").max(),
        )
    )
    example = text(nw.col("example").str.slice(0, 20))
    registered = nw.when(nw.col("roll_fund") == nw.col("roll_fund_max")).then(
        nw.col("roll_fund")).otherwise(nw.concat_str([nw.col("roll_fund"), nw.lit(" 等")]))
    detail = (
        nw.when(nw.col("problem") == "missing").then(nw.lit(PROBLEMS["missing"]))
        .otherwise(nw.when(nw.col("problem").is_in(["generic", "no_fund", "no_period"])).then(
            nw.concat_str([
                nw.when(nw.col("problem") == "generic").then(nw.lit(PROBLEMS["generic"]))
                .when(nw.col("problem") == "no_period").then(nw.lit(PROBLEMS["no_period"]))
                .otherwise(nw.lit(PROBLEMS["no_fund"])), example, nw.lit("”)")]))
        .otherwise(nw.when(nw.col("problem") == "wrong_fund").then(
            nw.concat_str([nw.lit(PROBLEMS["wrong_fund"]), example,
                           nw.lit("”, 与名册登记的 "), text(registered), nw.lit(" 不符")]))
        .otherwise(nw.concat_str([
            nw.lit(PROBLEMS["period"]), text(nw.col("gap")), nw.lit(" 个月 (如“"), example,
            nw.lit("”写 "), month_text(nw.col("example_period")), nw.lit(")")]))))
    )
    return (
        found.join(shared_owners(ctx).select("card_no", "household_id", "id_number", "name"),
                   on="card_no", how="left")
        .join(shared_households(ctx).drop("head_id"), on="household_id", how="left")
        .with_columns(
            hub=nw.concat_str([nw.lit("memo:"), nw.col("problem")]),
            evidence=nw.concat_str([
                nw.lit("卡 "), mask_card(nw.col("card_no")), nw.lit(" ("),
                nw.when(nw.col("head_name").is_null()).then(nw.lit("名册无此卡"))
                .otherwise(nw.concat_str([nw.col("head_name"), nw.lit("户")])),
                nw.lit(") 有 "), text(nw.col("n_pays")), nw.lit(" 笔代发 "), detail,
                nw.lit("; 共 "), yuan(nw.col("amount")), nw.lit(" 元"),
                span(nw.col("first_month"), nw.col("last_month")),
            ]),
        )
    )


RULE = Rule(
    code="C05",
    name="发放摘要不规范",
    title="payment memo missing, generic or wrong",
    severity="low",
    needs={"payments": ("card_no", "amount", "pay_date", "memo"), "roll": ("card_no", "fund")},
    uses={"roll": ("household_id", "id_number", "name", "relation", *PLACE),
          "payments": ("source_file", "source_line")},
    check=check,
    doc=__doc__ or "",
)
