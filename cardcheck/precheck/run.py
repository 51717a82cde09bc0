"""One `cardcheck precheck`: read the batch and the files it is screened against, screen it,
write the batch back split in two with the hold list and the summary, record it in the ledger.

Outputs are written into a partial folder inside OUT and renamed into place when whole
(outputs/staging.py), every file 0600 from its first byte; the ledger records the run before
the renames, as `cardcheck check` does. Exit 0 when nothing is held, 1 when something is, 2 for
bad input.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.atomic import private_umask
from cardcheck.config import Config, load_config
from cardcheck.engines import polars_affinity
from cardcheck.errors import CardcheckError, ExitCode, InputError
from cardcheck.ingest import load_inputs
from cardcheck.ingest.checks import polars_engine, read_workers, same_files
from cardcheck.ledger.precheck import HELD, RELEASED, earlier_decisions, record_run
from cardcheck.ledger.store import Ledger
from cardcheck.model import REJECTS, rejects_csv
from cardcheck.outputs.staging import staged
from cardcheck.outputs.write import file_record
from cardcheck.pipeline.options import CheckOptions, Timer, parse_refs, read_inputs_file
from cardcheck.pipeline.run import check_ledger
from cardcheck.precheck.batch import Batch, month_text, parse_month, read_batch
from cardcheck.precheck.holdlist import hold_rows, write_holdlist
from cardcheck.precheck.screen import READ, Screening, screen
from cardcheck.precheck.settings import PrecheckSettings, precheck_settings
from cardcheck.precheck.split import BatchFile, output_name
from cardcheck.precheck.summary import Summary, summarise
from cardcheck.progress import Progress
from cardcheck.report.files import write_csv, write_text
from cardcheck.report.spec import report_spec
from cardcheck.rules import catalogue

KINDS = ("roll", "accounts", "payments")  # besides the reference lists: what precheck reads


@dataclass
class PrecheckOptions:
    batch: Path
    month: str
    out: Path
    roll: list[Path] = field(default_factory=list)
    accounts: Path | None = None
    payments: list[Path] = field(default_factory=list)  # payments already made
    refs: list[str] = field(default_factory=list)  # KIND=PATH
    inputs: Path | None = None  # a folder or inputs.yaml naming the files
    ledger: Path | None = None
    config: Path | None = None
    unmask: bool = False
    quiet: bool = False


@dataclass
class Done:
    """What a run produced: the summary, the files, the run's key; printed after the commit."""

    summary: Summary
    files: dict[str, str]
    run_key: str
    ledger: Path

    def lines(self) -> list[str]:
        out = self.summary.text()
        out.append(f"  可发：{self.files['released']}　暂缓：{self.files['held']}　"
                   f"暂缓清单：{self.files['holdlist']}")
        out.append(f"  台账 {self.ledger}（预审编号 {self.run_key}）")
        return out


def input_paths(options: PrecheckOptions, config: Config,
                settings: PrecheckSettings) -> dict[str, list[Path]]:
    """--inputs first (its roll, accounts, payments and the lists the screening rules use),
    then the options on top."""
    given = read_inputs_file(options.inputs) if options.inputs else {}
    lists = {spec.kind for spec in config.lists.values() if spec.code in settings.rules}
    paths = {k: v for k, v in given.items() if k in KINDS or k in lists}
    if options.roll:
        paths["roll"] = list(options.roll)
    if options.accounts:
        paths["accounts"] = [options.accounts]
    if options.payments:
        paths["payments"] = list(options.payments)
    paths.update(parse_refs(options.refs, config))
    if not paths.get("roll"):
        raise CardcheckError("missing --roll (or --inputs DIR naming it): a batch is screened "
                             "against the roll")
    return paths


def ledger_at(options: PrecheckOptions) -> Path:
    return options.ledger or options.out / "cardcheck.db"


