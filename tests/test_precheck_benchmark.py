"""benchmarks/precheck.py runs end to end at a small size (so it cannot rot); no time is
asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parent.parent / "benchmarks" / "precheck.py"


def test_precheck_benchmark_runs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("precheck_bench", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = bench.bench(households=300, seed=3, runs=1, keep=tmp_path)
    for row in ("| batch (December) |", "| read batch |", "| screen (rules, lines) |",
                "| ledger |", "precheck (wall, process)"):
        assert row in table, row
    assert (tmp_path / "out_0" / "precheck.json").is_file()
