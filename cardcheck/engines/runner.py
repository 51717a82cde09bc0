"""Choose rules, check the tables and columns they need, run them, stamp ids, collect once each."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.config import Config
from cardcheck.engines import Engine, Scanned
from cardcheck.model import FINDINGS
from cardcheck.rules import catalogue
from cardcheck.rules.base import Context, Rule, findings

# The columns that identify a problem across runs: the same problem found again next month keeps
# its id (months and amounts are left out on purpose).
ID_KEYS = ("rule", "household_id", "id_number", "card_no", "fund", "hub")

FINDINGS_OUT = {"finding_id": pl.String, **FINDINGS, "rule_name": pl.String}


@dataclass
class RuleRun:
    code: str
    name: str
    status: str  # ran / skipped / disabled
    # why it did not run; for a rule that ran, how it used the inputs (a note for the summary:
    # "payroll 无日期列，按常设名单使用"), or ""
    reason: str = ""
    seconds: float = 0.0
    count: int = 0
    amount: int = 0


@dataclass
class RunResult:
    findings: pl.DataFrame
    runs: list[RuleRun] = field(default_factory=list)

    def skipped(self) -> list[RuleRun]:
        return [r for r in self.runs if r.status != "ran"]


def missing_inputs(rule: Rule, frames: Mapping[str, pl.DataFrame | Scanned],
                   unusable: dict[str, str] | None = None) -> list[str]:
    """Every table or column a rule needs that this run lacks, all at once. `unusable`: tables
    whose files were read but gave no usable row, with why."""
    unusable = unusable or {}
    gaps = []
    for table, columns in rule.needs.items():
        df = frames.get(table)
        if df is None:
            gaps.append(f"no {table} file")
            continue
        if table in unusable:  # given, but no row could be used: as good as absent
            gaps.append(unusable[table])
            continue
        empty_cols = [c for c in columns if c not in df.columns or
                      (df.height > 0 and df.get_column(c).null_count() == df.height)]
        if empty_cols:
            gaps.append(f"{table} has no {', '.join(empty_cols)}")
    return gaps


def finding_ids(df: pl.DataFrame) -> pl.Series:
    """Stable ids: sha1 of the identifying columns (hashlib, so they never change with polars)."""
    keys = df.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in ID_KEYS], separator="|")
    ).to_series()
    return pl.Series(
        "finding_id",
        [hashlib.sha1(k.encode()).hexdigest()[:12] for k in keys.to_list()],
        dtype=pl.String,
    )


def stamp(df: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Add finding ids and rule names; order rows deterministically."""
    if df.height == 0:
        return pl.DataFrame(schema=FINDINGS_OUT)
    df = df.with_columns(
        finding_ids(df), pl.col("rule").replace_strict(names, default="").alias("rule_name")
    )
    order = ["rule", "township", "village", "household_id", "id_number", "card_no", "fund", "hub",
             "first_month", "amount"]
    # every column takes part in the order, so input row order never changes the output
    df = df.sort(order + [c for c in df.columns if c not in order], nulls_last=True)
    # the same problem reported twice in one run (e.g. two evidence rows) keeps one row
    df = df.unique(subset=["finding_id"], keep="first", maintain_order=True)
    return df.select(list(FINDINGS_OUT))


def run_rules(
    frames: Mapping[str, pl.DataFrame | Scanned],  # Scanned: a table the engine reads itself
    config: Config,
    engine: Engine | None = None,
    select: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    unusable: dict[str, str] | None = None,
    shared: dict[str, nw.LazyFrame] | None = None,
) -> RunResult:
    """Run the chosen rules (all by default) over the canonical frames present in this run.
    `unusable`: tables read from files that gave no usable row (the rules needing them do not
    run, with that reason). `shared`: a dict to keep the frames the rules share in (the
    attributed payments …), for a caller that reads them after the run (`cardcheck precheck`
    ties findings to batch lines through them)."""
    engine = engine or Engine()
    rules = catalogue(config)
    if select is not None:
        wanted = set(select)
        rules = [r for r in rules if r.code in wanted]
    lazies = {name: engine.lazy(df) for name, df in frames.items()}
    parts: list[pl.DataFrame] = []
    runs: list[RuleRun] = []
    # frames rules share, computed by the first that asks
    shared = {} if shared is None else shared
    for rule in rules:
        if not rule.enabled(config):
            runs.append(RuleRun(rule.code, rule.name, "disabled", "enabled: false in config"))
            continue
        gaps = missing_inputs(rule, frames, unusable)
        if gaps:
            runs.append(RuleRun(rule.code, rule.name, "skipped", "; ".join(gaps)))
            continue
        if progress:
            progress(f"{rule.code} {rule.name}")
        t0 = time.perf_counter()
        params, note = rule.params(config), ""
        if rule.prepare is not None:  # facts of this run's inputs, and what the summary says
            facts, note = rule.prepare(frames)
            params = {**params, **facts}
        ctx = Context(tables=lazies, config=config, params=params, shared=shared,
                      materialize=engine.materialize, reuse=engine.keep)
        out = engine.collect(findings(rule.check(ctx), rule.code, rule.severity_for(config)))
        parts.append(out)
        runs.append(RuleRun(rule.code, rule.name, "ran", note, seconds=time.perf_counter() - t0,
                            count=out.height, amount=int(out.get_column("amount").fill_null(0).sum())))
    names = {r.code: r.name for r in rules}
    all_findings = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=FINDINGS)
    result = stamp(all_findings, names)
    # counts after de-duplication, so the summary reconciles with findings.csv
    per_rule = result.group_by("rule").agg(pl.len().alias("n"), pl.col("amount").fill_null(0).sum())
    counts = {r["rule"]: (r["n"], r["amount"]) for r in per_rule.iter_rows(named=True)}
    for run in runs:
        if run.status == "ran":
            run.count, run.amount = counts.get(run.code, (0, 0))
    return RunResult(result, runs)
