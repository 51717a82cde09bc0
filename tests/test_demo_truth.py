"""End to end on the demo county: every planted case found, no look-alike flagged, counts add up."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cardcheck.pipeline.options import CheckOptions
from cardcheck.pipeline.run import run_check

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


def test_counts_add_up_for_every_demo_file(demo_run) -> None:
    import json

    folder, _, _ = demo_run
    manifest = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert len(counts) == 12  # roll, accounts, payments, transactions, 7 lists, other roll
    for c in counts:
        assert c["read"] == c["loaded"] + c["rejected"] + c["skipped"], c
        assert c["loaded"] > 0, c
    rejects = pl.read_csv(folder / "out" / "rejects.csv", infer_schema=False)
    assert rejects.height == sum(c["rejected"] + c.get("dropped", 0) for c in counts)


def test_rule_totals_reconcile_with_findings_file(demo_run) -> None:
    import json

    folder, findings, _ = demo_run
    manifest = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    per_rule = {r["code"]: (r["count"], r["amount"]) for r in manifest["rules"]
                if r["status"] == "ran"}
    from_file = (findings.with_columns(pl.col("amount").cast(pl.Int64).fill_null(0))
                 .group_by("rule").agg(pl.len(), pl.col("amount").sum()))
    assert {r: (n, a) for r, n, a in from_file.iter_rows()} == {
        r: v for r, v in per_rule.items() if v[0] > 0}
    assert manifest["findings"] == findings.height


def test_explain_works_on_a_finding_of_each_rule(demo_run) -> None:
    from typer.testing import CliRunner

    from cardcheck.cli import app

    folder, findings, _ = demo_run
    firsts = findings.group_by("rule").agg(pl.col("finding_id").min()).sort("rule")
    assert firsts.height >= 23
    for rule, finding_id in firsts.iter_rows():
        result = CliRunner().invoke(app, ["explain", finding_id, "--out", str(folder / "out")])
        assert result.exit_code == 0, (rule, result.output)
        assert rule in result.output and finding_id in result.output, (rule, result.output[:300])
