"""Outputs of a canonical run too large for the workbook (past --report-rows).

findings.csv, the ledger and manifest.json are written as in every run; what the ledger and the
summary need from the tables is computed by the engine and only small results come back: the
roll and account rows of the households and cards that have findings (for the ledger's
defaults), the households (the ledger's sampling frame, when the roll fits), and the counts of
the summary line. The workbook, 表1/表2 over every card, and rejects.csv are not written; the
Parquet outputs hold the findings and rejects, and the manifest says why.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl
from rich.console import Console

from cardcheck.canonical import Source
from cardcheck.engines import Engine
from cardcheck.faults import failpoint
from cardcheck.ledger.store import Ledger, RunRecord
from cardcheck.outputs.findings import write_findings
from cardcheck.outputs.staging import Staging
from cardcheck.outputs.write import (
    Show,
    households_of,
    ledger_line,
    record_findings,
    write_manifest,
)
from cardcheck.pipeline.options import CheckRun, Timer, ledger_path
from cardcheck.report.spec import report_spec
from cardcheck.report.summary import month_label, yuan_text

HOUSEHOLD_COLUMNS = ("household_id", "relation", "id_number", "township", "village", "name",
                     "phone", "card_no")
CONTACT_COLUMNS = ("card_no", "address", "phone")  # of the accounts, for the visit list


def touching(engine: Engine, lf: nw.LazyFrame, findings: pl.DataFrame,
             keys: tuple[str, ...]) -> pl.DataFrame:
    """The rows of `lf` that share a key value (household_id, card_no) with some finding;
    semi-joins on the engine, so only those rows come back."""
    parts = []
    for key in keys:
        values = findings.select(pl.col(key).drop_nulls().unique())
        if values.height:
            parts.append(lf.join(engine.lazy(values), on=key, how="semi"))
    if not parts:
        return engine.collect(lf.head(0))
    return pl.concat([engine.collect(p) for p in parts]).unique(maintain_order=True)


def distinct(lf: nw.LazyFrame, engine: Engine, *cols: str) -> dict[str, int]:
    """Distinct non-null values per column, counted on the engine."""
    exprs = [e for c in cols for e in (nw.col(c).n_unique().alias(f"u_{c}"),
                                       nw.col(c).null_count().alias(f"n_{c}"))]
    row = engine.collect(lf.select(exprs)).row(0, named=True)
    return {c: int(row[f"u_{c}"]) - (1 if int(row[f"n_{c}"]) else 0) for c in cols}


def scope(source: Source, engine: Engine) -> dict[str, Any]:
    roll, pays = source.tables["roll"].lazy, source.tables["payments"].lazy
    out: dict[str, Any] = distinct(roll, engine, "household_id", "id_number", "card_no")
    row = engine.collect(pays.select(
        nw.col("amount").sum().cast(nw.Int64).alias("paid"),
        nw.col("pay_month").min().alias("first"), nw.col("pay_month").max().alias("last"),
    )).row(0, named=True)
    out.update(row, payments=source.tables["payments"].height)
    return out


def write_large(run: CheckRun, timer: Timer, progress: Any, engine: Engine, source: Source,
                why: str, staging: Staging, extra: Mapping[str, Any] | None = None) -> Show:
    """findings.csv, the ledger record and manifest.json into the run's partial folder; returns
    the summary, to show once the files are in place."""
    opts = run.options
    spec = report_spec(run.config)
    findings = run.result.findings
    with timer.stage("outputs"):
        progress.step("recording the findings in the ledger")
        roll = source.tables["roll"]
        near = {"roll": touching(engine, roll.lazy, findings, ("household_id", "card_no")),
                "accounts": touching(engine, source.tables["accounts"].lazy, findings,
                                     ("card_no",))}
        households = None
        if roll.height <= opts.report_rows:
            accounts = source.tables["accounts"].lazy
            households = households_of(
                engine.collect(roll.lazy.select(list(HOUSEHOLD_COLUMNS))),
                engine.collect(accounts.select(list(CONTACT_COLUMNS))))
        with Ledger(ledger_path(opts), spec.statuses) as ledger:
            record = record_findings(run, spec, near, households, ledger)
            state = ledger.state(findings.get_column("finding_id").to_list())
        failpoint("ledger")
        progress.step("writing findings.csv")
        for key, written in write_findings(findings, state, spec, staging.folder,
                                           opts.findings_xlsx).items():
            run.outputs[key] = staging.final(written)
        failpoint("findings")
        info = scope(source, engine) if not opts.quiet else {}
    run.stages = timer.stages
    run.outputs["manifest"] = staging.final(staging.path("manifest.json"))
    write_manifest(run, staging.path("manifest.json"), record.run_id, len(record.suppressed),
                   extra)

    def show(console: Console | None) -> None:
        if not opts.quiet:
            summary(console or Console(width=None if sys.stdout.isatty() else 160,
                                       highlight=False), run, info, record, why)
    return show


def summary(console: Console, run: CheckRun, info: dict[str, Any], record: RunRecord,
            why: str) -> None:
    reported = run.result.findings.filter(~pl.col("finding_id").is_in(record.suppressed))
    total = int(reported.get_column("amount").fill_null(0).sum()) if reported.height else 0
    console.print(f"cardcheck 核查结果　期间 {month_label(info['first'])}–"
                  f"{month_label(info['last'])}　阶段 {run.options.stage}", markup=False)
    console.print(f"核查 {info['household_id']:,} 户 {info['id_number']:,} 人 "
                  f"{info['card_no']:,} 张卡，发放 {info['payments']:,} 笔 "
                  f"{yuan_text(info['paid'])} 元；发现问题 {reported.height:,} 个，涉及 "
                  f"{yuan_text(total)} 元", markup=False)
    per = reported.group_by("rule").agg(pl.len().alias("n"),
                                        pl.col("amount").fill_null(0).sum().alias("amount"))
    counts = {r["rule"]: (r["n"], r["amount"]) for r in per.iter_rows(named=True)}
    for r in run.result.runs:
        n, amount = counts.get(r.code, (0, 0))
        note = (f"（{r.reason}）" if r.reason else "") if r.status == "ran" else \
            f"（未运行：{r.reason}）"
        console.print(f"  {r.code} {r.name}  {n:,} 个  {yuan_text(amount)} 元{note}",
                      markup=False)
    console.print(ledger_line(record, ledger_path(run.options)), markup=False)
    console.print(f"未生成工作簿和 rejects.csv：{why}", markup=False)
    for key, path in run.outputs.items():
        console.print(f"  {key}: {path}", markup=False)
