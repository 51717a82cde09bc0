"""Write what a run produced: findings.csv, rejects.csv, the ledger, the workbook, manifest.json,
and the summary on the terminal."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from cardcheck import __version__
from cardcheck.atomic import private_umask
from cardcheck.faults import failpoint
from cardcheck.ingest.checks import digest_read, sha256
from cardcheck.ledger.excel import ledger_findings
from cardcheck.ledger.sampling import frame_of
from cardcheck.ledger.store import Ledger, RunRecord
from cardcheck.model import rejects_csv
from cardcheck.outputs.findings import write_findings
from cardcheck.outputs.staging import Staging, staged
from cardcheck.pipeline.options import CheckRun, Timer, ledger_path, resolve_paths
from cardcheck.progress import Progress
from cardcheck.report import summary as S
from cardcheck.report import tables as T
from cardcheck.report.book import (
    BookInput,
    build_and_write,
    cards_csv_path,
    resolved_spec,
    workbook_name,
)
from cardcheck.report.files import SECRET_WORDS, write_csv, write_text
from cardcheck.report.spec import ReportSpec, report_spec
from cardcheck.report.terminal import SummaryInput, render
from cardcheck.rules import catalogue


def households_of(roll: pl.DataFrame | None, accounts: pl.DataFrame | None = None
                  ) -> pl.DataFrame | None:
    """The roll's households (the ledger's sampling frame): township, village, head, size, and
    for the visit list phone, address (the accounts') and cards; in household_id order."""
    return frame_of(roll, accounts)


def record_findings(run: CheckRun, spec: ReportSpec, near: Mapping[str, pl.DataFrame],
                    households: pl.DataFrame | None, ledger: Ledger) -> RunRecord:
    """The ledger's record of this run, the same for every run: `near`, the roll and accounts
    rows the findings' defaults are read from (owner, county, persons); `households`, the
    ledger's sampling frame (None when the roll is too large to bring here)."""
    opts = run.options
    findings = run.result.findings
    basis = T.basis_of({r.code: r.needs for r in catalogue(run.config)})
    enriched = T.enrich(findings, near, spec, opts.stage, basis=basis)
    defaults = enriched.select("finding_id", pl.col("owner"), "measure", "deadline",
                               "county", "persons", "basis")
    ran = [r.code for r in run.result.runs if r.status == "ran"]
    record = ledger.record_run(findings, opts.stage, ran, defaults, households,
                               options=manifest_options(opts))
    run.outputs["ledger"] = ledger_path(opts)
    return record


def ledger_line(record: RunRecord, path: Path) -> str:
    """The summary's line about the ledger."""
    return (f"台账 {path}：第 {record.run_id} 次记录，本次 {record.found} 个问题，"
            f"新增 {record.new}，数据中已消除 {record.gone}，不属实后证据变化重新核查 "
            f"{record.reopened}")


Show = Callable[[Console | None], None]


def write_outputs(run: CheckRun, timer: Timer, progress: Progress,
                  console: Console | None = None) -> None:
    """Every output of a run whose tables fit here, whole or absent (outputs/staging.py), then
    the summary on the terminal."""
    with private_umask(), staged(run.options.out, input_files(run)) as staging:
        show = write_run(run, timer, progress, staging)
    show(console)


def write_run(run: CheckRun, timer: Timer, progress: Progress, staging: Staging,
              extra: Mapping[str, Any] | None = None) -> Show:
    """findings.csv, rejects.csv, the ledger, the workbook and manifest.json (last) into the
    run's partial folder; returns the summary, to show once the files are in place."""
    opts = run.options
    spec = report_spec(run.config)
    findings = run.result.findings
    frames = run.inputs.frames
    with timer.stage("outputs"):
        progress.step("recording the findings in the ledger")
        path = ledger_path(opts)
        with Ledger(path, spec.statuses) as ledger:
            record = record_findings(run, spec, frames, households_of(
                frames.get("roll"), frames.get("accounts")), ledger)
            state = ledger.state(findings.get_column("finding_id").to_list())
            ledger_state = ledger_findings(ledger, spec)
            info = S.scope(frames)
            named = resolved_spec(spec, info, run.inputs.counts)  # for `ledger export`
            ledger.set_meta({"county": named.county, "reporter": named.furniture.reporter})
        failpoint("ledger")
        progress.step("writing findings.csv and rejects.csv")
        for key, written in write_findings(findings, state, spec, staging.folder,
                                           opts.findings_xlsx).items():
            run.outputs[key] = staging.final(written)
        run.outputs["rejects"] = staging.final(
            write_csv(rejects_csv(run.inputs.rejects, opts.unmask), staging.path("rejects.csv")))
        failpoint("findings")
        reported = findings.filter(~pl.col("finding_id").is_in(record.suppressed))
        if opts.excel:
            progress.step("writing the workbook")
            basis = T.basis_of({r.code: r.needs for r in catalogue(run.config)})
            book = BookInput(reported, frames, run.result.runs, run.inputs.counts, spec,
                             opts.stage, state=state, ledger_state=ledger_state, basis=basis,
                             suppressed=len(record.suppressed), unmask=opts.unmask, info=info)
            book_path = staging.path(workbook_name(frames, spec.county, info))
            run.outputs["workbook"] = staging.final(build_and_write(book_path, book))
            run.outputs["cards"] = staging.final(cards_csv_path(book_path, spec))
            failpoint("workbook")
    run.stages = timer.stages
    run.outputs["manifest"] = staging.final(staging.path("manifest.json"))
    write_manifest(run, staging.path("manifest.json"), record.run_id, len(record.suppressed),
                   extra)

    def show(console: Console | None) -> None:
        if opts.quiet:
            return
        # piped to a file, tables get room instead of the 80 columns rich assumes, unless
        # COLUMNS says how wide
        sized = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
        console = console or Console(width=None if sized else 160)
        render(console, SummaryInput(
            reported, frames, run.inputs.counts, run.result.runs, opts.stage, run.stages,
            run.outputs, len(record.suppressed), ledger_line(record, path), spec.county,
            opts.unmask, opts.profile, info, opts.verbose,
            {key: sheet.name for key, sheet in spec.sheets.items()}))
    return show


def input_files(run: CheckRun) -> list[Path]:
    """The files the run read (an output must never replace one)."""
    return [p for ps in input_paths(run.options, run.config).values() for p in ps]


# ---------------------------------------------------------------- manifest


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def manifest_options(opts: Any) -> dict[str, Any]:
    """The command's options, with any setting that may hold key material redacted."""
    raw = _plain(dataclasses.asdict(opts))
    if raw.get("out_url"):  # --out was a URL: `out` is only the local staging folder
        raw["out"] = raw["out_url"]
    conf = []
    for item in raw.get("spark_conf") or []:
        key, sep, _ = str(item).partition("=")
        secret = any(w in key.lower() for w in SECRET_WORDS)
        conf.append(f"{key}{sep}***" if secret and sep else item)
    raw["spark_conf"] = conf
    return {k: v for k, v in raw.items() if not any(w in k.lower() for w in SECRET_WORDS)}


def input_paths(opts: Any, config: Any) -> dict[str, list[Path]]:
    """The run's input files by kind (--inputs DIR and the options, as run.py resolves them)."""
    paths = resolve_paths(opts, config)
    return {k: [Path(p).resolve() for p in v] for k, v in paths.items() if v}


def file_record(path: Path) -> dict[str, Any]:
    """An input file as the manifest records it: the size and SHA-256 of the bytes the reader
    read (not of the file as it is now, which may have grown since)."""
    read = digest_read(path)
    if read is not None:
        return {"path": str(path), "size": read[0], "sha256": read[1]}
    ok = path.is_file()
    return {"path": str(path), "size": path.stat().st_size if ok else None,
            "sha256": sha256(path) if ok else None}


def write_manifest(run: CheckRun, path: Path, ledger_run: int | None = None,
                   suppressed: int = 0, extra: Mapping[str, Any] | None = None) -> Path:
    """manifest.json at `path`, the last file a run writes: "complete": true."""
    opts = run.options
    paths = input_paths(opts, run.config)
    files = {k: [file_record(p) for p in v] for k, v in paths.items()}
    f = run.result.findings
    manifest = {
        "version": __version__,
        "created": datetime.now().isoformat(timespec="seconds"),
        "command": "check",
        "options": manifest_options(opts),
        "inputs": {k: [str(p) for p in v] for k, v in paths.items()},
        "input_files": files,
        "config": str(Path(opts.config).resolve()) if opts.config else None,
        "config_sources": list(run.config.sources),
        "config_digest": run.config.digest,
        "counts": [_plain(dataclasses.asdict(c))
                   if dataclasses.is_dataclass(c) and not isinstance(c, type) else vars(c)
                   for c in run.inputs.counts],
        "rules": [{"code": r.code, "name": r.name, "status": r.status, "reason": r.reason,
                   "count": r.count, "amount": r.amount, "seconds": round(r.seconds, 3)}
                  for r in run.result.runs],
        "reversals": [{"table": r.kind, "netted_pairs": r.pairs, "unmatched": r.unmatched}
                      for r in getattr(run.inputs, "reversals", [])],
        "findings": f.height,
        "amount": int(f.get_column("amount").fill_null(0).sum()) if f.height else 0,
        "suppressed": suppressed,
        "ledger_run": ledger_run,
        "stages": [{"name": s.name, "seconds": round(s.seconds, 3), "peak_mb": round(s.peak_mb)}
                   for s in run.stages],
        "outputs": {k: str(v) for k, v in run.outputs.items()},
        **(extra or {}),
        "complete": True,
    }
    write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2))
    failpoint("manifest")
    return path
