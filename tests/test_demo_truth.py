"""End to end on the demo county: every planted case found, no look-alike flagged, counts add up."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cardcheck.run import CheckOptions, run_check

KEYS = ("household_id", "id_number", "card_no")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    from cardcheck.demo import write_demo

    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, households=400, seed=11, clean=False)
    out = folder / "out"
    code = run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=folder,
                                  quiet=True, excel=False))
    assert code == 0
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    truth = pl.read_csv(folder / "truth.csv", infer_schema=False)
    return folder, findings, truth


def matches(findings: pl.DataFrame, row: dict[str, str | None]) -> pl.DataFrame:
    hit = findings.filter(pl.col("rule") == row["rule"])
    for key in KEYS:
        if row.get(key):
            hit = hit.filter(pl.col(key) == row[key])
    return hit


def test_truth_covers_every_rule(demo_run) -> None:
    _, _, truth = demo_run
    planted = set(truth.filter(pl.col("kind") == "planted").get_column("rule"))
    expected = {f"C0{i}" for i in range(1, 9)} | {f"P0{i}" for i in range(1, 7)} | {
        f"E0{i}" for i in range(1, 10)}
    assert expected <= planted


def test_every_planted_case_is_found(demo_run) -> None:
    _, findings, truth = demo_run
    missed = [row for row in truth.filter(pl.col("kind") == "planted").to_dicts()
              if matches(findings, row).height == 0]
    assert not missed, f"{len(missed)} planted cases not found: {missed[:10]}"


def test_no_lookalike_is_flagged(demo_run) -> None:
    _, findings, truth = demo_run
    flagged = [row for row in truth.filter(pl.col("kind") == "lookalike").to_dicts()
               if matches(findings, row).height > 0]
    assert not flagged, f"look-alikes flagged: {flagged}"
