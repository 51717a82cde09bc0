"""The roll (救助对象名册) and the bank's account master (账户信息) of the demo county.

Roll rows are built from the households by kind, whole columns at a time. Household funds
(农村低保, 城市低保) list every member with their share, all on the 户主's card; person funds are
one row per beneficiary on their own card (a 代领人 or an orphan's guardian may hold it and is
registered as payee). Every card has one account row; holders are the beneficiary, the 户主, a
registered payee or a guardian.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.people import REGION, County, extra_contacts

BANKS = [("中国农业银行", 622848, 19, 318_457_203_771), ("中国邮政储蓄银行", 621799, 19, 770_215_936_313),
         ("山西柳林农村商业银行", 621736, 16, 507_331_977)]
DAY0 = np.datetime64("2010-01-01")


@dataclass
class Pool:
    """People outside the households, handed out in order for each purpose."""

    pids: np.ndarray
    at: int = 0
    used: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, n: int, purpose: str) -> np.ndarray:
        if self.at + n > len(self.pids):  # pragma: no cover - sized in build()
            raise ValueError("the demo ran out of people outside the roll")
        out = self.pids[self.at:self.at + n]
        self.at += n
        self.used[purpose] = np.concatenate([self.used.get(purpose, out[:0]), out])
        return out


def _dates(rng: np.random.Generator, n: int, lo: str, hi: str) -> np.ndarray:
    span = (np.datetime64(hi) - np.datetime64(lo)).astype(int)
    return np.datetime64(lo) + rng.integers(0, span + 1, n).astype("timedelta64[D]")


def _household_terms(rng: np.random.Generator, hh: pl.DataFrame) -> pl.DataFrame:
    """Start and end dates per household: most since before 2023, a few admitted or stopped."""
    n = hh.height
    start = _dates(rng, n, "2010-03-01", "2022-11-30")
    r = rng.random(n)
    new = r < 0.03
    stop = (r >= 0.03) & (r < 0.06)
    m_new = rng.integers(2, 11, n)
    m_end = rng.integers(3, 12, n)
    new_start = np.array([f"2023-{m:02d}-01" for m in range(1, 13)], dtype="datetime64[D]")
    month_end = np.array([f"2023-{m:02d}-01" for m in range(2, 13)] + ["2024-01-01"],
                         dtype="datetime64[D]") - np.timedelta64(1, "D")
    start = np.where(new, new_start[m_new - 1], start)
    end = np.where(stop, month_end[m_end - 1], np.datetime64("NaT"))
    return hh.select("hid").with_columns(pl.Series("start_date", start.astype("datetime64[D]")),
                                         pl.Series("end_date", end.astype("datetime64[D]")))


def build_roll(rng: np.random.Generator, county: County, pool: Pool) -> pl.DataFrame:
    """Roll rows with internal keys pid (beneficiary), card_pid (whose card), holder_pid."""
    hh = county.households.join(_household_terms(rng, county.households), on="hid")
    mem = county.persons.filter(pl.col("role") == "member").join(
        hh.select("hid", "kind", "household_id", "t", "township", "village", "phone", "start_date",
                  "end_date"), on="hid")
    heads = mem.filter(pl.col("slot") == 0).select("hid", pl.col("pid").alias("head_pid"))
    mem = mem.join(heads, on="hid")
    n = mem.height
    share = rng.integers(250, 461, n) * 100 + (rng.random(n) < 0.1) * 50
    disab_fund = np.where(rng.random(n) < 0.5, "困难残疾人生活补贴", "重度残疾人护理补贴")
    mem = mem.with_columns(pl.Series("share", share), pl.Series("disab_fund", disab_fund),
                           pl.Series("r", rng.random(n)), pl.Series("r2", rng.random(n)),
                           pl.Series("tk_amt", rng.integers(600, 901, n) * 100))
    kind = pl.col("kind")
    base = mem.with_columns(
        pl.when(kind == "RURAL").then(pl.lit("农村低保")).when(kind == "URBAN").then(pl.lit("城市低保"))
        .when(kind == "TEKUN").then(pl.lit("特困供养")).when(kind == "ORPHAN").then(pl.lit("孤儿基本生活费"))
        .otherwise(pl.col("disab_fund")).alias("fund"),
        pl.when(kind.is_in(["RURAL", "URBAN"])).then(pl.col("share"))
        .when(kind == "TEKUN").then(pl.col("tk_amt")).when(kind == "ORPHAN").then(pl.lit(120000))
        .when(pl.col("disab_fund") == "困难残疾人生活补贴").then(pl.lit(8000))
        .otherwise(pl.lit(10000)).cast(pl.Int64).alias("monthly_amount"),
        pl.when(kind.is_in(["RURAL", "URBAN"])).then(pl.col("head_pid")).otherwise(pl.col("pid"))
        .alias("card_pid"),
    )
    heads_low = base.filter(kind.is_in(["RURAL", "URBAN"]) & (pl.col("slot") == 0))
    extra_disab = heads_low.filter(pl.col("r") < 0.06).with_columns(
        pl.when(pl.col("r") < 0.04).then(pl.lit("困难残疾人生活补贴"))
        .otherwise(pl.lit("重度残疾人护理补贴")).alias("fund"),
        pl.when(pl.col("r") < 0.04).then(pl.lit(8000)).otherwise(pl.lit(10000))
        .cast(pl.Int64).alias("monthly_amount"))
    tk_nursing = base.filter((kind == "TEKUN") & (pl.col("r") < 0.05)).with_columns(
        pl.lit("重度残疾人护理补贴").alias("fund"), pl.lit(10000, pl.Int64).alias("monthly_amount"))
    # 临时救助: one month's one-off to a few 户主 of 低保 households, on the household card
    n_temp = max(2, heads_low.height // 200)
    temp = heads_low.filter(pl.col("end_date").is_null() & (pl.col("start_date") < pl.date(2023, 1, 1))
                            & (pl.col("r") >= 0.06)).sort("r2").head(n_temp)
    tm = rng.integers(2, 12, temp.height)
    temp = temp.with_columns(
        pl.lit("临时救助").alias("fund"),
        pl.Series("monthly_amount", rng.integers(5, 31, temp.height) * 10000),
        pl.Series("start_date", np.array([f"2023-{m:02d}-01" for m in tm], dtype="datetime64[D]")),
        pl.Series("end_date", np.array([f"2023-{m + 1:02d}-01" for m in tm], dtype="datetime64[D]")
                  - np.timedelta64(1, "D")),
    )
    roll = pl.concat([base, extra_disab, tk_nursing, temp], how="vertical_relaxed")
    roll = roll.with_columns(pl.col("card_pid").alias("holder_pid"),
                             pl.lit(None, pl.Int64).alias("payee_pid"),
                             pl.lit(None, pl.Int64).alias("agent_pid"))
    return _payees(rng, roll, pool)


def _payees(rng: np.random.Generator, roll: pl.DataFrame, pool: Pool) -> pl.DataFrame:
    """代领人 for some elderly 特困 persons, guardians for orphans; agents for some cards."""
    tk = roll.filter((pl.col("kind") == "TEKUN") & (pl.col("age") >= 80) & (pl.col("r2") < 0.12))
    tk_ids = tk["pid"].unique().sort()
    orphans = roll.filter(pl.col("kind") == "ORPHAN")["pid"].unique().sort()
    proxies = pl.DataFrame({"pid": tk_ids, "proxy": pool.take(len(tk_ids), "代领人")})
    guards = pl.DataFrame({"pid": orphans, "proxy": pool.take(len(orphans), "监护人")})
    holds = rng.random(len(orphans)) < 0.7
    holds[:2] = True  # at least two guardians hold the orphan's card themselves
    guards = guards.with_columns(pl.Series("guardian_holds", holds))
    link = pl.concat([proxies.with_columns(pl.lit(True).alias("guardian_holds")), guards])
    roll = roll.join(link, on="pid", how="left")
    proxy_holds = pl.col("proxy").is_not_null() & pl.col("guardian_holds")
    # a spouse who opened the 户主's card for the household (a normal 代办)
    spouses = roll.filter(pl.col("relation") == "配偶").group_by("hid").agg(
        pl.col("pid").min().alias("spouse_pid"))
    roll = roll.join(spouses, on="hid", how="left")
    spouse_agent = (pl.col("kind").is_in(["RURAL", "URBAN"]) & pl.col("spouse_pid").is_not_null()
                    & (pl.col("r2") > 0.95))
    return roll.with_columns(
        pl.col("proxy").alias("payee_pid"),
        pl.when(proxy_holds).then(pl.col("proxy")).otherwise(pl.col("holder_pid")).alias("holder_pid"),
        pl.when(pl.col("proxy").is_not_null() & ~pl.col("guardian_holds")).then(pl.col("proxy"))
        .when(spouse_agent).then(pl.col("spouse_pid")).otherwise(None).alias("agent_pid"),
    ).drop("proxy", "guardian_holds", "spouse_pid", "r", "share", "disab_fund", "tk_amt")


def card_table(rng: np.random.Generator, roll: pl.DataFrame, salt: int = 0) -> pl.DataFrame:
    """One card per card_pid: number, bank, branch, open date."""
    cards = roll.group_by("card_pid").agg(
        pl.col("holder_pid").first(), pl.col("agent_pid").max(), pl.col("township").first(),
        pl.col("start_date").min()).sort("card_pid")
    n = cards.height
    bank = rng.choice(len(BANKS), n, p=[0.5, 0.3, 0.2])
    numbers = np.empty(n, dtype=object)
    seq = np.arange(n) + salt
    for b, (_, prefix, length, bsalt) in enumerate(BANKS):
        sel = bank == b
        numbers[sel] = codes.card_numbers(prefix, seq[sel], length, bsalt)
    names = np.array([b[0] for b in BANKS])[bank]
    lead = pl.duration(days=pl.lit(pl.Series(rng.integers(30, 900, n))))
    return cards.with_columns(
        pl.Series("card_no", numbers.astype(str)), pl.Series("bank", names),
        pl.min_horizontal(pl.col("start_date"), pl.lit(np.datetime64("2022-12-20"))).alias("open_date"),
    ).with_columns(
        pl.max_horizontal(pl.col("open_date") - lead, pl.lit(np.datetime64("2008-05-01")))
        .alias("open_date"),
        (pl.col("bank").str.replace("中国", "").str.replace("山西", "") + pl.col("township")
         + pl.when(pl.col("bank") == "中国农业银行").then(pl.lit("支行")).otherwise(pl.lit("营业所")))
        .alias("branch"),
    ).drop("start_date", "township")


def contacts(persons: pl.DataFrame, households: pl.DataFrame, n_households: int) -> pl.DataFrame:
    """Phone and address of everyone: the household's for members, their own for others."""
    return pl.concat([
        persons.filter(pl.col("role") == "member").join(
            households.select("hid", "phone", "address"), on="hid").select("pid", "phone", "address"),
        extra_contacts(persons, n_households),
    ])


