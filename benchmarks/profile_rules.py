"""Where the rules stage spends its time: every shared frame and every rule, in one process.

    python benchmarks/profile_rules.py --inputs DEMO_FOLDER [--cache DIR] [--runs 3]

Reads and normalises the inputs once (or takes the frames from --cache, written there as
Parquet on the first call, so repeated profiles skip the reading), then runs the whole catalogue
`--runs` times on polars and prints, best of the runs:
- each shared frame (`Context.once`: the attribution of payments to the roll, receipts, approved
  amounts …) with its own time (frames it builds on are counted separately) and its rows;
- each rule's time without the shared frames it was first to ask for.
The shared frames are what several rules reuse; the rule times are what each rule adds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.config import load_config
from cardcheck.engines.runner import run_rules
from cardcheck.rules.base import Context


def load_frames(inputs: Path, cache: Path | None) -> dict[str, pl.DataFrame]:
    if cache is not None and any(cache.glob("*.parquet")):
        return {p.stem: pl.read_parquet(p) for p in sorted(cache.glob("*.parquet"))}
    from cardcheck.ingest import load_inputs
    from cardcheck.pipeline.options import read_inputs_file

    frames = load_inputs(read_inputs_file(inputs), load_config(None)).frames
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for name, df in frames.items():
            df.write_parquet(cache / f"{name}.parquet")
    return frames


def profile(frames: dict[str, pl.DataFrame], runs: int = 1) -> str:
    config = load_config(None)
    shared_best: dict[str, float] = {}
    built: dict[str, object] = {}  # the frames, counted after the runs
    rule_best: dict[str, float] = {}
    original = Context.once
    stack: list[float] = []  # time spent in nested shared frames, per open frame
    per_rule: list[float] = [0.0]  # per rule of the current run: its outermost shared frames' time

    def timed_once(self: Context, key: str, build):  # type: ignore[no-untyped-def]
        if key in self.shared:
            return self.shared[key]
        stack.append(0.0)
        t0 = time.perf_counter()
        frame = original(self, key, build)
        total = time.perf_counter() - t0
        own = total - stack.pop()
        if stack:
            stack[-1] += total
        else:  # the outermost shared frame a rule asked for: not the rule's own time
            per_rule[-1] += total
        shared_best[key] = min(own, shared_best.get(key, own))
        built[key] = frame
        return frame

    def step(_msg: str) -> None:  # run_rules announces each rule before running it
        per_rule.append(0.0)

    Context.once = timed_once  # type: ignore[method-assign]
    try:
        for _ in range(runs):
            result = run_rules(frames, config, progress=step)
            ran = [r for r in result.runs if r.status == "ran"]
            for run, in_shared in zip(ran, per_rule[1:], strict=True):
                own = max(run.seconds - in_shared, 0.0)
                rule_best[run.code] = min(own, rule_best.get(run.code, own))
            per_rule[:] = [0.0]
    finally:
        Context.once = original  # type: ignore[method-assign]
    rows = {k: int(f.select(nw.len()).collect().item()) for k, f in built.items()}  # type: ignore[attr-defined]
    lines = ["| shared frame | own s | rows |", "|---|---:|---:|"]
    lines += [f"| {k} | {s:.3f} | {rows[k]:,} |" for k, s in
              sorted(shared_best.items(), key=lambda kv: -kv[1])]
    lines += ["", "| rule | s (without shared frames) |", "|---|---:|"]
    lines += [f"| {k} | {s:.3f} |" for k, s in sorted(rule_best.items(), key=lambda kv: -kv[1])]
    total_shared = sum(shared_best.values())
    lines += ["", f"shared frames {total_shared:.2f} s + rules {sum(rule_best.values()):.2f} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, required=True, help="a demo folder (inputs.yaml)")
    parser.add_argument("--cache", type=Path, help="folder for the normalised frames as Parquet")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    print(profile(load_frames(args.inputs, args.cache), args.runs))


if __name__ == "__main__":
    main()
