"""Summary numbers shared by the terminal report and the workbook's 汇总 sheet (pure polars).

Findings here are the findings a run reports (cardcheck.engines.runner.FINDINGS_OUT columns); money is
fen, turned into 元 only where it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import polars as pl

NO_TOWNSHIP = "（未填乡镇）"  # on the roll, but the roll names no township
OUTSIDE_ROLL = "（名册外）"  # paid to a card, person or household the roll does not have
TOTAL = "合计"
CASE_KEYS = {"person": "id_number", "household": "household_id", "card": "card_no",
             "finding": "finding_id"}


def yuan_text(fen: int | None) -> str:
    """1234567 fen as '12,345.67' (two decimals, thousands separated)."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def month_label(yyyymm: int | None) -> str:
    return "" if yyyymm is None else f"{yyyymm // 100}-{yyyymm % 100:02d}"


def township_col(col: str = "township") -> pl.Expr:
    return pl.col(col).fill_null(NO_TOWNSHIP).alias("township")


def _involved() -> list[pl.Expr]:
    return [
        pl.len().alias("count"),
        pl.col("household_id").drop_nulls().n_unique().alias("households"),
        pl.col("id_number").drop_nulls().n_unique().alias("persons"),
        pl.col("amount").fill_null(0).sum().cast(pl.Int64).alias("amount"),
    ]


def case_key(units: Mapping[str, str]) -> pl.Expr:
    """The case a finding belongs to: its rule and the key of the rule's unit (person: the ID
    number, household, card; finding: the finding itself). Findings of one rule with one key
    are one case; a finding without the key is a case of its own."""
    key: pl.Expr = pl.col("finding_id")
    for unit, col in CASE_KEYS.items():
        codes = [code for code, u in units.items() if u == unit]
        if codes and unit != "finding":
            key = pl.when(pl.col("rule").is_in(codes)).then(pl.col(col)).otherwise(key)
    return pl.concat_str([pl.col("rule"), pl.lit("|"), pl.coalesce(key, pl.col("finding_id"))]
                         ).alias("case")


def by_rule(findings: pl.DataFrame, runs: list[Any],
            units: Mapping[str, str] | None = None) -> pl.DataFrame:
    """One row per rule of the run: code, name, status, reason, count, households, persons,
    amount (fen); with `units` (report.case_units) also cases. Rules that ran with no finding
    show zeros; skipped ones their reason."""
    involved = _involved()
    if units is not None:
        involved.append(case_key(units).n_unique().alias("cases"))
    got = findings.group_by("rule").agg(involved)
    rules = pl.DataFrame(
        {
            "rule": [r.code for r in runs],
            "name": [r.name for r in runs],
            "status": [r.status for r in runs],
            "reason": [r.reason for r in runs],
        },
        schema={"rule": pl.String, "name": pl.String, "status": pl.String, "reason": pl.String},
    )
    extra = got.join(rules, on="rule", how="anti").select("rule").with_columns(
        pl.lit("").alias("name"), pl.lit("ran").alias("status"), pl.lit("").alias("reason")
    )
    out = pl.concat([rules, extra]).join(got, on="rule", how="left")
    nums = ["count", "households", "persons", "amount", *(["cases"] if units is not None else [])]
    return out.with_columns(pl.col(c).fill_null(0) for c in nums).sort("rule")


def by_township(findings: pl.DataFrame, units: Mapping[str, str] | None = None) -> pl.DataFrame:
    """Findings per township: count, households, persons, amount (fen), with `units` cases
    too; most money first."""
    involved = _involved()
    if units is not None:
        involved.append(case_key(units).n_unique().alias("cases"))
    return (
        findings.with_columns(township_col())
        .group_by("township").agg(involved)
        .sort(["amount", "count", "township"], descending=[True, True, False])
    )


def township_by_rule(findings: pl.DataFrame) -> pl.DataFrame:
    """Counts of findings, township × rule, with a 合计 column and a 合计 row."""
    if findings.height == 0:
        return pl.DataFrame({"township": [TOTAL], TOTAL: [0]})
    counts = findings.with_columns(township_col()).group_by("township", "rule").agg(pl.len())
    wide = counts.pivot(on="rule", index="township", values="len", sort_columns=True).fill_null(0)
    rules = [c for c in wide.columns if c != "township"]
    wide = wide.with_columns(pl.sum_horizontal(rules).alias(TOTAL)).sort("township")
    total = wide.select(pl.lit(TOTAL).alias("township"), *[pl.col(c).sum() for c in
                                                            [*rules, TOTAL]])
    return pl.concat([wide, total.cast(wide.schema)])