def accounts(cards: pl.DataFrame, persons: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """The bank's account rows: holder and agent names and IDs, phone and address of the holder."""
    who = persons.select("pid", "name", "id_number")
    return (
        cards.join(who.rename({"pid": "holder_pid", "name": "holder_name", "id_number": "holder_id"}),
                   on="holder_pid", how="left")
        .join(who.rename({"pid": "agent_pid", "name": "agent_name", "id_number": "agent_id"}),
              on="agent_pid", how="left")
        .join(contacts.rename({"pid": "holder_pid"}), on="holder_pid", how="left")
        .with_columns(pl.lit("正常").alias("status"), pl.lit(False).alias("precision_lost"))
        .select("card_no", "holder_name", "holder_id", "open_date", "branch", "phone", "address",
                "agent_name", "agent_id", "status", "holder_pid", "agent_pid", "card_pid",
                "precision_lost")
        .sort("card_no")
    )


def finish_roll(roll: pl.DataFrame, cards: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Card numbers and payee names on the roll rows; canonical columns plus internal keys."""
    who = persons.select(pl.col("pid").alias("payee_pid"), pl.col("name").alias("payee_name"),
                         pl.col("id_number").alias("payee_id"))
    return (
        roll.join(cards.select("card_pid", "card_no"), on="card_pid", how="left")
        .join(who, on="payee_pid", how="left")
        .with_columns(pl.lit(REGION).alias("region_code"), pl.lit("ok").alias("id_status"))
        .sort("hid", "slot", "fund")
    )