def run_precheck(options: PrecheckOptions) -> ExitCode:
    month = parse_month(options.month)
    config = load_config(options.config)
    settings = precheck_settings(config)
    paths = input_paths(options, config, settings)
    same_files({"batch": [options.batch], **paths})
    files = [options.batch, *(p for ps in paths.values() for p in ps)]
    ledger_path = ledger_at(options)
    check_ledger(CheckOptions(roll=None, accounts=None, payments=[], out=options.out,
                              ledger=ledger_path), files, config)
    names = {"released": output_name("可发", options.batch),
             "held": output_name("暂缓", options.batch),
             "holdlist": f"暂缓清单_{Path(options.batch).stem}.xlsx",
             "rejects": "precheck_rejects.csv", "summary": "precheck.json"}
    progress = Progress(quiet=options.quiet)
    with private_umask(), progress, polars_affinity(polars_engine({"b": files})), \
            staged(options.out, files) as staging, \
            Ledger(ledger_path, report_spec(config).statuses) as ledger:
        staging.check_inputs(names.values())
        done = _run(options, config, settings, month, paths, ledger, staging.folder, names,
                    progress)
    if not options.quiet:
        print("\n".join(done.lines()))
    return ExitCode.FINDINGS if done.summary.held else ExitCode.OK


def _run(options: PrecheckOptions, config: Config, settings: PrecheckSettings, month: int,
         paths: dict[str, list[Path]], ledger: Ledger, folder: Path, names: dict[str, str],
         progress: Progress) -> Done:
    timer = Timer()
    with timer.stage("read batch"):
        progress.step(f"reading the batch: {Path(options.batch).name}")
        batch = read_batch(options.batch, month, config)
    with timer.stage("read+normalise"):
        inputs = load_inputs(paths, config, progress=progress.step, workers=read_workers(paths))
    if "roll" in inputs.unusable():  # screened against nothing, every line would pass
        raise InputError(f"--roll: {inputs.unusable()['roll']}; a batch cannot be screened "
                         "without the roll")
    with timer.stage("screen (rules, lines)"):
        found = screen(batch, inputs.frames, config, settings, ledger, progress,
                       inputs.unusable())
    rule_names = {r.code: r.name for r in catalogue(config)} | {READ: "无法读取"}
    records = batch.record_lines()
    summary = summarise(batch.path.name, month, records, found.lines, found.holds, rule_names,
                        found.runs, _notes(batch, found, settings, ledger))
    held = found.holds.get_column("line").unique().sort()
    run_key = f"{month}-{datetime.now():%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    with timer.stage("outputs"):
        progress.step("writing 可发, 暂缓 and the hold list")
        _write_parts(options, batch, records, held, folder, names)
        earlier = earlier_decisions(ledger, found.lines.filter(pl.col("line").is_in(
            held.implode())).get_column("card_no").drop_nulls())
        rows = hold_rows(found.lines, found.holds, rule_names, earlier, run_key, options.unmask)
        subtitle = (f"报盘 {batch.path.name}　所属月份 {month_text(month)}　预审编号 {run_key}　"
                    f"制表时间 {datetime.now():%Y-%m-%d %H:%M}"
                    + ("" if options.unmask else "　身份证号、卡号已脱敏"))
        write_holdlist(folder / names["holdlist"], rows, summary.table(), subtitle, settings)
        rejects = pl.concat([batch.rejects.with_columns(pl.lit(batch.path.name).alias("file")),
                             inputs.rejects], how="vertical").select(list(REJECTS))
        write_csv(rejects_csv(rejects), folder / names["rejects"], include_bom=True)
    with timer.stage("ledger"):
        progress.step(f"recording the run in the ledger {ledger.path.name}")
        record_run(ledger, {
            "run_key": run_key, "at": datetime.now().isoformat(timespec="seconds"),
            "month": month, "batch": batch.path.name, "digest": batch.digest,
            "format": batch.format, "lines": summary.lines, "amount": summary.amount,
            "released": summary.released, "released_amount": summary.released_amount,
            "held": summary.held, "held_amount": summary.held_amount,
        }, ledger_lines(records, found, held))
    manifest = _manifest(options, batch, paths, summary, found, run_key, names, settings)
    manifest["stages"] = [{"name": t.name, "seconds": round(t.seconds, 3),
                           "peak_mb": round(t.peak_mb)} for t in timer.stages]
    write_text(folder / names["summary"], json.dumps(manifest, ensure_ascii=False, indent=2))
    return Done(summary, {k: str(options.out / v) for k, v in names.items()}, run_key,
                ledger.path)


