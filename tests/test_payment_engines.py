"""The payment (P01–P06) and eligibility (E01–E08) rules on a small demo county: the same
findings, evidence text included, on polars and DuckDB; every planted case found, no look-alike
flagged, nothing beyond the truth; evidence masked.

(The per-case fixtures already run on both engines in test_rule_cases.py, compared on the
columns each case lists; this compares whole findings on realistic data, once per engine.)
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cardcheck.config import load_config
from cardcheck.demo.score import score
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.engines.runner import run_rules

CODES = [f"P0{i}" for i in range(1, 7)] + [f"E0{i}" for i in range(1, 9)]
RAW_NUMBER = re.compile(r"\d{15,19}")
CONFIG = load_config()


@pytest.fixture(scope="module")
def county(demo_frames) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    frames, truth = demo_frames(households=400, seed=11)
    result = run_rules(frames, CONFIG, engine=Engine(), select=CODES)
    assert {r.code: r.status for r in result.runs} == dict.fromkeys(CODES, "ran")
    return frames, truth.filter(pl.col("rule").is_in(CODES)), result.findings, truth


def test_duckdb_agrees_with_polars(county) -> None:
    frames, _, on_polars, _ = county
    duck = DuckDBEngine()
    try:
        on_duckdb = run_rules(frames, CONFIG, engine=duck, select=CODES).findings
    finally:
        duck.close()
    assert set(on_polars.get_column("rule")) == set(CODES)
    assert_frame_equal(on_polars.sort("finding_id"), on_duckdb.sort("finding_id"))


def test_planted_found_lookalikes_clear_ordinary_households_clean(county) -> None:
    frames, truth, found, all_truth = county
    scored, extra = score(found, truth)
    assert set(truth.filter(pl.col("kind") == "planted").get_column("rule")) == set(CODES)
    assert scored.filter(~pl.col("ok")).select("rule", "kind", "note").rows() == []
    # a finding beyond this rule's truth may only touch a household planted for some rule (a
    # plant can trip a second rule); ordinary households stay clean
    planted = all_truth.filter(pl.col("kind") == "planted")
    ids = set(planted.get_column("id_number").drop_nulls())
    cards = set(planted.get_column("card_no").drop_nulls())
    households = set(planted.get_column("household_id").drop_nulls()) | set(
        frames["roll"].filter(pl.col("id_number").is_in(ids) | pl.col("card_no").is_in(cards))
        .get_column("household_id").drop_nulls())
    stray = extra.filter(~pl.col("household_id").is_in(households)
                         & ~pl.col("id_number").is_in(ids) & ~pl.col("card_no").is_in(cards))
    assert stray.select("rule", "evidence").rows() == []


def test_every_finding_has_money_months_and_masked_evidence(county) -> None:
    _, _, found, _ = county
    assert found.filter(pl.col("amount").is_null() | pl.col("evidence").is_null()).height == 0
    paid = found.filter(pl.col("amount") > 0)
    assert paid.filter(pl.col("first_month").is_null() | (pl.col("months") < 1)).height == 0
    leaks = [e for e in found.get_column("evidence") if RAW_NUMBER.search(e)]
    assert leaks == []
