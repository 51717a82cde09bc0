"""Reference lists (deaths, prisoners, payroll, business, pensions, officials, relatives) and the
neighbouring county's roll, filled with people who are NOT beneficiaries; plant.py adds the
planted ones.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.people import OTHER_COUNTY, OTHER_REGION, REGION
from cardcheck.demo.roll import BANKS, Pool

EMPLOYERS = ["柳林县第一中学", "柳林县人民医院", "柳林县财政局", "柳林县自然资源局", "柳林县公安局",
             "柳林县教育科技局", "吕梁市公路分局柳林段", "柳林县供电公司", "柳林县卫生健康局"]
ENTITIES = ["商贸有限公司", "煤焦运销有限公司", "农资经销部", "副食门市部", "建材经销部", "饭店",
            "运输有限公司", "养殖专业合作社"]
ROLES = ["法定代表人", "个体工商户", "股东", "监事"]
OTHER_TOWNS = ["临泉镇", "白文镇", "城庄镇", "兔坂镇", "克虎镇", "三交镇", "湍水头镇", "林家坪镇"]


def _dates(rng: np.random.Generator, n: int, lo: str, hi: str) -> pl.Series:
    span = (np.datetime64(hi) - np.datetime64(lo)).astype(int)
    return pl.Series(np.datetime64(lo) + rng.integers(0, span + 1, n).astype("timedelta64[D]"))


def _people(persons: pl.DataFrame, pids: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"pid": pids}).join(persons.select("pid", "id_number", "name"), on="pid",
                                               how="left")


def lists(rng: np.random.Generator, persons: pl.DataFrame, pool: Pool, n: int
          ) -> dict[str, pl.DataFrame]:
    """Deaths, prisoners, payroll, business and pension lists of people not on the roll."""
    k = {"deaths": max(5, n // 40), "prisoners": max(3, n // 400), "payroll": max(5, n // 30),
         "business": max(5, n // 20), "pensions": max(5, n // 10)}
    out: dict[str, pl.DataFrame] = {}
    d = _people(persons, pool.take(k["deaths"], "deaths"))
    out["deaths"] = d.with_columns(_dates(rng, d.height, "2021-01-01", "2023-12-20").alias("death_date"))
    p = _people(persons, pool.take(k["prisoners"], "prisoners"))
    start = _dates(rng, p.height, "2017-01-01", "2023-10-01")
    out["prisoners"] = p.with_columns(
        start.alias("start_date"),
        (start + pl.duration(days=pl.lit(pl.Series(rng.integers(180, 2500, p.height))))).alias("end_date"),
    ).with_columns(  # still serving: no release date yet (far-future dates look like typos)
        pl.when(pl.col("end_date") <= pl.date(2024, 12, 31)).then(pl.col("end_date")))
    w = _people(persons, pool.take(k["payroll"], "payroll"))
    out["payroll"] = w.with_columns(
        pl.Series("employer", np.array(EMPLOYERS)[rng.integers(0, len(EMPLOYERS), w.height)]),
        _dates(rng, w.height, "1995-01-01", "2022-09-01").alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"))
    b = _people(persons, pool.take(k["business"], "business"))
    ent = np.char.add(np.array(codes.SURNAMES)[rng.integers(0, len(codes.SURNAMES), b.height)],
                      np.char.add("氏", np.array(ENTITIES)[rng.integers(0, len(ENTITIES), b.height)]))
    out["business"] = b.with_columns(
        pl.Series("role", np.array(ROLES)[rng.integers(0, len(ROLES), b.height)]),
        (pl.lit("柳林县") + pl.Series(ent)).alias("entity"),
        _dates(rng, b.height, "2005-01-01", "2023-03-01").alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"))
    q = _people(persons, pool.take(k["pensions"], "pensions"))
    out["pensions"] = q.with_columns(
        pl.Series("monthly_pension", rng.integers(1800, 4200, q.height) * 100),
        _dates(rng, q.height, "2008-01-01", "2023-06-01").alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"))
    return out


def officials(rng: np.random.Generator, persons: pl.DataFrame, pool: Pool,
              villages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Village cadres (two a village) and one 民政 worker a township, with their relatives filed."""
    vil = villages.select("t", "vid", "township", "village")
    cadres = pl.concat([vil.with_columns(pl.lit(pos).alias("position"), pl.lit(i).alias("k"))
                        for i, pos in enumerate(["村委会主任", "村党支部书记"])])
    workers = vil.group_by("t").agg(pl.col("vid").min(), pl.col("township").first()).with_columns(
        pl.lit("").alias("village"), pl.lit("民政经办人").alias("position"), pl.lit(2).alias("k"))
    off = pl.concat([cadres, workers.select(cadres.columns)]).sort("t", "vid", "k")
    off = off.with_columns(pl.Series("pid", pool.take(off.height, "officials"))).join(
        persons.select("pid", "id_number", "name"), on="pid")
    off = off.with_columns(
        (pl.col("township") + pl.col("village")).alias("region"),
        # the official's own household: numbered after the roll's households of the village
        (pl.lit(REGION) + pl.col("t").add(1).cast(pl.String).str.zfill(3)
         + pl.col("vid").add(1).cast(pl.String).str.zfill(3)
         + (90000 + pl.int_range(pl.len()).over("vid")).cast(pl.String)).alias("household_id"),
    )
    rel = off.select(pl.col("id_number").alias("official_id"), pl.col("name").alias("official_name"))
    rel = rel.with_columns(pl.Series("rpid", pool.take(rel.height, "relatives"))).join(
        persons.select(pl.col("pid").alias("rpid"), pl.col("id_number").alias("relative_id"),
                       pl.col("name").alias("relative_name")), on="rpid")
    rel = rel.with_columns(
        pl.Series("relation", np.array(["配偶", "子女", "兄弟姐妹", "父母"])[rng.integers(0, 4, rel.height)]),
        pl.Series("filed", rng.random(rel.height) < 0.85),
    ).drop("rpid")
    return off.select("pid", "id_number", "name", "position", "region", "household_id", "t", "vid"), rel


def other_roll(rng: np.random.Generator, persons: pl.DataFrame) -> pl.DataFrame:
    """The neighbouring county's roll (临县): its own people, one row per person."""
    o = persons.filter(pl.col("role") == "other").select("pid", "id_number", "name")
    n = o.height
    town = rng.integers(0, len(OTHER_TOWNS), n)
    tk = rng.random(n) < 0.2
    return o.with_columns(
        pl.lit(OTHER_REGION).alias("region_code"),
        pl.Series("township", np.array(OTHER_TOWNS)[town]),
        pl.Series("village", np.char.add(np.array(codes.SURNAMES)[rng.integers(0, len(codes.SURNAMES), n)], "家庄村")),
        (pl.lit(OTHER_REGION) + pl.Series(town + 1).cast(pl.String).str.zfill(3) + pl.lit("000")
         + pl.int_range(1, n + 1).cast(pl.String).str.zfill(5)).alias("household_id"),
        pl.lit("户主").alias("relation"),
        pl.Series("fund", np.where(tk, "特困供养", "农村低保")),
        pl.Series("monthly_amount", np.where(tk, rng.integers(600, 901, n), rng.integers(300, 461, n)) * 100),
        _dates(rng, n, "2012-01-01", "2022-12-01").alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"),
        pl.Series("card_no", codes.card_numbers(622848, np.arange(n) + 10**7, 19, BANKS[0][3])),
        pl.lit(None, pl.String).alias("phone"),
        pl.lit(OTHER_COUNTY).alias("source_region"),
    ).drop("pid")
