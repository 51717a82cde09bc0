"""The county's people: townships and villages, households with members, and everyone else.

柳林县 (141125, 山西吕梁) with 15 townships. Households come in five kinds (RURAL 农村低保,
URBAN 城市低保, TEKUN 特困, ORPHAN 孤儿, DISAB 残疾人 only); their members get relations and birth
dates that fit one another. People who are not beneficiaries (guardians, 代领人, officials,
people on reference lists, the neighbouring county's roll) are drawn from the same pool, so every
ID number in the demo is distinct and valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cardcheck.demo import codes

REGION = "141125"
COUNTY = "柳林县"
TITLE_COUNTY = "山西省吕梁市柳林县"
OTHER_REGION = "141124"
OTHER_COUNTY = "临县"
TOWNSHIPS = ["柳林镇", "穆村镇", "薛村镇", "庄上镇", "留誉镇", "三交镇", "成家庄镇", "孟门镇",
             "金家庄镇", "石西乡", "高家沟乡", "王家沟乡", "贾家垣乡", "陈家湾乡", "李家湾乡"]
VILLAGE_STEMS = list("高王李张刘郭贾任白薛杨赵武冯田马孙陈宋闫梁韩乔吕霍成贺穆康石崔")
VILLAGE_ENDS = ["家庄", "家沟", "家塔", "家坪", "家湾", "家峁", "家山", "家岭", "家垣", "家坡"]
STREETS = ["青龙", "龙门", "凤山", "锦源", "滨河", "府佐"]

KINDS = ("RURAL", "URBAN", "TEKUN", "ORPHAN", "DISAB")
KIND_P = np.array([0.70, 0.12, 0.08, 0.015, 0.085])
REF_DAY = np.datetime64("2023-06-30")


@dataclass
class County:
    households: pl.DataFrame  # hid, household_id, kind, township, village, size, phone, address
    persons: pl.DataFrame  # pid, hid, slot, relation, name, male, birth, id_number, role


def villages(n_households: int) -> pl.DataFrame:
    """Villages per township, scaled with the county's size (3 to 25 each)."""
    per = int(np.clip(n_households // (len(TOWNSHIPS) * 120), 3, 25))
    rows = []
    for t, town in enumerate(TOWNSHIPS):
        for v in range(per):
            if t == 0 and v < max(2, per // 3):
                name = f"{STREETS[v % len(STREETS)]}社区" + ("" if v < len(STREETS) else str(v))
                urban = True
            else:
                k = t * 37 + v * 11
                stem = VILLAGE_STEMS[k % len(VILLAGE_STEMS)]
                end = VILLAGE_ENDS[(k // len(VILLAGE_STEMS) + v) % len(VILLAGE_ENDS)]
                name = f"{stem}{end}村"
                urban = False
            rows.append((t, v, town, name, urban))
    df = pl.DataFrame(rows, schema=["t", "v", "township", "village", "urban"], orient="row")
    # two villages of one township may draw the same name: number the later ones
    dup = pl.int_range(pl.len()).over(["township", "village"])
    return df.with_columns(
        pl.when(dup > 0).then(pl.col("village").str.replace("村$", "") + (dup + 1).cast(pl.String)
                              + "村").otherwise(pl.col("village")).alias("village")
    ).with_row_index("vid")


def _households(rng: np.random.Generator, n: int, vil: pl.DataFrame) -> pl.DataFrame:
    kind = rng.choice(len(KINDS), size=n, p=KIND_P)
    for k, need in ((3, 4), (4, 8)):  # a few orphans and disabled households, however small
        short = need - int((kind == k).sum())
        if short > 0:
            kind[np.flatnonzero(kind == 0)[:short]] = k
    urban_v = vil.filter(pl.col("urban"))["vid"].to_numpy()
    rural_v = vil.filter(~pl.col("urban"))["vid"].to_numpy()
    vid = np.where(kind == 1, urban_v[rng.integers(0, len(urban_v), n)],
                   rural_v[rng.integers(0, len(rural_v), n)])
    size = rng.choice(np.arange(1, 7), size=n, p=[0.22, 0.30, 0.20, 0.15, 0.09, 0.04])
    size = np.where(kind >= 2, 1, size)
    size = np.where((kind == 4) & (rng.random(n) < 0.25), 2, size)
    size[np.flatnonzero(kind == 4)[:2]] = 2  # two disabled members sharing the household's phone
    head_age = np.select(
        [kind == 2, kind == 3, kind == 4],
        [rng.integers(58, 95, n), rng.integers(3, 18, n), rng.integers(22, 80, n)],
        rng.integers(28, 86, n),
    )
    df = pl.DataFrame({
        "hid": np.arange(n, dtype=np.int64), "kind": np.array(KINDS)[kind], "vid": vid,
        "size": size.astype(np.int64), "head_age": head_age.astype(np.int64),
        "head_male": rng.random(n) < np.where(kind == 3, 0.5, 0.75),
        "surname": rng.integers(0, len(codes.SURNAMES), n),
    }).join(vil.select("vid", "t", "township", "village"), on="vid", how="left")
    seq = pl.int_range(1, pl.len() + 1).over("vid")
    return df.with_columns(
        (pl.lit(REGION) + pl.col("t").add(1).cast(pl.String).str.zfill(3)
         + pl.col("vid").add(1).cast(pl.String).str.zfill(3) + seq.cast(pl.String).str.zfill(5)
         ).alias("household_id"),
        seq.alias("house_no"),
    ).sort("hid")


def _members(rng: np.random.Generator, hh: pl.DataFrame) -> pl.DataFrame:
    """One row per household member, with a relation and an age that fit the 户主."""
    m = hh.select("hid", "kind", "size", "head_age", "head_male", "surname").with_columns(
        pl.int_ranges(0, pl.col("size")).alias("slot")).explode("slot")
    n = m.height
    slot = m["slot"].to_numpy()
    size = m["size"].to_numpy()
    head_age = m["head_age"].to_numpy()
    head_male = m["head_male"].to_numpy()
    r = rng.random(n)
    spouse = (slot == 1) & (head_age >= 25) & (r < 0.85)
    parent = (slot >= 2) & (slot == size - 1) & (head_age <= 52) & (r < 0.35)
    grand = (slot >= 3) & (head_age >= 58)
    relation = np.select([slot == 0, spouse, parent, grand], ["户主", "配偶", "父母", "孙子女"],
                         "子女")
    age = np.select(
        [slot == 0, spouse, parent, grand],
        [head_age, np.clip(head_age + rng.integers(-6, 4, n), 20, 98),
         np.clip(head_age + rng.integers(22, 34, n), 0, 99),
         np.clip(head_age - rng.integers(46, 62, n), 1, 30)],
        np.clip(head_age - rng.integers(22, 38, n), 1, 70),
    )
    male = np.select([slot == 0, spouse], [head_male, ~head_male], rng.random(n) < 0.5)
    surname = np.where(spouse | (parent & ~male), rng.integers(0, len(codes.SURNAMES), n),
                       m["surname"].to_numpy())
    return m.select("hid", "slot").with_columns(
        pl.Series("relation", relation), pl.Series("age", age.astype(np.int64)),
        pl.Series("male", male), pl.Series("surname", surname.astype(np.int64)),
    )


def _extras(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """People outside the roll's households: adults, mostly of this county."""
    return pl.DataFrame({
        "hid": pl.Series([None] * n, dtype=pl.Int64), "slot": pl.Series([None] * n, dtype=pl.Int64),
        "relation": pl.Series([None] * n, dtype=pl.String),
        "age": rng.integers(22, 78, n).astype(np.int64), "male": rng.random(n) < 0.6,
        "surname": rng.integers(0, len(codes.SURNAMES), n).astype(np.int64),
    })


def _assign_ids(rng: np.random.Generator, people: pl.DataFrame, region: np.ndarray) -> pl.DataFrame:
    """Birth dates from ages, then distinct IDs: sequence = rank within (region, birth, sex)."""
    n = people.height
    birth = REF_DAY - (people["age"].to_numpy() * 365.25).astype("int64").astype("timedelta64[D]") \
        - rng.integers(0, 365, n).astype("timedelta64[D]")
    birth = np.minimum(birth, np.datetime64("2022-12-31"))
    df = people.with_columns(pl.Series("birth", birth.astype("datetime64[D]")),
                             pl.Series("region", region.astype(np.int64)),
                             pl.Series("order", rng.permutation(n)))
    rank = pl.col("order").rank("ordinal").over(["region", "birth", "male"]).cast(pl.Int64) - 1
    offset = (pl.col("birth").cast(pl.Int64) * 37 + pl.col("region")) % 300 * 2
    df = df.with_columns((rank * 2 + 10 + offset + pl.col("male").cast(pl.Int64)).alias("seq"))
    if (df["seq"] >= 1000).any():  # pragma: no cover - needs > 490 people born one day
        raise ValueError("too many people share a birth date for distinct ID numbers")
    ids = codes.id_numbers(df["region"].to_numpy(), df["birth"].to_numpy(), df["seq"].to_numpy())
    names = codes.names(rng, df["surname"].to_numpy(), df["male"].to_numpy())
    return df.with_columns(pl.Series("id_number", ids), pl.Series("name", names)).drop("order", "seq")


def build(rng: np.random.Generator, n_households: int, n_extras: int, n_other: int) -> County:
    """The households, their members and `n_extras` + `n_other` other people (the latter of the
    neighbouring county)."""
    vil = villages(n_households)
    hh = _households(rng, n_households, vil)
    members = _members(rng, hh).with_columns(pl.lit("member").alias("role"))
    extras = _extras(rng, n_extras).with_columns(pl.lit("extra").alias("role"))
    other = _extras(rng, n_other).with_columns(pl.lit("other").alias("role"))
    people = pl.concat([members, extras, other])
    n_mem = members.height
    region = np.full(people.height, int(REGION))
    moved_in = rng.random(people.height) < 0.04
    region = np.where(moved_in, rng.choice([141124, 141126, 141181, 141102], people.height), region)
    region[n_mem + n_extras:] = int(OTHER_REGION)
    persons = _assign_ids(rng, people, region).with_row_index("pid").with_columns(
        pl.col("pid").cast(pl.Int64))
    phone_keys = hh["hid"].to_numpy()
    households = hh.with_columns(
        pl.Series("phone", codes.phones(phone_keys, 52_718_309)),
        (pl.lit(COUNTY) + pl.col("township") + pl.col("village")
         + pl.col("house_no").cast(pl.String) + pl.lit("号")).alias("address"),
    ).drop("head_age", "head_male", "surname", "vid")
    return County(households, persons.drop("surname"))


def extra_contacts(persons: pl.DataFrame, n_households: int) -> pl.DataFrame:
    """Phone and address of people outside the households (keys after the households')."""
    ex = persons.filter(pl.col("role") != "member").select("pid")
    keys = ex["pid"].to_numpy() + n_households + 1
    street = np.array(STREETS)[keys % len(STREETS)]
    return ex.with_columns(
        pl.Series("phone", codes.phones(keys, 52_718_309)),
        (pl.lit(f"{COUNTY}柳林镇") + pl.Series(street) + pl.lit("街")
         + pl.Series(keys % 997 + 1).cast(pl.String) + pl.lit("号")
         + pl.Series(keys // 997 + 1).cast(pl.String) + pl.lit("室")).alias("address"),
    )
