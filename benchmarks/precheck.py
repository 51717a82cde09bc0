"""Time `cardcheck precheck` on a month's batch at a given size.

    python benchmarks/precheck.py --households 300000 [--runs 3] [--keep DIR]

Builds a demo region of N households (a prefecture: 300,000 households, about 760,000 roll
rows) and writes, as clean UTF-8 CSV: the roll, the account master, the five reference lists,
November's payments (the payments already made) and December's batch (about one line per
household: 300,000 households give some 310,000 lines, with the demo's planted lines). Then,
each run in a fresh process, `cardcheck precheck` with a fresh ledger: the wall time, peak
memory and the stages from precheck.json (reading the batch, reading and normalising the
other files, the rules and tying findings to lines, the outputs, the ledger). Prints a Markdown
table of medians. Exit 0 always: speed is reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cardcheck.demo import build
from cardcheck.demo.batch import BATCH, batch_lines, batch_text
from cardcheck.demo.files import FILES, text_frame
from cardcheck.demo.write import canonical
from cardcheck.model import conform

LISTS = ("deaths", "prisoners", "payroll", "business", "pensions")


def write_inputs(households: int, seed: int, folder: Path) -> dict[str, int]:
    """The region's files for a precheck of December; returns rows per file."""
    demo = build(households, seed)
    tables = canonical(demo, monthly=False)
    rows = {}
    for table in ("roll", "accounts", *LISTS):
        text_frame(tables[table], table).write_csv(folder / f"{FILES[table]}.csv")
        rows[table] = tables[table].height
    november = conform(demo.world.pays.month(11), "payments")
    text_frame(november, "payments").write_csv(folder / "代发明细11月.csv")
    rows["payments (November)"] = november.height
    lines = batch_lines(demo.world, demo.truth, seed)
    data, _ = batch_text(lines, clean=True)
    (folder / f"{BATCH}.csv").write_bytes(data)
    rows["batch (December)"] = lines.height
    return rows


def command(folder: Path, out: Path) -> list[str]:
    refs = [arg for kind in LISTS for arg in ("--ref", f"{kind}={folder / FILES[kind]}.csv")]
    return [sys.executable, "-m", "cardcheck", "precheck", "--batch", str(folder / f"{BATCH}.csv"),
            "--month", "2023-12", "--roll", str(folder / f"{FILES['roll']}.csv"),
            "--accounts", str(folder / f"{FILES['accounts']}.csv"),
            "--payments", str(folder / "代发明细11月.csv"), *refs,
            "--ledger", str(out / "cardcheck.db"), "--out", str(out), "-q"]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of a child process; exit 0 (nothing held) or 1 (held) is fine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def bench(households: int, seed: int = 7, runs: int = 3, keep: Path | None = None) -> str:
    folder = keep or Path(tempfile.mkdtemp(prefix="cardcheck-precheck-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        rows = write_inputs(households, seed, folder)
        made = time.perf_counter() - t0
        totals, peaks, stages = [], [], {}
        for i in range(runs):
            out = folder / f"out_{i}"
            shutil.rmtree(out, ignore_errors=True)
            seconds, peak = timed(command(folder, out))
            totals.append(seconds)
            peaks.append(peak)
            manifest = json.loads((out / "precheck.json").read_text(encoding="utf-8"))
            for stage in manifest["stages"]:
                stages.setdefault(stage["name"], []).append(stage["seconds"])
        summary = manifest["summary"]
        lines = [(f"precheck of {households:,} households (seed {seed}; files written in "
                  f"{made:.1f} s), median of {runs} run(s) in fresh processes"), "",
                 "| file | rows |", "|---|---:|"]
        lines += [f"| {name} | {n:,} |" for name, n in rows.items()]
        lines += ["", "| stage | seconds |", "|---|---:|"]
        lines += [f"| {name} | {statistics.median(v):.2f} |" for name, v in stages.items()]
        lines += [f"| **precheck (wall, process)** | **{statistics.median(totals):.2f}** |", "",
                  (f"peak memory {statistics.median(peaks):,.0f} MB; lines {summary['lines']:,}, "
                   f"released {summary['released']['lines']:,}, held "
                   f"{summary['held']['lines']:,}")]
        return "\n".join(lines)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="write the files here, keep them")
    args = parser.parse_args()
    print(bench(args.households, args.seed, args.runs, args.keep))


if __name__ == "__main__":
    main()
