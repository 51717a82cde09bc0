"""The card rules (C02–C08) on a small demo county: the same findings, evidence text included, on
polars and DuckDB; every planted card case found, no look-alike flagged; evidence masked.

(The per-case fixtures already run on both engines in test_rule_cases.py, compared on the
columns each case lists; this compares whole findings on realistic data, once per engine.)
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cardcheck.config import load_config
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.engines.runner import run_rules

CODES = [f"C0{i}" for i in range(2, 9)]
RAW_NUMBER = re.compile(r"\d{15,19}")
CONFIG = load_config()


@pytest.fixture(scope="module")
def county(demo_frames) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    frames, truth = demo_frames(households=400, seed=11)
    result = run_rules(frames, CONFIG, engine=Engine(), select=CODES)
    assert {r.code: r.status for r in result.runs} == dict.fromkeys(CODES, "ran")
    return frames, truth, result.findings


def test_duckdb_agrees_with_polars(county) -> None:
    frames, _, on_polars = county
    duck = DuckDBEngine()
    try:
        on_duckdb = run_rules(frames, CONFIG, engine=duck, select=CODES).findings
    finally:
        duck.close()
    assert on_polars.height > 0
    assert_frame_equal(on_polars.sort("finding_id"), on_duckdb.sort("finding_id"))


@pytest.mark.parametrize("code", CODES)
def test_planted_found_and_lookalikes_clear(county, code: str) -> None:
    _, truth, found = county
    rows = truth.filter(pl.col("rule") == code).to_dicts()
    assert any(r["kind"] == "planted" for r in rows), f"the demo plants no {code}"
    for row in rows:
        hit = found.filter(pl.col("rule") == code)
        for key in ("household_id", "id_number", "card_no"):
            if row.get(key):
                hit = hit.filter(pl.col(key) == row[key])
        assert (hit.height > 0) == (row["kind"] == "planted"), row


def test_no_finding_beyond_the_truth(county) -> None:
    """The demo keeps ordinary households clean: every card finding is a planted case's."""
    _, truth, found = county
    planted = truth.filter(pl.col("kind") == "planted")
    for row in found.iter_rows(named=True):
        mine = planted.filter(pl.col("rule") == row["rule"])
        hit = mine.filter(
            (pl.col("card_no").is_null() | (pl.col("card_no") == row["card_no"]))
            & (pl.col("household_id").is_null() | (pl.col("household_id") == row["household_id"]))
            & (pl.col("id_number").is_null() | (pl.col("id_number") == row["id_number"])))
        assert hit.height > 0, row


def test_evidence_is_masked_and_complete(county) -> None:
    _, _, found = county
    for row in found.iter_rows(named=True):
        assert row["evidence"] and not RAW_NUMBER.search(row["evidence"]), row["evidence"]
        assert row["amount"] is not None and row["amount"] >= 0, row
        assert row["card_no"] and row["severity"] in ("high", "medium", "low"), row
