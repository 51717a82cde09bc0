"""The demo county while it is being built: every table, the people not yet used, the truth.

Plants pick "plain" households (one fund per person, the whole year, no payee, agent or one-off)
that no other plant has used, so each planted case trips its own rule and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from cardcheck.demo.payments import Ledger
from cardcheck.demo.people import County
from cardcheck.demo.roll import Pool
from cardcheck.errors import CardcheckError

TRUTH = {"rule": pl.String, "kind": pl.String, "household_id": pl.String, "id_number": pl.String,
         "card_no": pl.String, "note": pl.String}
EXTRA_CARD = 10**9  # card keys of cards that are not a person's main card


@dataclass
class World:
    rng: np.random.Generator
    county: County
    pool: Pool
    roll: pl.DataFrame
    n_households: int
    villages: pl.DataFrame
    accounts: pl.DataFrame = field(default_factory=pl.DataFrame)
    ledger: Ledger | None = None  # the payments (set once the accounts are final)
    lists: dict[str, pl.DataFrame] = field(default_factory=dict)
    officials: pl.DataFrame = field(default_factory=pl.DataFrame)
    relatives: pl.DataFrame = field(default_factory=pl.DataFrame)
    other_roll: pl.DataFrame = field(default_factory=pl.DataFrame)
    loose: list[dict[str, Any]] = field(default_factory=list)  # cards not from the roll
    profiles: list[dict[str, Any]] = field(default_factory=list)
    truth_rows: list[dict[str, Any]] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    plain: pl.DataFrame = field(default_factory=pl.DataFrame)
    contact_frame: pl.DataFrame = field(default_factory=pl.DataFrame)
    # hand-overs between the stages of planting
    split_household: tuple[int, int] = (-1, -1)
    lookalike_cards: list[tuple[str, int, str]] = field(default_factory=list)
    p01_keys: list[int] = field(default_factory=list)
    late_deaths: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    moved_here: list[dict[str, Any]] = field(default_factory=list)
    precheck: dict[str, int] = field(default_factory=dict)  # households of the batch's look-alikes
    # draws of the plants added last (plant_shared), apart from `rng` so that adding them
    # changes no draw of the plants before
    late_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    # ------------------------------------------------------------------ choosing households
    def find_plain(self) -> None:
        """Households fit for planting: each person one fund, the whole year, nothing special."""
        r = self.roll
        per = r.group_by("hid").agg(
            pl.col("kind").first(), pl.len().alias("rows"), pl.col("pid").n_unique().alias("people"),
            pl.col("payee_pid").is_not_null().any().alias("payee"),
            pl.col("agent_pid").is_not_null().any().alias("agent"),
            (pl.col("start_date") >= pl.date(2023, 1, 1)).any().alias("new"),
            pl.col("end_date").is_not_null().any().alias("ends"),
            pl.col("region").ne(141125).any().alias("moved"),
        )
        self.plain = per.filter(
            (pl.col("rows") == pl.col("people")) & ~pl.col("payee") & ~pl.col("agent")
            & ~pl.col("new") & ~pl.col("ends") & ~pl.col("moved")
            & (pl.col("kind").is_in(["RURAL", "URBAN", "TEKUN"])
               | ((pl.col("kind") == "DISAB") & (pl.col("people") == 1)))
        ).select("hid", "kind", "people").sort("hid")
        order = self.rng.permutation(self.plain.height)
        self.plain = self.plain.with_columns(pl.Series("order", order)).sort("order")

    def pick(self, kinds: tuple[str, ...], n: int = 1, min_size: int = 1,
             max_size: int = 9) -> list[int]:
        cand = self.plain.filter(pl.col("kind").is_in(kinds) & pl.col("people").is_between(min_size, max_size)
                                 & ~pl.col("hid").is_in(sorted(self.used)))
        out = cand["hid"].head(n).to_list()
        if len(out) < n:
            raise CardcheckError(
                f"the demo county is too small to plant every case ({'/'.join(kinds)} households "
                f"run out); use more --households")
        self.used.update(out)
        return out

    def pick_last(self, kinds: tuple[str, ...], n: int = 1, min_size: int = 1) -> list[int]:
        """Like pick, from the other end of the order: plants added later take these, so the
        households every earlier plant picks stay the same."""
        cand = self.plain.filter(pl.col("kind").is_in(kinds) & (pl.col("people") >= min_size)
                                 & ~pl.col("hid").is_in(sorted(self.used)))
        out = cand["hid"].tail(n).reverse().to_list()
        if len(out) < n:
            raise CardcheckError(
                f"the demo county is too small to plant every case ({'/'.join(kinds)} households "
                f"run out); use more --households")
        self.used.update(out)
        return out

    def person(self) -> int:
        """A beneficiary of a person-level fund (特困 or a disabled person living alone)."""
        return self.pick(("TEKUN", "DISAB"))[0]

    def rows(self, hid: int) -> list[dict[str, Any]]:
        return self.roll.filter(pl.col("hid") == hid).sort("slot", "fund").to_dicts()

    def head(self, hid: int) -> dict[str, Any]:
        return self.rows(hid)[0]

    def who(self, pid: int) -> dict[str, Any]:
        return self.county.persons.filter(pl.col("pid") == pid).to_dicts()[0]

    def contacts(self, pid: int) -> dict[str, Any]:
        return self.contact_frame.filter(pl.col("pid") == pid).to_dicts()[0]

    def take(self, purpose: str) -> dict[str, Any]:
        return self.who(int(self.pool.take(1, purpose)[0]))

    # ------------------------------------------------------------------ editing tables
    def set_roll(self, cond: pl.Expr, **values: Any) -> None:
        self.roll = self.roll.with_columns(
            [pl.when(cond).then(pl.lit(v, dtype=self.roll.schema[c])).otherwise(pl.col(c)).alias(c)
             for c, v in values.items()])

    def add_roll(self, row: dict[str, Any], **changes: Any) -> None:
        new = pl.DataFrame([{**row, **changes}], schema=self.roll.schema)
        self.roll = pl.concat([self.roll, new])

    def new_card(self, holder_pid: int, like: dict[str, Any], agent_pid: int | None = None) -> int:
        """A card key for a further card (held by `holder_pid`), numbered with the others."""
        key = EXTRA_CARD + len(self.loose)
        self.loose.append({"card_pid": key, "holder_pid": holder_pid, "agent_pid": agent_pid,
                           "t": like["t"], "township": like["township"],
                           "start_date": like["start_date"]})
        return key

    def card_of(self, hid: int) -> str:
        return str(self.head(hid)["card_no"])

    def set_account(self, card_no: str, **values: Any) -> None:
        cond = pl.col("card_no") == card_no
        self.accounts = self.accounts.with_columns(
            [pl.when(cond).then(pl.lit(v, dtype=self.accounts.schema[c])).otherwise(pl.col(c)).alias(c)
             for c, v in values.items()])

    @property
    def pays(self) -> Ledger:
        if self.ledger is None:  # pragma: no cover - plant order is fixed in build()
            raise RuntimeError("payments are planted only after the accounts are final")
        return self.ledger

    def add_list_row(self, kind: str, row: dict[str, Any]) -> None:
        frame = self.lists[kind]
        self.lists[kind] = pl.concat([frame, pl.DataFrame([row], schema=frame.schema)])

    # ------------------------------------------------------------------ the truth file
    def truth(self, rule: str, kind: str = "planted", household_id: str | None = None,
              id_number: str | None = None, card_no: str | None = None, note: str = "") -> None:
        self.truth_rows.append({"rule": rule, "kind": kind, "household_id": household_id,
                                "id_number": id_number, "card_no": card_no, "note": note})

    def truth_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.truth_rows, schema=TRUTH).sort("rule", "kind", "household_id",
                                                                 "id_number", "card_no")
