"""Benchmark a full `cardcheck check` at a given size, against the read floor and DuckDB SQL.

    python benchmarks/bench.py --households 30000 [--runs 3] [--engines polars,duckdb] [--canonical]

Generates a clean demo county (`cardcheck demo --clean`), then, each run in a fresh process and
in this order (so the tools alternate):
- floor:    polars reading every input CSV as text, nothing else;
- baseline: benchmarks/duckdb_baseline.sql, all 23 rules in plain DuckDB SQL, reading the CSVs
            and writing its findings (what an analyst would run instead);
- check:    the full `cardcheck check` (all rules, findings, Excel workbook, ledger) per engine,
            with the time and peak memory of every stage (from the run's manifest.json);
- with --canonical: `cardcheck normalise` once, then `check --canonical` per engine (the engine
            reads the Parquet tables itself).
Prints a Markdown table of medians (wall time and peak RSS of each process), the ratio of each
full check to the DuckDB script and both peaks, and how many findings each wrote. Exit 0 always:
speed is reported, not asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
BASELINE_ROW = "DuckDB SQL (23 rules)"

FLOOR = """
import sys, polars as pl, pathlib
for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')):
    if p.name != 'truth.csv':
        pl.read_csv(p, infer_schema=False)
"""

# argv: the demo folder, the SQL file, the findings file it writes
BASELINE = """
import sys, duckdb, pathlib
sql = pathlib.Path(sys.argv[2]).read_text(encoding='utf-8')
duckdb.connect().execute(sql.replace('{dir}', sys.argv[1]).replace('{out}', sys.argv[3]))
"""


def timed(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(seconds, peak MB) of a child process; an exit code outside `ok` stops the benchmark."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def rows_per_input(folder: Path) -> dict[str, int]:
    out = {}
    for p in sorted(folder.glob("*.csv")):
        if p.name != "truth.csv":
            with p.open("rb") as fh:
                out[p.stem] = sum(1 for _ in fh) - 1
    return out


def findings_in(path: Path) -> int:
    """Rows of a findings CSV, its header aside."""
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def check_cmd(folder: Path, out: Path, engine: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "cardcheck", "check", "--inputs", str(folder), "--out", str(out),
            "--quiet", "--engine", engine, *extra]


def bench(households: int, runs: int, engines: list[str], keep: Path | None,
          canonical: bool = False) -> str:
    work = Path(keep or tempfile.mkdtemp(prefix="cardcheck-bench-"))
    data = work / f"demo_{households}"
    if not (data / "inputs.yaml").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cardcheck", "demo", "--out", str(data), "--clean",
                        "--households", str(households), "--seed", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generated {households:,} households in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
    rows = rows_per_input(data)
    results: dict[str, list[tuple[float, float]]] = {}
    stages: dict[str, list[dict[str, float]]] = {}
    canon = work / f"canon_{households}"
    if canonical:
        shutil.rmtree(canon, ignore_errors=True)
        results["normalise (once, polars)"] = [timed(
            [sys.executable, "-m", "cardcheck", "normalise", "--inputs", str(data), "--out",
             str(canon), "--quiet"])]
    found: dict[str, int] = {}
    for i in range(runs):
        results.setdefault("floor (polars read)", []).append(
            timed([sys.executable, "-c", FLOOR, str(data)]))
        sql_out = work / f"duckdb_findings_{i}.csv"
        results.setdefault(BASELINE_ROW, []).append(
            timed([sys.executable, "-c", BASELINE, str(data), str(HERE / "duckdb_baseline.sql"),
                   str(sql_out)]))
        found["DuckDB SQL"] = findings_in(sql_out)
        for engine in engines:
            out = work / f"out_{engine}_{i}"
            shutil.rmtree(out, ignore_errors=True)
            results.setdefault(f"check {engine} (full)", []).append(
                timed(check_cmd(data, out, engine, []), ok=(0, 1)))
            found[f"check {engine}"] = findings_in(out / "findings.csv")
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            row = {s["name"]: s["seconds"] for s in manifest.get("stages", [])}
            row.update({f"rule {r['code']}": r.get("seconds", 0.0) for r in manifest["rules"]})
            stages.setdefault(engine, []).append(row)
            if canonical:
                out = work / f"canon_out_{engine}_{i}"
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, "-m", "cardcheck", "check", "--canonical", str(canon),
                       "--out", str(out), "--quiet", "--engine", engine]
                results.setdefault(f"check {engine} --canonical (full)", []).append(
                    timed(cmd, ok=(0, 1)))
                manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
                row = {s["name"]: s["seconds"] for s in manifest.get("stages", [])}
                stages.setdefault(f"{engine}, canonical", []).append(row)
    return report(households, rows, results, stages, runs, found)


def report(households: int, rows: dict[str, int], results: dict[str, list[tuple[float, float]]],
           stages: dict[str, list[dict[str, float]]], runs: int,
           found: dict[str, int] | None = None) -> str:
    lines = [f"### {households:,} households (medians of {runs} run(s))", "",
             "| input | rows |", "|---|---:|"]
    lines += [f"| {name} | {n:,} |" for name, n in rows.items()]
    lines += ["", "| what | wall s | peak MB |", "|---|---:|---:|"]
    med = {k: (statistics.median(s for s, _ in v), statistics.median(m for _, m in v))
           for k, v in results.items()}
    lines += [f"| {k} | {s:.2f} | {m:.0f} |" for k, (s, m) in med.items()]
    floor = med["floor (polars read)"][0]
    base, base_peak = med[BASELINE_ROW]
    for engine, per_run in stages.items():
        if f"check {engine} (full)" in med:
            full, peak = med[f"check {engine} (full)"]
            lines += ["", (f"{engine}: full check {full:.2f} s = {full / base:.2f}× the DuckDB "
                           f"script of the 23 rules ({base:.2f} s), {full / floor:.1f}× the read "
                           f"floor; peak {peak:.0f} MB (DuckDB script {base_peak:.0f} MB)")]
        lines += ["", f"| stage ({engine}) | median s |", "|---|---:|"]
        names = list(per_run[0])
        lines += [f"| {n} | {statistics.median(r.get(n, 0.0) for r in per_run):.2f} |"
                  for n in names]
    if found:
        lines += ["", "findings written (last run): "
                  + ", ".join(f"{k} {n:,}" for k, n in found.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="polars")
    parser.add_argument("--keep", type=Path, help="work folder to keep (and reuse) the data in")
    parser.add_argument("--canonical", action="store_true",
                        help="also normalise once and time check --canonical per engine")
    args = parser.parse_args(argv)
    print(bench(args.households, args.runs, args.engines.split(","), args.keep, args.canonical))


if __name__ == "__main__":
    main()
