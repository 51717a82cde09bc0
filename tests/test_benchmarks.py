"""The benchmark script runs end to end at a small size (so it cannot rot); no time is asserted."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

BENCH = Path(__file__).parent.parent / "benchmarks" / "bench.py"


def test_bench_script_runs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = bench.bench(households=300, runs=1, engines=["polars"], keep=tmp_path)
    for row in ("floor (polars read)", "DuckDB SQL baseline (core rules)", "check polars (full)",
                "check polars (core rules, no Excel)", "| read+normalise |", "| rule C01 |",
                "| rule E01 |", "| outputs |"):
        assert row in table, row
    assert re.search(r"\| 代发明细 \| [\d,]+ \|", table)
    assert (tmp_path / "out_polars_0" / "findings.csv").stat().st_size > 0
