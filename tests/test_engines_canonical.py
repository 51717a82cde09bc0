"""Spark reads the canonical tables itself (spark.read.parquet) and writes findings and rejects as
Parquet, to a file:// URL as it would to hdfs://. Spark in local mode, like test_engines.py.

Spark takes seconds per rule on a small machine, so one rule (C03: roll, accounts and payments)
runs end to end; the canonical tables that hold every column type (text, Int32/Int64, Date,
Datetime, Boolean) are compared as Spark and polars read them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.engines.runner import FINDINGS_OUT
from cardcheck.outputs.findings import FINDINGS_CSV
from cardcheck.report.files import escape_formulas

pytestmark = pytest.mark.spark  # every test here runs Spark (-m "not spark" leaves them out)

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java on the PATH", allow_module_level=True)


def cli(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory, demo_county) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark_canonical")
    demo = demo_county(300, 5)
    cli("normalise", "--inputs", demo, "--out", root / "canon", "--quiet")
    cli("check", "--inputs", demo, "--out", root / "direct", "--quiet", "--no-excel",
        "--rules", "C03")
    return {"root": root, "canon": root / "canon", "direct": root / "direct"}


def test_spark_reads_every_canonical_table_as_polars_does(county) -> None:
    from cardcheck.canonical import open_canonical
    from cardcheck.engines import make_engine

    engine = make_engine("spark")
    source = open_canonical(str(county["canon"]), engine, load_config())  # file:// below
    assert len(source.tables) == 12 and source.warnings == []
    for kind in ("roll", "payments", "transactions", "relatives"):
        table = source.tables[kind]
        on_spark = engine.collect(table.lazy).sort("source_file", "source_line")
        on_polars = pl.read_parquet(county["canon"] / kind).sort("source_file", "source_line")
        assert_frame_equal(on_spark, on_polars, check_dtypes=True)
        assert table.height == on_polars.height


def test_spark_check_canonical_writes_parquet_to_a_url(county) -> None:
    out, ledger = county["root"] / "out", county["root"] / "ledger.db"
    text = cli("check", "--canonical", f"file://{county['canon']}", "--out", f"file://{out}",
               "--engine", "spark", "--ledger", ledger, "--rules", "C03", "--no-excel")
    assert f"已写到 file://{out}：findings.parquet、rejects.parquet、findings.csv" in text
    expected = pl.read_csv(county["direct"] / "findings.csv", schema=FINDINGS_CSV)
    assert expected.height == 2
    found = pl.read_csv(out / "findings.csv", schema=FINDINGS_CSV)
    assert_frame_equal(found, expected)
    # Spark's findings.parquet is a folder of part files; it reads back as findings.csv
    assert (out / "findings.parquet").is_dir()
    parquet = pl.read_parquet(out / "findings.parquet" / "*.parquet")
    assert_frame_equal(escape_formulas(parquet), found.select(list(FINDINGS_OUT)))
    assert pl.read_parquet(out / "rejects.parquet" / "*.parquet").height == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["out"] == f"file://{out}"
    assert manifest["outputs"]["findings_parquet"] == f"file://{out}/findings.parquet"
    assert manifest["written"]["engine"] == "spark"  # Parquet by default with Spark
    assert len(manifest["counts"]) == 12  # read from the part's manifest through Hadoop
    assert manifest["outputs"]["ledger"] == str(ledger)
    assert ledger.is_file() and not (out / "cardcheck.db").exists()
