"""The workbook's cost against the number of findings.

    python benchmarks/workbook.py --households 30000 --findings 1000,30000,100000,300000

Reads a clean demo county once, then for each size makes that many findings (C05-like: one per
card of the roll, cycling, each with its own id) and times `build_and_write` alone, in this
process, and prints seconds and rows per second. The run of a real check at the same size is
the yardstick: the workbook should cost a small share of it whatever the findings.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from cardcheck.config import load_config
from cardcheck.ingest import load_inputs
from cardcheck.pipeline.options import CheckOptions, resolve_paths
from cardcheck.report import summary as S
from cardcheck.report.book import BookInput, build_and_write
from cardcheck.report.spec import report_spec


def findings_of(frames: dict[str, pl.DataFrame], n: int) -> pl.DataFrame:
    roll = frames["roll"].filter(pl.col("card_no").is_not_null()).select(
        "region_code", "township", "village", "household_id", "id_number", "name", "card_no")
    rows = roll.sample(n, with_replacement=n > roll.height, seed=1)
    return rows.with_columns(
        pl.format("{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(12)).alias("finding_id"),
        pl.lit("C05").alias("rule"), pl.lit("发放摘要不规范").alias("rule_name"),
        pl.lit("medium").alias("severity"), pl.lit("城乡低保").alias("fund"),
        pl.lit("memo:generic").alias("hub"), pl.lit(202301, pl.Int32).alias("first_month"),
        pl.lit(202312, pl.Int32).alias("last_month"), pl.lit(12, pl.Int32).alias("months"),
        pl.lit(120000, pl.Int64).alias("amount"),
        pl.lit("摘要只写“代发”，未写明资金名称和所属期").alias("evidence"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=30000)
    ap.add_argument("--findings", default="1000,30000,100000,300000")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cardcheck-wb-"))
    demo = work / "demo"
    subprocess.run([sys.executable, "-m", "cardcheck", "demo", "--households",
                    str(args.households), "--clean", "--out", str(demo)], check=True,
                   capture_output=True)
    config = load_config()
    opts = CheckOptions(roll=None, accounts=None, payments=[], out=work, inputs=demo)
    inputs = load_inputs(resolve_paths(opts, config), config)
    frames = inputs.frames
    spec = report_spec(config)
    info = S.scope(frames)
    print("| findings | workbook s | findings/s |\n|---:|---:|---:|")
    for n in (int(x) for x in args.findings.split(",")):
        f = findings_of(frames, n)
        book = BookInput(f, frames, [], inputs.counts, spec, "自查自纠", info=info)
        t0 = time.perf_counter()
        build_and_write(work / f"book{n}.xlsx", book)
        took = time.perf_counter() - t0
        print(f"| {n:,} | {took:.2f} | {n / took:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
