"""Each rule runs with only the tables and columns it declares, and finds the same.

A rule declares what it reads (rules/base.py): `needs`, the columns without which it cannot
answer (it is skipped when one is empty), `uses`, the columns it also reads when they are there,
and `optional` tables. Here every rule runs on the demo county and on each of its
fixtures/rules cases twice: on every table, and on its declared tables alone with every other
column dropped (so reading an undeclared column fails, in the rule or in a shared frame it asks
for). The findings and the run's note must be the same. A column the readers derive from another
comes with it: declaring `name` keeps `name_key`, `pay_date` keeps `pay_month`, `memo` keeps the
memo readings, `id_number` keeps `id_status`.

Then each rule runs with only its `needs`: the `uses` columns null, as when the files lack them;
it must still run. A column read only on a path these inputs never take (a list's end date
where every entry is open-ended) is not caught here: declare from the code, not from the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl
import pytest
import yaml

from cardcheck.config import Config, load_config
from cardcheck.engines.runner import run_rules
from cardcheck.model import SCHEMAS
from cardcheck.normalize.derive import NAME_KEYS
from cardcheck.rules import catalogue
from cardcheck.rules.base import Rule
from cardcheck.rules.cases import frames as case_frames

MISSING_COLUMN = (nw.exceptions.ColumnNotFoundError, pl.exceptions.ColumnNotFoundError)
CASES_DIR = Path(__file__).parent.parent / "fixtures" / "rules"
BASE = load_config()
RULES = {rule.code: rule for rule in catalogue(BASE)}

# columns the readers fill from another column (normalize/derive.py, normalize/ids.py)
DERIVED: dict[str, set[str]] = {
    "pay_date": {"pay_month"},
    "txn_time": {"txn_month"},
    "memo": {"memo_fund", "memo_family", "memo_funds", "memo_generic", "memo_period"},
    "id_number": {"id_status"},
    "holder_id": {"holder_id_status"},
}
for _keys in NAME_KEYS.values():
    for _key, _source in _keys.items():
        DERIVED.setdefault(_source, set()).add(_key)

# Rules expected to fail here, with the columns they read without declaring them.
UNDECLARED: dict[str, str] = {}


def declared(rule: Rule) -> dict[str, set[str]]:
    """Table -> the columns `rule` declares in it (needs, uses; optional tables)."""
    out = {table: set(cols) for table, cols in rule.needs.items()}
    for table in rule.optional:
        out.setdefault(table, set())
    for table, cols in rule.uses.items():
        out.setdefault(table, set()).update(cols)
    return out


def _with_derived(cols: set[str]) -> set[str]:
    return cols | {d for c in cols for d in DERIVED.get(c, ())}


def restricted(frames: dict[str, pl.DataFrame], rule: Rule) -> dict[str, pl.DataFrame]:
    """The declared tables of `frames`, with the declared columns only."""
    out = {}
    for table, cols in declared(rule).items():
        if table in frames:
            keep = _with_derived(cols)
            out[table] = frames[table].select([c for c in frames[table].columns if c in keep])
    return out


def needs_only(frames: dict[str, pl.DataFrame], rule: Rule) -> dict[str, pl.DataFrame]:
    """The declared tables of `frames`, every column but the needed ones null (a file
    without them reads so)."""
    out = {}
    for table in declared(rule):
        if table in frames:
            df, keep = frames[table], _with_derived(set(rule.needs.get(table, ())))
            out[table] = df.with_columns(
                pl.lit(None, dtype=df.schema[c]).alias(c) for c in df.columns if c not in keep)
    return out


@pytest.fixture(scope="module")
def county(demo_frames) -> dict[str, pl.DataFrame]:
    frames, _ = demo_frames(households=300, seed=5)
    return frames


def _case_config(overrides: dict[str, Any] | None, tmp: Path) -> Config:
    if not overrides:
        return BASE
    path = tmp / "case.yaml"
    path.write_text(yaml.safe_dump(overrides, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def datasets(code: str, county: dict[str, pl.DataFrame], tmp: Path):
    """(name, frames, config): the demo county, then the rule's YAML cases."""
    yield "demo county", county, BASE
    data = yaml.safe_load((CASES_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    for case in data["cases"]:
        config = _case_config(case.get("config"), tmp)
        yield f"case {case['name']!r}", case_frames(case["tables"], config), config


def _outcome(frames: dict[str, pl.DataFrame], config: Config, code: str):
    result = run_rules(frames, config, select=[code])
    return result.findings, [(r.status, r.reason) for r in result.runs]


def _params() -> list[Any]:
    out = []
    for code in RULES:
        marks = []
        if code in UNDECLARED:
            marks.append(pytest.mark.xfail(
                strict=True, reason=f"{code} reads undeclared columns: {UNDECLARED[code]}"))
        out.append(pytest.param(code, marks=marks, id=code))
    return out


def test_declared_columns_exist() -> None:
    for code, rule in RULES.items():
        for table, cols in declared(rule).items():
            assert table in SCHEMAS, f"{code}: no canonical table {table}"
            unknown = sorted(set(cols) - set(SCHEMAS[table]))
            assert not unknown, f"{code}: {table} has no columns {unknown}"
        for table in rule.uses:
            assert table in rule.needs or table in rule.optional, \
                f"{code}: uses columns of {table}, neither needed nor optional"


@pytest.mark.parametrize("code", _params())
def test_rule_runs_on_its_declared_columns(code: str, county: dict[str, pl.DataFrame],
                                           tmp_path: Path) -> None:
    rule = RULES[code]
    for name, frames, config in datasets(code, county, tmp_path):
        full, full_runs = _outcome(frames, config, code)
        try:
            sub, sub_runs = _outcome(restricted(frames, rule), config, code)
        except MISSING_COLUMN as exc:  # a read of a column the rule does not declare
            pytest.fail(f"{code} on {name}, declared columns only: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0]}")
        assert sub_runs == full_runs, f"{code} on {name}"
        assert sub.equals(full), f"{code} on {name}: other findings with declared columns only"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_runs_without_its_used_columns(code: str, county: dict[str, pl.DataFrame]) -> None:
    rule = RULES[code]
    result = run_rules(needs_only(county, rule), BASE, select=[code])
    assert [r.status for r in result.runs] == ["ran"], result.runs
