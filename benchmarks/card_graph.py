"""Time the card rules (C01–C08, polars and DuckDB) and the graph steps on a demo county.

    python benchmarks/card_graph.py [--households 50000] [--seed 7] [--graphml PATH]

Frames come from cardcheck.demo.demo_frames (canonical, as the readers produce them), so reading
files is not part of the timings. Prints one line per step: seconds, rows out, and for the demo's
truth how many planted card cases were found and how many look-alikes were flagged.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from cardcheck.config import load_config
from cardcheck.demo import demo_frames
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.engines.runner import run_rules
from cardcheck.graph.build import build_projection, edges, largest_hubs, neighbourhood
from cardcheck.graph.export import export_graphml

CODES = [f"C0{i}" for i in range(1, 9)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def score(findings: pl.DataFrame, truth: pl.DataFrame, code: str) -> tuple[int, int, int, int]:
    """(planted found, planted, look-alikes flagged, look-alikes) for one rule."""
    got = findings.filter(pl.col("rule") == code)
    found = flagged = planted = alike = 0
    for row in truth.filter(pl.col("rule") == code).iter_rows(named=True):
        hit = got
        for key in ("household_id", "id_number", "card_no"):
            if row.get(key):
                hit = hit.filter(pl.col(key) == row[key])
        if row["kind"] == "planted":
            planted += 1
            found += hit.height > 0
        else:
            alike += 1
            flagged += hit.height > 0
    return found, planted, flagged, alike


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--graphml", type=Path, default=None)
    args = parser.parse_args()
    config = load_config()

    t0 = time.perf_counter()
    frames, truth = demo_frames(args.households, args.seed)
    sizes = ", ".join(f"{k} {v.height:,}" for k, v in frames.items()
                      if k in ("roll", "accounts", "payments", "transactions"))
    print(f"demo frames ({args.households:,} households): {sizes} "
          f"[{time.perf_counter() - t0:.1f}s]")

    for engine_name, make in (("polars", Engine), ("duckdb", DuckDBEngine)):
        engine = make()
        for code in CODES:
            t0 = time.perf_counter()
            result = run_rules(frames, config, engine=engine, select=[code])
            seconds = time.perf_counter() - t0
            found, planted, flagged, alike = score(result.findings, truth, code)
            print(f"{engine_name:6} {code}: {seconds:6.2f}s  {result.findings.height:6,} findings"
                  f"  planted {found}/{planted}  look-alikes flagged {flagged}/{alike}")
        engine.close()

    t0 = time.perf_counter()
    all_edges = edges(frames, config)
    print(f"graph edges: {time.perf_counter() - t0:.2f}s  {all_edges.height:,} edges")
    t0 = time.perf_counter()
    projection = build_projection(frames, config)
    print(f"graph projection: {time.perf_counter() - t0:.2f}s  "
          f"{projection.number_of_nodes():,} nodes, {projection.number_of_edges():,} edges")
    t0 = time.perf_counter()
    hubs = largest_hubs(frames, 10, config)
    print(f"largest hubs: {time.perf_counter() - t0:.2f}s  top {hubs.row(0) if hubs.height else None}")
    findings = run_rules(frames, config, select=["C04"]).findings
    if findings.height:
        t0 = time.perf_counter()
        graph = neighbourhood(frames, findings.row(0, named=True), config=config,
                              edge_frame=all_edges)
        print(f"neighbourhood (edges given): {time.perf_counter() - t0:.2f}s  "
              f"{graph.number_of_nodes()} nodes")
    path = args.graphml or Path(tempfile.mkdtemp()) / "county.graphml"
    t0 = time.perf_counter()
    counts = export_graphml(frames, path, config)
    print(f"graphml export: {time.perf_counter() - t0:.2f}s  {counts['nodes']:,} nodes, "
          f"{counts['edges']:,} edges, {path.stat().st_size / 1e6:.0f} MB")
    print(f"peak memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
