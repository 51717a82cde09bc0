"""`cardcheck demo`: a synthetic county with planted cases of every rule and a truth file.

    write_demo(out, households=2000, seed=7, clean=False) -> summary text

writes the roll, the bank's account master, payments, transactions, the reference lists and a
neighbouring county's roll into `out`, with `inputs.yaml` (which file is which, for
`cardcheck check --inputs out`) and `truth.csv` (every planted case and look-alike), and the
batch of the last month for `cardcheck precheck` with its history and truth (batch.py). Without
`clean` the files come in the shapes real exports have (GBK CSV with a title, totals and footer,
an XLSX account master with spaced card numbers, mixed date formats …); every messy value still
decodes to the truth. `demo_frames()` gives the same county as canonical frames, for tests
(`canonical_frames(build(...))` for a county already built).

Generation is whole-column (numpy + polars); only the planted cases (a few dozen) are placed one by
one. The same seed gives the same bytes. Shapes too rare for a small county are planted on purpose
(plant_shared.py): orphan siblings on one guardian's card and two disabled members' subsidies on
the 户主's card, paid in full and as P03-P05 cases.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from cardcheck.config import load_config
from cardcheck.demo import (
    batch,
    payments,
    people,
    plant_card,
    plant_elig,
    plant_pay,
    plant_shared,
    refs,
    roll,
    transactions,
)
from cardcheck.demo.county import Demo
from cardcheck.demo.world import World
from cardcheck.demo.write import canonical, write_all
from cardcheck.errors import CardcheckError
from cardcheck.normalize.derive import derive

MIN_HOUSEHOLDS = 300


def build(households: int = 2000, seed: int = 7) -> Demo:
    """Generate the county in memory."""
    if households < MIN_HOUSEHOLDS:
        raise CardcheckError(f"--households: the demo needs at least {MIN_HOUSEHOLDS} households "
                             f"to plant every case apart (got {households})")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_extras = households // 4 + 3000
    county = people.build(rng, households, n_extras, households // 8 + 50)
    extras = county.persons.filter(pl.col("role") == "extra")["pid"].to_numpy()
    pool = roll.Pool(extras)
    r = roll.build_roll(rng, county, pool)
    vil = people.villages(households)
    w = World(np.random.default_rng([seed, 1]), county, pool, r, households, vil,
              late_rng=np.random.default_rng([seed, 5]))
    w.contact_frame = roll.contacts(county.persons, county.households, households)
    w.lists = refs.lists(rng, county.persons, pool, households)
    w.officials, w.relatives = refs.officials(rng, county.persons, pool, vil)
    w.other_roll = refs.other_roll(rng, county.persons)
    w.find_plain()
    # roll shapes (cards added or moved) before cards are numbered
    plant_card.c01(w)
    plant_card.c02(w)
    plant_card.lookalikes_roll(w)
    plant_pay.p01_cards(w)
    plant_elig.e06(w)
    plant_elig.lookalikes_roll(w)
    loose = pl.DataFrame(w.loose, schema={"card_pid": pl.Int64, "holder_pid": pl.Int64,
                                          "agent_pid": pl.Int64, "t": pl.Int64, "township": pl.String,
                                          "start_date": pl.Date})
    cards = roll.card_table(rng, pl.concat([
        w.roll.select("card_pid", "holder_pid", "agent_pid", "township", "start_date"),
        loose.select("card_pid", "holder_pid", "agent_pid", "township", "start_date")]))
    w.roll = roll.finish_roll(w.roll, cards, county.persons)
    w.accounts = roll.accounts(cards, county.persons, w.contact_frame)
    plant_card.lookalike_accounts(w)
    # the bank's account rows, before payments copy the 户名
    plant_card.c03(w)
    plant_card.c04(w)
    plant_card.c06(w)
    plant_elig.e09_accounts(w)
    w.ledger = payments.ledger(rng, w.roll, w.accounts)
    for step in (plant_pay.c02_split, plant_pay.p01, plant_pay.p02, plant_pay.p03, plant_pay.p04,
                 plant_pay.p05, plant_pay.p06, plant_pay.lookalikes, plant_card.c05,
                 plant_card.c07, plant_card.c08, plant_elig.e01, plant_elig.e02,
                 plant_elig.e03_e05, plant_elig.e07, plant_elig.e08, plant_elig.e09_roll,
                 plant_shared.orphan_siblings, plant_shared.disabled_pairs,
                 batch.precheck_lookalikes):
        step(w)
    profiles = transactions.profiles(w.profiles)
    return Demo(w, w.truth_frame(), time.perf_counter() - t0, seed, profiles)


def write_demo(out: str | Path, households: int = 2000, seed: int = 7, clean: bool = False) -> str:
    """Generate the county and write it into `out`; returns a summary for the terminal."""

    demo = build(households, seed)
    t0 = time.perf_counter()
    files = write_all(demo, Path(out), clean=clean)
    return summary(demo, Path(out), files, time.perf_counter() - t0, clean)


def demo_frames(households: int = 2000, seed: int = 7) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The county as canonical frames (what the readers produce from its files) and the truth."""

    demo = build(households, seed)
    return canonical_frames(demo), demo.truth


def canonical_frames(demo: Demo) -> dict[str, pl.DataFrame]:
    """The county `build` made as canonical frames, with the columns the readers derive (what
    they produce from its files)."""
    config = load_config()
    return {k: derive(k, df, config) for k, df in canonical(demo).items()}


def summary(demo: Demo, out: Path, files: dict[str, int], write_s: float, clean: bool) -> str:
    """What was written, for the terminal."""
    w = demo.world
    truth = demo.truth
    planted = truth.filter(pl.col("kind") == "planted")
    planted_rules = planted["rule"].n_unique()
    lines = [
        f"{people.COUNTY} ({people.REGION}) demo county written to {out} "
        + ("(clean CSV):" if clean else "(messy real-world shapes):"),
        f"  {w.n_households:,} households, {w.roll['pid'].n_unique():,} beneficiaries, "
        + f"{w.roll.height:,} roll rows, {w.accounts.height:,} cards",
        f"  {files['payments']:,} payments, {files['transactions']:,} transactions, "
        + f"{sum(df.height for df in w.lists.values()):,} reference-list rows, "
        + f"{w.other_roll.height:,} rows on {people.OTHER_COUNTY}'s roll",
        f"  {planted.height} planted cases of {planted_rules} rules and "
        + f"{truth.height - planted.height} look-alikes in truth.csv",
        f"  generated in {demo.seconds:.1f}s, written in {write_s:.1f}s; "
        + f"check it with: cardcheck check --inputs {out} --out {out}/run",
        f"  {files.get('batch', 0):,} lines in {batch.BATCH}.csv, December's batch (planted "
        + f"lines in {batch.BATCH}_truth.csv); screen it with: cardcheck precheck --inputs "
        + f"{out} --batch {out}/{batch.BATCH}.csv --payments {out}/{batch.HISTORY}.csv "
        + f"--month 2023-12 --ledger {out}/run/cardcheck.db --out {out}/precheck",
    ]
    return "\n".join(lines)
