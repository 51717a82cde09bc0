"""Hand canonical frames to an engine as narwhals LazyFrames, and bring results back to polars.

polars (default, embedded) needs nothing more; DuckDB needs the `duckdb` extra; Spark the `spark`
extra and Java. Rules never see which engine runs them.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.errors import CardcheckError

ENGINES = ("polars", "duckdb", "spark")


class Engine:
    """One engine session: turns polars frames into narwhals LazyFrames on that engine."""

    name = "polars"

    def lazy(self, df: pl.DataFrame) -> nw.LazyFrame:
        return nw.from_native(df.lazy())

    def collect(self, lf: nw.LazyFrame) -> pl.DataFrame:
        return lf.collect(backend="polars").to_native()

    def materialize(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Compute a frame several rules share once and hand it back as a LazyFrame."""
        return self.lazy(self.collect(lf))

    def close(self) -> None:
        """Release what the engine holds."""


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError:
            raise CardcheckError(
                "--engine duckdb needs DuckDB: pip install 'cardcheck[duckdb]'"
            ) from None
        self.con = duckdb.connect()
        self._n = 0

    def lazy(self, df: pl.DataFrame) -> nw.LazyFrame:
        self._n += 1
        name = f"t{self._n}"
        self.con.register(name, df.to_arrow())
        return nw.from_native(self.con.table(name))

    def close(self) -> None:
        self.con.close()


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, master: str = "local[*]", conf: dict[str, str] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise CardcheckError(
                "--engine spark needs PySpark and Java: pip install 'cardcheck[spark]'"
            ) from None
        builder = SparkSession.builder.master(master).appName("cardcheck")
        defaults = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                    "spark.sql.shuffle.partitions": "8", "spark.sql.ansi.enabled": "false"}
        for key, value in {**defaults, **(conf or {})}.items():
            builder = builder.config(key, value)
        self.spark: Any = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")

    def lazy(self, df: pl.DataFrame) -> nw.LazyFrame:
        # Arrow carries the schema (an empty table too); Spark 4 accepts it directly
        return nw.from_native(self.spark.createDataFrame(df.to_arrow()))

    def materialize(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Cached on the cluster: a shared frame never comes through the driver."""
        return nw.from_native(lf.to_native().cache())

    def close(self) -> None:
        """The Spark session is kept for the process; stopping it is the caller's choice."""


def make_engine(name: str, **options: Any) -> Engine:
    if name == "polars":
        return Engine()
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(**options)
    raise CardcheckError(f"--engine: expected one of {', '.join(ENGINES)}, got {name!r}")