def _write_parts(options: PrecheckOptions, batch: Batch, records: pl.Series, held: pl.Series,
                 folder: Path, names: dict[str, str]) -> None:
    """可发 and 暂缓 from the batch's bytes (the same bytes that were read)."""
    data = Path(options.batch).read_bytes()
    if hashlib.sha256(data).hexdigest() != batch.digest:
        raise InputError(f"--batch {batch.path.name}：文件在预审过程中被改动了；请等它写完后再预审")
    split = BatchFile(data, batch.format, batch.counts.encoding, batch.sheet, records)
    split.write(records.filter(~records.is_in(held.implode())), folder / names["released"])
    split.write(held, folder / names["held"])


def ledger_lines(records: pl.Series, found: Screening, held: pl.Series) -> pl.DataFrame:
    """Every payment line with its state and the rules and findings that held it."""
    why = found.holds.group_by("line").agg(
        pl.col("rule").unique().sort().str.join(",").alias("rules"),
        pl.col("finding_id").drop_nulls().unique().sort().str.join(",").alias("finding_ids"))
    return (
        pl.DataFrame({"line": records}).join(found.lines, on="line", how="left")
        .join(why, on="line", how="left")
        .with_columns(pl.when(pl.col("line").is_in(held.implode())).then(pl.lit(HELD))
                      .otherwise(pl.lit(RELEASED)).alias("state"))
    )


def _notes(batch: Batch, found: Screening, settings: PrecheckSettings,
           ledger: Ledger) -> list[str]:
    notes = []
    skipped = batch.counts.skipped_reasons
    tail = {k: v for k, v in skipped.items() if "合计" in k or "批次尾" in k or "total" in k}
    if tail:
        notes.append("报盘中的" + "、".join(tail) + " 行原样写入可发和暂缓两个文件，其笔数和金额"
                     "是整个报盘的：送银行前请核对或改正")
    if found.same_month:
        notes.append(f"给出的代发明细中已有 {found.same_month:,} 笔 {month_text(batch.month)} 的"
                     "代发：本报盘中与之同月同户的行按 P04 暂缓（报盘是否已经送过银行？）")
    if batch.format == "xls":
        notes.append("报盘是旧版 .xls：可发和暂缓写成 .xlsx（表头和各行的值不变）")
    if settings.ledger_rules and not found.ledger_findings and not _has_findings(ledger):
        notes.append(f"台账 {ledger.path.name} 中还没有检查结果：未按 "
                     f"{'、'.join(settings.ledger_rules)} 的未整改问题拦截（先运行 cardcheck check "
                     "并用同一个 --ledger）")
    return notes


def _has_findings(ledger: Ledger) -> bool:
    return ledger.conn.execute("SELECT 1 FROM findings LIMIT 1").fetchone() is not None


def _manifest(options: PrecheckOptions, batch: Batch, paths: dict[str, list[Path]],
              summary: Summary, found: Screening, run_key: str, names: dict[str, str],
              settings: PrecheckSettings) -> dict[str, Any]:
    return {
        "command": "precheck", "complete": True, "run_key": run_key,
        "at": datetime.now().isoformat(timespec="seconds"),
        "batch": {**file_record(Path(options.batch)), "format": batch.format,
                  "encoding": batch.counts.encoding, "sheet": batch.sheet,
                  "read": batch.counts.read, "loaded": batch.counts.loaded,
                  "rejected": batch.counts.rejected, "skipped": batch.counts.skipped_reasons},
        "inputs": {k: [file_record(p) for p in ps] for k, ps in paths.items()},
        "rules": {r.code: {"status": r.status, "reason": r.reason, "findings": r.count}
                  for r in found.runs},
        "ledger_rules": list(settings.ledger_rules),
        "history": {"payments": found.history, "from_ledger": found.from_ledger,
                    "open_ledger_findings": found.ledger_findings},
        "summary": summary.as_json(),
        "outputs": dict(names),
        "ledger": str(ledger_at(options)),
    }
