"""Time the payment and eligibility rules (P01–P06, E01–E08) on a demo county, polars and DuckDB.

    python benchmarks/payment_rules.py [--households 50000] [--seed 7] [--alone]

Frames come from cardcheck.demo.demo_frames (canonical, as the readers produce them), so reading
files is not part of the timings. The rules run together, as in a check: the first rule that
needs them builds the shared frames (payments attributed to the roll, per-person receipts), so
its time includes theirs. --alone also times each rule in a run of its own (shared frames
rebuilt every time). Prints seconds, findings, and planted found / look-alikes flagged per rule.
"""

from __future__ import annotations

import argparse
import resource
import time

import polars as pl

from cardcheck.config import load_config
from cardcheck.demo import demo_frames
from cardcheck.demo.score import score
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.engines.runner import run_rules

CODES = [f"P0{i}" for i in range(1, 7)] + [f"E0{i}" for i in range(1, 9)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--alone", action="store_true", help="also time each rule on its own")
    args = parser.parse_args()
    config = load_config()

    t0 = time.perf_counter()
    frames, truth = demo_frames(args.households, args.seed)
    truth = truth.filter(pl.col("rule").is_in(CODES))
    sizes = ", ".join(f"{k} {v.height:,}" for k, v in frames.items()
                      if k in ("roll", "payments", "other_roll", "deaths", "officials"))
    print(f"demo frames ({args.households:,} households): {sizes} "
          f"[{time.perf_counter() - t0:.1f}s]")

    for name, make in (("polars", Engine), ("duckdb", DuckDBEngine)):
        engine = make()
        t0 = time.perf_counter()
        result = run_rules(frames, config, engine=engine, select=CODES)
        total = time.perf_counter() - t0
        scored, extra = score(result.findings, truth)
        for run in result.runs:
            mine = scored.filter(pl.col("rule") == run.code)
            found = mine.filter((pl.col("kind") == "planted") & pl.col("ok")).height
            planted = mine.filter(pl.col("kind") == "planted").height
            flagged = mine.filter((pl.col("kind") == "lookalike") & ~pl.col("ok")).height
            alike = mine.filter(pl.col("kind") == "lookalike").height
            print(f"{name:6} {run.code}: {run.seconds:6.2f}s  {run.count:5,} findings  "
                  f"{run.amount / 100:>12,.2f} 元  planted {found}/{planted}  "
                  f"look-alikes flagged {flagged}/{alike}")
        print(f"{name:6} all together: {total:.2f}s; findings beyond the truth: {extra.height}")
        if args.alone:
            for code in CODES:
                t0 = time.perf_counter()
                run_rules(frames, config, engine=engine, select=[code])
                print(f"{name:6} {code} alone: {time.perf_counter() - t0:6.2f}s")
        engine.close()
    print(f"peak memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
