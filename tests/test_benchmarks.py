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
    for row in ("floor (polars read)", "DuckDB SQL (23 rules)", "check polars (full)",
                "| read+normalise |", "| rule C01 |", "| rule E01 |", "| outputs |"):
        assert row in table, row
    assert re.search(r"\| 代发明细 \| [\d,]+ \|", table)
    # the ratio to the 23-rule script and both peaks, and what each side found
    assert re.search(r"polars: full check [\d.]+ s = [\d.]+× the DuckDB script of the 23 rules "
                     r"\([\d.]+ s\), .*peak \d+ MB \(DuckDB script \d+ MB\)", table)
    assert re.search(r"findings written \(last run\): DuckDB SQL [\d,]+, check polars [\d,]+",
                     table)
    assert (tmp_path / "out_polars_0" / "findings.csv").stat().st_size > 0
    assert (tmp_path / "duckdb_findings_0.csv").stat().st_size > 0


def test_rule_profile_script_runs_and_reuses_its_cache(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cardcheck.cli import app

    demo = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(demo), "--clean", "--households", "300",
                                      "--seed", "1"])
    assert result.exit_code == 0, result.output
    spec = importlib.util.spec_from_file_location("profile_rules", BENCH.parent / "profile_rules.py")
    assert spec and spec.loader
    prof = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prof)
    cache = tmp_path / "frames"
    first = prof.profile(prof.load_frames(demo, cache))
    assert (cache / "payments.parquet").exists()
    frames = prof.load_frames(tmp_path / "nowhere", cache)  # from the cache: no inputs read
    second = prof.profile(frames, runs=2)
    for table in (first, second):
        assert re.search(r"\| attribution\.payments \| [\d.]+ \| [\d,]+ \|", table)
        assert len(re.findall(r"^\| [CPE]\d\d \| [\d.]+ \|$", table, flags=re.MULTILINE)) == 23
        assert "shared frames" in table
