"""The DuckDB comparator (benchmarks/duckdb_baseline.sql) is a second implementation of the 23
rules: on clean demo counties of two sizes and seeds it finds what `cardcheck check` finds.

Findings are compared by the keys that identify a finding in findings.csv (rule, household_id,
id_number, card_no, fund, hub: cardcheck's finding id), rule by rule, and then by the money and
months each finding reports. The SQL never imports cardcheck; a difference means one side reads
a rule's definition differently (the message names the rule and the findings).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from cardcheck.pipeline.options import CheckOptions
from cardcheck.pipeline.run import run_check

duckdb = pytest.importorskip("duckdb")

SQL = Path(__file__).parent.parent / "benchmarks" / "duckdb_baseline.sql"
KEYS = ["rule", "household_id", "id_number", "card_no", "fund", "hub"]
VALUES = ["first_month", "last_month", "months", "amount"]
RULES = [f"C0{i}" for i in range(1, 9)] + [f"P0{i}" for i in range(1, 7)] + \
    [f"E0{i}" for i in range(1, 10)]
COUNTIES = [(300, 3), (600, 11)]  # (households, seed)
_RUNS: dict[tuple[int, int], tuple[pl.DataFrame, pl.DataFrame]] = {}


def run_sql(folder: Path, out: Path) -> pl.DataFrame:
    text = SQL.read_text(encoding="utf-8").replace("{dir}", str(folder)).replace("{out}", str(out))
    duckdb.connect().execute(text)
    return pl.read_csv(out, infer_schema=False)


@pytest.fixture(scope="module", params=COUNTIES, ids=[f"{n}-seed{s}" for n, s in COUNTIES])
def both(request: pytest.FixtureRequest, demo_county, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(cardcheck's findings, the SQL's) on one clean demo county, as text."""
    if request.param not in _RUNS:
        households, seed = request.param
        folder = demo_county(households, seed, clean=True)
        work = tmp_path_factory.mktemp(f"baseline-{households}-{seed}")
        code = run_check(CheckOptions(roll=None, accounts=None, payments=[], out=work / "check",
                                      inputs=folder, quiet=True, excel=False))
        assert code in (0, 1), code  # 1: findings were made
        rejects = pl.read_csv(work / "check" / "rejects.csv", infer_schema=False)
        assert rejects.height == 0, "the clean demo loads whole: the SQL reads every row"
        ours = pl.read_csv(work / "check" / "findings.csv", infer_schema=False)
        _RUNS[request.param] = ours, run_sql(folder, work / "sql_findings.csv")
    return _RUNS[request.param]


def _counted(df: pl.DataFrame, cols: list[str]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r) for r in df.select(pl.col(cols).fill_null("")).iter_rows())


def _differences(ours: pl.DataFrame, sql: pl.DataFrame, cols: list[str]) -> dict[str, str]:
    out = {}
    for rule in RULES:
        a = _counted(ours.filter(pl.col("rule") == rule), cols)
        b = _counted(sql.filter(pl.col("rule") == rule), cols)
        if a != b:
            out[rule] = f"only cardcheck {sorted(a - b)}; only SQL {sorted(b - a)}"
    return out


def test_every_rule_finds_something_on_both_sides(both) -> None:
    ours, sql = both
    for df, side in ((ours, "cardcheck"), (sql, "SQL")):
        missing = sorted(set(RULES) - set(df.get_column("rule")))
        assert not missing, f"{side} finds nothing for {missing}: the comparison would be empty"


def test_same_findings_rule_by_rule(both) -> None:
    ours, sql = both
    assert _differences(ours, sql, KEYS) == {}


def test_same_money_and_months(both) -> None:
    ours, sql = both
    assert _differences(ours, sql, KEYS + VALUES) == {}