def hubs(findings: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """The hubs (a phone, agent, holder or outside account) tied to the most households, from
    the findings that name a hub (C04, C07 …): hub, rules, households, cards, amount (fen)."""
    tied = findings.filter(pl.col("hub").is_not_null() & (pl.col("hub") != ""))
    return (
        tied.group_by("hub").agg(
            pl.col("rule").unique().sort().str.join("、").alias("rules"),
            pl.col("household_id").drop_nulls().n_unique().alias("households"),
            pl.col("card_no").drop_nulls().n_unique().alias("cards"),
            pl.col("amount").fill_null(0).sum().cast(pl.Int64).alias("amount"),
        )
        .sort(["households", "cards", "amount", "hub"], descending=[True, True, True, False])
        .head(n)
    )


def top_amounts(findings: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """The findings with the most money involved (the largest recoveries to pursue)."""
    return findings.filter(pl.col("amount").fill_null(0) > 0).sort(
        ["amount", "finding_id"], descending=[True, False]
    ).head(n)


def scope(frames: Mapping[str, pl.DataFrame]) -> dict[str, Any]:
    """What was checked: households, persons, cards, funds, payment rows and money, months."""
    roll = frames.get("roll")
    pays = frames.get("payments")
    out: dict[str, Any] = {"households": 0, "persons": 0, "cards": 0, "funds": 0,
                           "payments": 0, "paid": 0, "first_month": None, "last_month": None,
                           "regions": []}
    if roll is not None and roll.height:
        row = roll.select(
            pl.col("household_id").drop_nulls().n_unique().alias("households"),
            pl.col("id_number").drop_nulls().n_unique().alias("persons"),
            pl.col("fund").drop_nulls().n_unique().alias("funds"),
        ).row(0, named=True)
        out.update(row)
        out["regions"] = sorted(roll.get_column("region_code").drop_nulls().unique().to_list())
    # every card checked: the roll's and those paid though the roll has them not (表2's rows)
    cards = [t.lazy().select(pl.col("card_no").drop_nulls().unique()) for t in (roll, pays)
             if t is not None and t.height]
    if cards:
        out["cards"] = int(pl.concat(cards).unique().select(pl.len()).collect().item())
    if pays is not None and pays.height:
        row = pays.select(
            pl.len().alias("payments"),
            pl.col("amount").fill_null(0).sum().cast(pl.Int64).alias("paid"),
            pl.col("pay_month").min().alias("first_month"),
            pl.col("pay_month").max().alias("last_month"),
        ).row(0, named=True)
        out.update(row)
    return out


def period_label(info: dict[str, Any]) -> str:
    first, last = info.get("first_month"), info.get("last_month")
    if first is None:
        return "未知期间"
    return str(first) if first == last else f"{first}-{last}"


def county_of_issuer(issuer: str) -> str:
    """The county a 填报单位 names: 柳林县民政局 → 柳林县, 吕梁市柳林县民政局 → 柳林县
    ('' when it names none)."""
    head = re.split(r"民政|人民政府|政府|社会救助", issuer)[0]
    units = re.findall(r"[^省市县区旗]+?(?:自治县|自治旗|县|区|市|旗)", head)
    return units[-1] if units else ""


def county_name(info: dict[str, Any], county: str = "", regions: Mapping[str, str] | None = None,
                issuer: str = "") -> str:
    """The county's name: the config's `county`, else its `regions` entry for the roll's one
    region code, else the county the roll's 填报单位 names (柳林县民政局 → 柳林县), else the
    region label (the code)."""
    if county:
        return county
    codes = info.get("regions") or []
    if len(codes) == 1 and (regions or {}).get(str(codes[0])):
        return (regions or {})[str(codes[0])]
    return county_of_issuer(issuer) or region_label(info)


def region_label(info: dict[str, Any], county: str = "") -> str:
    if county:
        return county
    regions = info.get("regions") or []
    if not regions:
        return "未知地区"
    return regions[0] if len(regions) == 1 else f"{regions[0]}等{len(regions)}地"
