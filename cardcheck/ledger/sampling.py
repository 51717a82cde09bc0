"""The joint team's visit list for 重点抽查: a reproducible random sample of townships, villages
and households, stratified by township, optionally weighted by risk (findings and money).

Every draw is keyed by sha1(seed | level | name), so the same seed on the same ledger gives the
same sample on any machine and polars version. Weighted draws use Efraimidis–Spirakis keys
(u ** (1 / weight), largest first): a household's weight is 1 + its open findings + its money
involved over the mean money of households with findings.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from cardcheck.errors import CardcheckError
from cardcheck.ledger.store import Ledger
from cardcheck.masking import masked
from cardcheck.report.excel import Writer
from cardcheck.report.spec import SheetSpec
from cardcheck.report.summary import NO_TOWNSHIP

SHEET = SheetSpec("抽查名单", "重点抽查走访名单", (
    ("seq", "序号"), ("township", "乡镇（街道）"), ("village", "村（社区）"),
    ("household_id", "户号"), ("name", "户主"), ("persons", "人数"), ("findings", "问题数"),
    ("amount", "涉及金额(元)"), ("visit", "走访情况"), ("note", "备注")))


@dataclass(frozen=True)
class SampleSpec:
    seed: int
    townships: int | None = None  # None: every township
    villages: int = 2  # per township drawn
    households: int = 5  # per village drawn
    weighted: bool = False


def new_seed() -> int:
    return secrets.randbelow(1_000_000)


def _uniform(seed: int, level: str, keys: pl.Series) -> pl.Series:
    vals = [(int(hashlib.sha1(f"{seed}|{level}|{k}".encode()).hexdigest()[:13], 16) + 1)
            / (16**13 + 1) for k in keys.to_list()]
    return pl.Series("u", vals, dtype=pl.Float64)


def _pick(df: pl.DataFrame, key: str, level: str, n: int | None, by: list[str],
          spec: SampleSpec) -> pl.DataFrame:
    """Top `n` rows per group `by` of the random key (weighted when asked)."""
    df = df.with_columns(_uniform(spec.seed, level, df.get_column(key)))
    weight = pl.col("weight") if spec.weighted else pl.lit(1.0)
    df = df.with_columns((pl.col("u").log() / weight).alias("_k"))  # log of u ** (1/w)
    if n is None:
        return df.drop("u", "_k")
    rank = pl.col("_k").rank("ordinal", descending=True)
    ranked = df.with_columns((rank.over(by) if by else rank).alias("_r"))
    return ranked.filter(pl.col("_r") <= n).drop("u", "_k", "_r")


def draw(households: pl.DataFrame, risk: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    """The sample: seq, township, village, household_id, name, persons, findings, amount,
    weight. `risk` has household_id, findings, amount (fen)."""
    if households.height == 0:
        raise CardcheckError("the ledger holds no households yet: run cardcheck check with this "
                             "--ledger first")
    hh = households.with_columns(pl.col("township").fill_null(NO_TOWNSHIP),
                                 pl.col("village").fill_null("（未填村）"))
    hh = hh.join(risk, on="household_id", how="left").with_columns(
        pl.col("findings").fill_null(0), pl.col("amount").fill_null(0))
    mean = hh.filter(pl.col("amount") > 0).get_column("amount").mean() or 1
    hh = hh.with_columns((1 + pl.col("findings") + pl.col("amount") / mean).alias("weight"))
    towns = hh.group_by("township").agg(pl.col("weight").sum()).sort("township")
    towns = _pick(towns, "township", "township", spec.townships, [], spec)
    villages = hh.join(towns.select("township"), on="township", how="semi").group_by(
        "township", "village").agg(pl.col("weight").sum()).sort("township", "village")
    villages = villages.with_columns((pl.col("township") + "/" + pl.col("village")).alias("_key"))
    villages = _pick(villages, "_key", "village", spec.villages, ["township"], spec)
    chosen = hh.join(villages.select("township", "village"), on=["township", "village"],
                     how="semi").sort("household_id")
    chosen = _pick(chosen, "household_id", "household", spec.households,
                   ["township", "village"], spec)
    chosen = chosen.sort("township", "village", "household_id")
    return chosen.with_columns(pl.int_range(1, chosen.height + 1).alias("seq"),
                               pl.lit("").alias("visit"), pl.lit("").alias("note"))


def risk_of(ledger: Ledger, unfounded: str) -> pl.DataFrame:
    state = ledger.state().filter(pl.col("present") & (pl.col("status") != unfounded)
                                  & pl.col("household_id").is_not_null())
    return state.group_by("household_id").agg(pl.len().cast(pl.Int64).alias("findings"),
                                               pl.col("amount").fill_null(0).sum().alias("amount"))


def run_sample(ledger: Ledger, out: Path, stage: str, spec: SampleSpec,
               unfounded: str = "不属实") -> tuple[Path, pl.DataFrame]:
    """Draw, store in the ledger, write OUT/抽查名单_<stage>_seed<seed>.xlsx."""
    sample = draw(ledger.households(), risk_of(ledger, unfounded), spec)
    params = {"townships": spec.townships, "villages": spec.villages,
              "households": spec.households, "weighted": spec.weighted}
    ledger.record_sample(stage, spec.seed, params, sample)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"抽查名单_{stage}_seed{spec.seed}.xlsx"
    towns = "全部" if spec.townships is None else str(spec.townships)
    sub = (f"阶段：{stage}　随机种子：{spec.seed}　乡镇：{towns}　每乡镇村数：{spec.villages}　"
           f"每村户数：{spec.households}　{'按风险加权' if spec.weighted else '等概率'}　"
           f"抽样时间：{datetime.now():%Y-%m-%d %H:%M}")
    w = Writer(path)
    w.table(SHEET, masked(sample), sub)  # long digit runs in names and places
    w.close()
    return path, sample
