"""Hand canonical frames to an engine as narwhals LazyFrames, and bring results back to polars.

polars (default, embedded) needs nothing more; DuckDB needs the `duckdb` extra; Spark the `spark`
extra and Java. Rules never see which engine runs them.

Two ways in: `lazy(df)` hands over a polars frame read and normalised on this machine;
`scan(paths, fmt)` lets the engine read canonical Parquet (or CSV) tables itself (`check
--canonical`): polars `scan_parquet`, DuckDB `read_parquet`, Spark `spark.read.parquet` on the
cluster. `write_parquet` is the way out for large results, written by the engine too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.errors import CardcheckError

ENGINES = ("polars", "duckdb", "spark")
STAGE_ROWS = 10_000  # Spark local mode: frames this large are handed over as Parquet


def polars_affinity(engine: str) -> contextlib.AbstractContextManager[Any]:
    """Within it, every polars collect without an engine of its own runs on `engine`
    ("in-memory", "streaming" or "auto"); a POLARS_ENGINE_AFFINITY set by the user wins, and a
    polars without the setting keeps its default."""
    if os.environ.get("POLARS_ENGINE_AFFINITY") or not hasattr(pl.Config, "set_engine_affinity"):
        return contextlib.nullcontext()
    return pl.Config(engine_affinity=engine)  # type: ignore[arg-type]


@dataclass
class Scanned:
    """A canonical table the engine reads itself, with what `run_rules` asks of a frame before
    it runs a rule (`columns`, `height`, a column's `null_count()`), counted in one aggregate
    pass on the engine, so the table never comes to this machine."""

    lazy: nw.LazyFrame
    height: int
    filled: dict[str, int]  # column -> non-null values

    @property
    def columns(self) -> list[str]:
        return list(self.filled)

    def get_column(self, name: str) -> _Nulls:
        return _Nulls(self.height - self.filled[name])


@dataclass
class _Nulls:
    nulls: int

    def null_count(self) -> int:
        return self.nulls


def scanned(lf: nw.LazyFrame) -> Scanned:
    """Count rows and non-null values per column in one pass on the engine."""
    return scanned_all({"t": lf})["t"]


def scanned_all(lfs: dict[str, nw.LazyFrame]) -> dict[str, Scanned]:
    """`scanned` for several tables in one query (the one-row counts cross-joined), so Spark
    runs one job instead of one per table."""
    if not lfs:
        return {}
    names = {k: lf.collect_schema().names() for k, lf in lfs.items()}
    parts = [lf.select(nw.len().alias(f"r{i}"),
                       *[nw.col(c).count().alias(f"n{i}_{j}") for j, c in enumerate(names[k])])
             for i, (k, lf) in enumerate(lfs.items())]
    query = parts[0]
    for part in parts[1:]:
        query = query.join(part, how="cross")
    row = query.collect(backend="polars").to_native().row(0, named=True)
    return {k: Scanned(lf, int(row[f"r{i}"]),
                       {c: int(row[f"n{i}_{j}"]) for j, c in enumerate(names[k])})
            for i, (k, lf) in enumerate(lfs.items())}


def owner_only(path: str) -> None:
    """A local output (file, or a folder of part files) readable by its owner only."""
    try:
        if os.path.isdir(path):
            os.chmod(path, 0o700)
            for name in os.listdir(path):
                owner_only(os.path.join(path, name))
        elif os.path.isfile(path):
            os.chmod(path, 0o600)
    except OSError:
        pass  # a file system without Unix modes


class Engine:
    """One engine session: turns polars frames into narwhals LazyFrames on that engine."""

    name = "polars"

    def lazy(self, df: pl.DataFrame | Scanned) -> nw.LazyFrame:
        if isinstance(df, Scanned):
            return df.lazy
        return nw.from_native(df.lazy())

    def collect(self, lf: nw.LazyFrame) -> pl.DataFrame:
        return lf.collect(backend="polars").to_native()

    def materialize(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Compute a frame several rules share once and hand it back as a LazyFrame."""
        return self.lazy(self.collect(lf))

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """A frame one rule's query uses more than once, computed once (materialised). polars
        computed such a frame again for every use: the columns each use needs are pushed into
        its copy, so the copies differ and common-subplan caching misses them (the
        attribution's matching at prefecture size: 3.1 s as one query, 1.1 s kept). DuckDB
        gets the same materialised table."""
        return self.materialize(lf)

    def scan(self, paths: list[str], fmt: str) -> nw.LazyFrame:
        """The files of one table, read lazily by the engine (CSV: every column as text)."""
        if fmt == "parquet":
            return nw.from_native(pl.scan_parquet(paths))
        return nw.from_native(pl.scan_csv(paths, infer_schema=False))

    def write_parquet(self, lf: nw.LazyFrame, target: str, small: bool = False) -> None:
        """Write a frame as Parquet at `target` (one file here; a folder of parts on Spark,
        one part when `small`)."""
        lf.to_native().sink_parquet(target)
        owner_only(target)

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

    def lazy(self, df: pl.DataFrame | Scanned) -> nw.LazyFrame:
        if isinstance(df, Scanned):
            return df.lazy
        self._n += 1
        name = f"t{self._n}"
        self.con.register(name, df.to_arrow())
        return nw.from_native(self.con.table(name))

    def scan(self, paths: list[str], fmt: str) -> nw.LazyFrame:
        if fmt == "parquet":
            return nw.from_native(self.con.read_parquet(paths))
        return nw.from_native(self.con.read_csv(paths, header=True, all_varchar=True))

    def write_parquet(self, lf: nw.LazyFrame, target: str, small: bool = False) -> None:
        lf.to_native().write_parquet(target)
        owner_only(target)

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
        if master.startswith("local"):
            # local mode runs every task in the driver's JVM, whose 1 GB default heap a county
            # exhausts (Spark then hangs instead of failing); give it half this machine's memory
            defaults["spark.driver.memory"] = local_driver_memory()
        for key, value in {**defaults, **(conf or {})}.items():
            builder = builder.config(key, value)
        self.spark: Any = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        self._staging: str | None = None
        self._staged = 0

    def lazy(self, df: pl.DataFrame | Scanned) -> nw.LazyFrame:
        if isinstance(df, Scanned):
            return df.lazy
        if df.height >= STAGE_ROWS and self.spark.sparkContext.master.startswith("local"):
            return nw.from_native(self.spark.read.parquet(self._stage(df)))
        # Arrow carries the schema (an empty table too); Spark 4 accepts it directly
        return nw.from_native(self.spark.createDataFrame(df.to_arrow()))

    def _stage(self, df: pl.DataFrame) -> str:
        """A large frame handed over as a Parquet file in a private temporary folder: Spark's
        rules ran 2.4x slower over the same data given as an in-memory Arrow table (county,
        C02+P02: 132 s against 56 s). Local mode only: executors elsewhere cannot see it."""
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix="cardcheck-spark-")
            # removed with the engine, or at exit, if close() is never called
            weakref.finalize(self, shutil.rmtree, self._staging, True)
        self._staged += 1
        path = os.path.join(self._staging, f"t{self._staged}.parquet")
        df.write_parquet(path)
        return path

    def materialize(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Cached on the cluster: a shared frame never comes through the driver."""
        return nw.from_native(lf.to_native().cache())

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Computed now and kept on the executors with its lineage cut (`localCheckpoint`): a
        frame used twice otherwise stays twice in the query's plan, and `cache()` on frames
        nested inside one query stalled Spark's planner. County, local mode: 261 s with the
        plan as it is, 151 s checkpointed, same findings. A checkpointed frame lives on the
        executors that computed it; losing one fails the query rather than recomputing."""
        return nw.from_native(lf.to_native().localCheckpoint())

    def scan(self, paths: list[str], fmt: str) -> nw.LazyFrame:
        """Read on the cluster (hdfs://, s3a://, file:// or a path every executor sees)."""
        reader = self.spark.read
        if fmt == "parquet":
            return nw.from_native(reader.parquet(*paths))
        return nw.from_native(reader.option("header", True).option("inferSchema", False)
                              .csv(list(paths)))

    def write_parquet(self, lf: nw.LazyFrame, target: str, small: bool = False) -> None:
        """A folder of part files, written by the executors (never through the driver)."""
        native = lf.to_native()
        (native.coalesce(1) if small else native).write.mode("overwrite").parquet(target)
        if "://" not in target or target.startswith("file://"):
            owner_only(target.removeprefix("file://"))

    def close(self) -> None:
        """The Spark session is kept for the process (stopping it is the caller's choice); the
        staged frames are removed."""
        if self._staging is not None:
            self.spark.catalog.clearCache()
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


def local_driver_memory() -> str:
    """Half the physical memory, in whole GB (at least 1g), for Spark's local-mode JVM."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "2g"
    return f"{max(1, total // 2 // 2**30)}g"


def make_engine(name: str, **options: Any) -> Engine:
    if name == "polars":
        return Engine()
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(**options)
    raise CardcheckError(f"--engine: expected one of {', '.join(ENGINES)}, got {name!r}")
