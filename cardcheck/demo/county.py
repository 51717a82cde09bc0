"""The demo county as generated: the World with its tables and the truth, and the payments and
transactions made month by month (so a large county fits in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from cardcheck.demo import transactions
from cardcheck.demo.world import World


@dataclass
class Demo:
    """The county as generated: raw tables (with internal keys) and the truth. Transactions are
    made month by month when written (`transaction_chunks`), so a large county fits in memory."""

    world: World
    truth: pl.DataFrame
    seconds: float
    seed: int
    profiles: pl.DataFrame

    def months(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        """(payments, transactions) made for each month of the year, one month at a time."""
        for month in range(1, 13):
            pays = self.world.pays.month(month)
            rng = np.random.default_rng([self.seed, 3, month])
            yield pays, transactions.month_chunk(rng, pays, self.profiles)

    @property
    def payments(self) -> pl.DataFrame:
        return self.world.pays.all()

    @property
    def transactions(self) -> pl.DataFrame:
        return pl.concat([t for _, t in self.months()])
