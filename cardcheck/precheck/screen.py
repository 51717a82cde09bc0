"""Screen a batch with the rule catalogue in single-month form: the batch is the month's
payments, stacked with the payments already made for the same months (the payment files
given, and the lines earlier prechecks released that those files do not cover), and the
chosen rules (configs/precheck.yaml) run on these frames exactly as in `cardcheck check`.
The findings that concern batch lines are the holds (link.py); so are lines paying a card tied
to an open C04/C07 finding of the ledger, and lines the reader could not read.

Only the months the batch pays go in: a payment for another month cannot make a batch line
wrong, and the rules then look at one month's money, not a year's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.config import Config
from cardcheck.engines import Engine
from cardcheck.engines.runner import RuleRun, run_rules
from cardcheck.ledger.precheck import open_card_findings, sent_payments
from cardcheck.ledger.store import Ledger
from cardcheck.model import conform
from cardcheck.precheck.batch import BATCH_FILE, Batch
from cardcheck.precheck.link import Attributed, empty, ledger_holds, link
from cardcheck.precheck.settings import MEMO, PrecheckSettings
from cardcheck.progress import Progress
from cardcheck.rules import by_code
from cardcheck.rules.base import Context
from cardcheck.rules.card import C05
from cardcheck.rules.payment.attribution import prepare

READ = "读取"  # the rule column of a line the reader could not read
USED = ("roll", "accounts", "payments")  # besides the reference lists


@dataclass
class Screening:
    holds: pl.DataFrame  # line, rule, finding_id, evidence: one row per line and reason
    lines: pl.DataFrame  # every readable batch line: line, card, name, ID, amount, memo, …
    runs: list[RuleRun]  # the screening rules, ran or not (and why)
    history: int = 0  # payments already made stacked under the batch
    from_ledger: int = 0  # … of them lines earlier prechecks released
    ledger_findings: int = 0  # open C04/C07 … findings of the ledger looked at
    same_month: int = 0  # payments given that were paid in the batch's month
    notes: list[str] = field(default_factory=list)


def period_of() -> pl.Expr:
    """The month a payment pays: the memo's month, else the pay month (as attribution.py)."""
    return pl.coalesce("memo_period", "pay_month").cast(pl.Int32)


def stacked(batch: Batch, given: pl.DataFrame | None, sent: pl.DataFrame) -> pl.DataFrame:
    """The batch under the payments already made for the months it pays."""
    periods = batch.frame.select(period_of().alias("p")).unique().get_column("p").implode()
    parts = [conform(df, "payments") for df in (given, sent) if df is not None]
    history = pl.concat(parts, how="vertical") if parts else conform(pl.DataFrame(), "payments")
    history = history.filter(period_of().is_in(periods)).with_columns(
        pl.when(pl.col("source_file") == BATCH_FILE).then(pl.lit("代发明细"))
        .otherwise(pl.col("source_file")).alias("source_file"))
    return pl.concat([history, conform(batch.frame, "payments")], how="vertical")


def screen(batch: Batch, frames: dict[str, pl.DataFrame], config: Config,
           settings: PrecheckSettings, ledger: Ledger | None, progress: Progress,
           unusable: dict[str, str] | None = None) -> Screening:
    """Run the screening rules and tie their findings to the batch's lines."""
    given = frames.get("payments")
    covered = given.get_column("pay_month").drop_nulls().unique().to_list() \
        if given is not None else []
    sent = sent_payments(ledger, config, covered, batch.month, batch.path.name)
    payments = stacked(batch, given, sent)
    lists = {spec.kind for spec in config.lists.values()}
    tables = {k: v for k, v in frames.items() if k in USED or k in lists}
    tables["payments"] = payments
    engine = Engine()
    shared: dict[str, nw.LazyFrame] = {}
    unusable = {k: v for k, v in (unusable or {}).items() if k != "payments"}
    result = run_rules(tables, config, engine=engine, select=settings.rules,
                       progress=progress.step, unusable=unusable, shared=shared)
    progress.step("tying findings to the batch's lines")
    lazies = {k: engine.lazy(v) for k, v in tables.items()}
    ctx = Context(tables=lazies, config=config, shared=shared, materialize=engine.materialize,
                  reuse=engine.keep)
    att = prepare(ctx)
    attributed = Attributed(engine.collect(att.payments), engine.collect(att.rows),
                            engine.collect(att.entries))
    problems = None
    if MEMO in settings.links.values() and result.findings.filter(
            pl.col("rule") == "C05").height:
        memo_ctx = Context(tables=lazies, config=config,
                           params=by_code(config)["C05"].params(config), shared=shared,
                           materialize=engine.materialize, reuse=engine.keep)
        problems = engine.collect(C05.problems(memo_ctx))
    lines = attributed.lines()
    open_found = open_card_findings(ledger, settings.ledger_rules, settings.open_statuses)
    holds = pl.concat([
        link(result.findings, settings.links, attributed, problems),
        ledger_holds(open_found, lines),
        unreadable_holds(batch),
    ], how="vertical")
    shown = batch.frame.select(pl.col("source_line").alias("line"), "account_name",
                               "id_number", "amount", "memo")
    lines = shown.join(lines.select("line", "card_no", "fund", "period"), on="line",
                       how="left").sort("line")
    runs = [r for r in result.runs if r.code in settings.rules]
    periods = batch.frame.select(period_of().alias("p")).unique().get_column("p").implode()
    return Screening(holds.unique(["line", "rule", "finding_id"], keep="first",
                                  maintain_order=True),
                     lines, runs, history=payments.height - batch.frame.height,
                     from_ledger=sent.filter(period_of().is_in(periods)).height,
                     ledger_findings=open_found.height,
                     same_month=0 if given is None else given.filter(
                         pl.col("pay_month") == batch.month).height)


def unreadable_holds(batch: Batch) -> pl.DataFrame:
    bad = batch.unreadable()
    if bad.height == 0:
        return empty()
    return bad.select(pl.col("line").cast(pl.Int64), pl.lit(READ).alias("rule"),
                      pl.lit(None, pl.String).alias("finding_id"),
                      pl.concat_str([pl.lit("本行无法读取，未经筛查："), pl.col("reason")])
                      .alias("evidence"))
