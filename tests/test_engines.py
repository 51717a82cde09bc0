"""One catalogue, three engines: the same findings (rule, keys, amounts) on the demo county."""

from __future__ import annotations

import shutil

import polars as pl
import pytest

from cardcheck.config import load_config
from cardcheck.engines import make_engine
from cardcheck.engines.runner import run_rules

COLUMNS = ["finding_id", "rule", "household_id", "id_number", "card_no", "fund", "hub",
           "first_month", "last_month", "months", "amount", "severity"]


@pytest.fixture(scope="module")
def read_frames(demo_county) -> dict[str, pl.DataFrame]:
    """The demo county 300/5 as read from its files (the conftest's demo_frames are in memory)."""
    from cardcheck.ingest import load_inputs
    from cardcheck.pipeline.options import read_inputs_file

    return load_inputs(read_inputs_file(demo_county(300, 5)), load_config()).frames


@pytest.fixture(scope="module")
def on_polars(read_frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    result = run_rules(read_frames, load_config())
    assert result.findings.height > 0
    return result.findings.select(COLUMNS).sort(COLUMNS, nulls_last=True)


def on(engine: str, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    result = run_rules(frames, load_config(), engine=make_engine(engine))
    return result.findings.select(COLUMNS).sort(COLUMNS, nulls_last=True)


def test_duckdb_gives_the_same_findings(read_frames, on_polars) -> None:
    from polars.testing import assert_frame_equal

    assert_frame_equal(on("duckdb", read_frames), on_polars)


@pytest.mark.spark
def test_spark_gives_the_same_findings(read_frames, on_polars) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java on the PATH")
    from polars.testing import assert_frame_equal

    assert_frame_equal(on("spark", read_frames), on_polars)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_kept_frame_is_computed_once(engine: str) -> None:
    """Engine.keep computes a frame then and there: the queries that use it, however often
    and however many, never compute it again (Context.keep relies on this for frames one
    query uses more than once)."""
    import narwhals.stable.v2 as nw

    calls: list[int] = []

    def counted(s: pl.Series) -> pl.Series:
        calls.append(1)
        return s * 2

    eng = make_engine(engine)
    try:
        base = nw.from_native(pl.LazyFrame({"k": [1, 2, 3], "v": [1, 2, 3], "w": [4, 5, 6]})
                              .with_columns(pl.col("v").map_batches(counted, pl.Int64)))
        kept = eng.keep(base)
        for _ in range(2):
            both = kept.select("k", "v").join(kept.select("k", "v", "w"), on="k").sort("k")
            assert eng.collect(both).get_column("v").to_list() == [2, 4, 6]
        assert len(calls) == 1
    finally:
        eng.close()
