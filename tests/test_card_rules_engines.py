"""The card rules (C02–C08) give the same findings on polars and DuckDB, and their evidence never
shows a raw ID or card number."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from cardcheck.casefile import frames
from cardcheck.engine import run_rules
from cardcheck.engines import DuckDBEngine, Engine
from tests.test_rule_cases import _config

CASES = Path(__file__).parent.parent / "fixtures" / "rules"
CODES = [f"C0{i}" for i in range(2, 9)]
RAW_NUMBER = re.compile(r"\d{15,19}")


def _cases() -> list[Any]:
    out = []
    for code in CODES:
        data = yaml.safe_load((CASES / f"{code}.yaml").read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append(pytest.param(code, case, id=f"{code}-{case['name']}"))
    return out


def _run(code: str, case: dict[str, Any], engine: Engine) -> pl.DataFrame:
    config = _config(case.get("config"))
    result = run_rules(frames(case["tables"], config), config, engine=engine, select=[code])
    assert [r.status for r in result.runs] == ["ran"], result.runs
    return result.findings.sort("finding_id")


@pytest.mark.parametrize("code, case", _cases())
def test_duckdb_agrees_with_polars(code: str, case: dict[str, Any]) -> None:
    on_polars = _run(code, case, Engine())
    duck = DuckDBEngine()
    try:
        on_duckdb = _run(code, case, duck)
    finally:
        duck.close()
    assert_frame_equal(on_polars, on_duckdb)
    assert on_polars.height == len(case.get("expect") or [])


@pytest.mark.parametrize("code, case", _cases())
def test_evidence_is_masked_and_complete(code: str, case: dict[str, Any]) -> None:
    found = _run(code, case, Engine())
    for row in found.iter_rows(named=True):
        assert row["evidence"], row
        assert not RAW_NUMBER.search(row["evidence"]), row["evidence"]
        assert row["amount"] is not None and row["amount"] >= 0
        assert row["card_no"], row
