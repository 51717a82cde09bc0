"""`cardcheck precheck --release HOLDLIST.xlsx --ledger L`: the approver's decisions on the
held lines go into the ledger (放行: released, 不放行: kept held), with who decided and their
note; a released line then counts as paid for its month in the next precheck. With --batch
(the same file that was screened: its SHA-256 is checked) and --out, the lines released now
are written as 放行_<batch>, in the batch's layout, ready for the bank.

All or nothing: a row with a line that was not held, a word that is neither a release nor a
hold word, or a key the ledger does not know stops it before anything is recorded, with the
sheet and row of every such row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cardcheck.atomic import private_umask
from cardcheck.config import Config, load_config
from cardcheck.errors import CardcheckError, InputError
from cardcheck.ledger.precheck import APPROVED, HELD, REFUSED, decide, run_lines, run_of
from cardcheck.ledger.store import Ledger
from cardcheck.outputs.staging import staged
from cardcheck.precheck.batch import read_batch
from cardcheck.precheck.holdlist import read_holdlist
from cardcheck.precheck.settings import precheck_settings
from cardcheck.precheck.split import BatchFile, output_name
from cardcheck.precheck.summary import yuan
from cardcheck.report.spec import report_spec


@dataclass
class ReleaseOptions:
    holdlist: Path
    ledger: Path
    batch: Path | None = None
    out: Path | None = None
    by: str | None = None  # the approver, recorded with each decision
    config: Path | None = None
    quiet: bool = False


@dataclass
class Released:
    run_key: str
    released: int = 0
    released_amount: int = 0
    refused: int = 0
    undecided: int = 0
    written: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [(f"预审编号 {self.run_key}：放行 {self.released:,} 笔 "
                f"{yuan(self.released_amount)} 元，不放行 {self.refused:,} 笔，未填 "
                f"{self.undecided:,} 笔（仍暂缓）")]
        out += [f"  已写出 {name}" for name in self.written]
        return out


def run_release(options: ReleaseOptions) -> list[str]:
    """Record the decisions; the lines to print."""
    if (options.batch is None) != (options.out is None):
        raise CardcheckError("--release: give --batch and --out together (to write the lines "
                             "released as a file for the bank), or neither")
    if not Path(options.ledger).is_file():
        raise InputError(f"--ledger {options.ledger}: no ledger there; give the ledger the "
                         "precheck recorded into")
    config = load_config(options.config)
    settings = precheck_settings(config)
    got = read_holdlist(options.holdlist)
    words = {**dict.fromkeys(settings.release_words, APPROVED),
             **dict.fromkeys(settings.hold_words, REFUSED)}
    out: list[str] = []
    with private_umask(), Ledger(options.ledger, report_spec(config).statuses) as ledger:
        keys = got.rows.get_column("run_key").drop_nulls().unique().sort().to_list()
        if not keys:
            raise InputError(f"--release {options.holdlist.name}: no 预审编号 in the hold list")
        if options.batch is not None and len(keys) > 1:
            raise InputError(f"--release {options.holdlist.name}: rows of {len(keys)} prechecks "
                             f"({'、'.join(keys)}); with --batch give one precheck's hold list")
        plans = [_plan(ledger, key, got.rows.filter(pl.col("run_key") == key), words,
                       options.holdlist.name) for key in keys]
        problems = [p for _, _, _, found in plans for p in found]
        if problems:
            raise InputError("--release: nothing recorded; correct these rows and run again:\n"
                             + "\n".join(problems))
        for key, decisions, lines, _ in plans:
            changed = decisions.join(lines.select("line", pl.col("state").alias("was"),
                                                  pl.col("note").alias("had")),
                                     on="line", how="left").filter(
                (pl.col("state") != pl.col("was"))
                | (pl.col("note").fill_null("") != pl.col("had").fill_null("")))
            now = changed.filter((pl.col("state") == APPROVED) & (pl.col("was") != APPROVED))
            done = Released(key)
            if options.batch is not None and options.out is not None:
                # the file first, the decisions in the ledger before it is renamed into place
                done.written.append(_write_released(options, ledger, key, lines, now, config,
                                                    changed))
            else:
                decide(ledger, key, changed, options.by)
            after = run_lines(ledger, key)
            done.released = after.filter(pl.col("state") == APPROVED).height
            done.released_amount = int(after.filter(pl.col("state") == APPROVED)
                                       .get_column("amount").fill_null(0).sum())
            done.refused = after.filter(pl.col("state") == REFUSED).height
            done.undecided = after.filter(pl.col("state") == HELD).height
            out += done.lines()
    return out


def _plan(ledger: Ledger, key: str, rows: pl.DataFrame, words: dict[str, str], name: str
          ) -> tuple[str, pl.DataFrame, pl.DataFrame, list[str]]:
    """(key, decisions (line, state, note), the run's lines, problems with sheet and row)."""
    if run_of(ledger, key) is None:
        return key, rows, rows, [f"{name}: 预审编号 {key} is not in the ledger {ledger.path}"]
    lines = run_lines(ledger, key)
    filled = rows.filter(pl.col("release").fill_null("") != "").with_columns(
        pl.col("line").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
        .alias("n"),
        pl.col("release").replace_strict(words, default=None).alias("state"))
    where = pl.format("{} 工作表“{}”第 {} 行", pl.lit(name), pl.col("sheet"), pl.col("row"))
    held = lines.filter(pl.col("state").is_in([HELD, APPROVED, REFUSED])).get_column("line")
    bad = filled.with_columns(
        pl.when(pl.col("n").is_null()).then(pl.format("行号 “{}” 不是数字", pl.col("line")))
        .when(pl.col("state").is_null())
        .then(pl.format("放行列 “{}” 应为 {}", pl.col("release"), pl.lit("、".join(words))))
        .when(~pl.col("n").is_in(held.implode()))
        .then(pl.format("报盘第 {} 行在预审 {} 中没有被暂缓", pl.col("n"), pl.lit(key)))
        .alias("why"))
    problems = bad.filter(pl.col("why").is_not_null()).select(
        pl.concat_str([where, pl.lit("："), pl.col("why")])).to_series().to_list()
    decisions = filled.select(pl.col("n").alias("line"), "state",
                              pl.col("note").fill_null("").alias("note")).unique(
        "line", keep="last")
    return key, decisions, lines, problems


def _write_released(options: ReleaseOptions, ledger: Ledger, key: str, lines: pl.DataFrame,
                    now: pl.DataFrame, config: Config, changed: pl.DataFrame) -> str:
    """放行_<batch>: the lines released now, in the batch's layout; the decisions are recorded
    once the file is whole, before it is renamed into --out."""
    assert options.batch is not None and options.out is not None
    run = run_of(ledger, key) or {}
    data = Path(options.batch).read_bytes()
    if hashlib.sha256(data).hexdigest() != run.get("digest"):
        raise InputError(f"--batch {options.batch}: not the file precheck {key} screened (its "
                         f"SHA-256 differs); give the batch {run.get('batch')} as it was")
    batch = read_batch(options.batch, int(str(run.get("month"))), config)
    name = output_name("放行", options.batch)
    with staged(options.out, [options.batch, options.holdlist, options.ledger]) as staging:
        staging.check_inputs([name])
        BatchFile(data, batch.format, batch.counts.encoding, batch.sheet,
                  lines.get_column("line")).write(now.get_column("line"), staging.path(name))
        decide(ledger, key, changed, options.by)
    return str(options.out / name)
