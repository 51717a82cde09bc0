"""`cardcheck normalise` and `cardcheck check --canonical`: canonical tables in, engine outputs out.

check --canonical: the engine reads the canonical tables itself and runs the rules; findings (small)
come back to this machine. The engine writes findings.parquet and rejects.parquet (with
--parquet, and by default with Spark). findings.csv, the ledger and the manifest are always
written; the workbook and the full summary need the roll, the accounts and the payments on this
machine, so they are written when those fit (`--report-rows`), and the manifest says what was.
OUT may be a URL with Spark: the engine writes there directly, and the small local files are
copied there through the cluster's file system (the ledger stays a local file: --ledger).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck.canonical import (
    Source,
    Written,
    default_part,
    open_canonical,
    write_canonical,
)
from cardcheck.config import load_config
from cardcheck.engines import Engine, Scanned, make_engine, owner_only, polars_affinity
from cardcheck.engines.runner import run_rules
from cardcheck.engines.store import join, local_path, store_for
from cardcheck.errors import CardcheckError, ExitCode, InputError
from cardcheck.ingest import load_inputs
from cardcheck.ingest.checks import (
    empty_tables,
    period_warnings,
    polars_engine,
    read_workers,
    same_files,
    sha256,
)
from cardcheck.model import REJECTS
from cardcheck.outputs.canonical import write_large
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import (
    CheckOptions,
    CheckRun,
    Timer,
    engine_options,
    exit_code,
    ledger_path,
    private_ledger,
    resolve_paths,
    selected_rules,
    validate,
)
from cardcheck.progress import Progress
from cardcheck.report.files import private_dir

REPORT_TABLES = ("roll", "accounts", "payments")


# ---------------------------------------------------------------- normalise


def run_normalise(options: CheckOptions, part: str | None) -> Written:
    """Read and normalise the messy inputs once; write the canonical tables of one part."""
    config = load_config(options.config)
    paths = resolve_paths(options, config)
    same_files(paths)
    with Progress(quiet=options.quiet) as progress, polars_affinity(polars_engine(paths)):
        inputs = load_inputs(paths, config, progress=progress.step,
                             workers=read_workers(paths))
        empty_tables(inputs.counts)
        files = {k: [{"path": str(Path(p).resolve()), "size": Path(p).stat().st_size,
                      "sha256": sha256(Path(p))} for p in v] for k, v in paths.items()}
        progress.step("writing the canonical tables")
        return write_canonical(inputs.frames, inputs.rejects, inputs.counts, config,
                               options.out, part or default_part(inputs.frames, options.inputs),
                               files)


def normalise_summary(w: Written) -> str:
    rows = ", ".join(f"{k} {n:,}" for k, n in w.tables.items())
    lines = [(f"{'replaced' if w.replaced else 'wrote'} part {w.part} in {w.folder}: {rows}; "
             f"rejects {w.rejects:,}")]
    bad = [c for c in w.counts if c.read != c.loaded + c.rejected + c.skipped]
    lines += [f"warning: {c.file}: read {c.read} != loaded + rejected + skipped" for c in bad]
    if w.removed:
        lines.append(f"removed this part's old {', '.join(w.removed)} (not in these inputs)")
    lines.append(f"check it with: cardcheck check --canonical {w.folder} --out <folder>")
    return "\n".join(lines)


# ---------------------------------------------------------------- where outputs go


@dataclass
class Target:
    """OUT: a local folder, or a URL (Spark) with a local staging folder for the small files."""

    local: Path
    url: str | None = None
    store: Any = None

    @classmethod
    def of(cls, options: CheckOptions, engine: Engine) -> Target:
        url = options.out_url
        if url and local_path(url) is not None and engine.name != "spark":
            return cls(Path(local_path(url) or "."))
        if not url:
            return cls(options.out)
        if engine.name != "spark":
            store_for(url, engine, "--out")  # raises: a URL needs Spark
        if options.ledger is None:
            raise CardcheckError(f"--out {url}: the ledger is a local SQLite file; give "
                                 "--ledger FILE (it keeps the findings across runs)")
        return cls(Path(tempfile.mkdtemp(prefix="cardcheck-out-")), url,
                   store_for(url, engine, "--out"))

    def place(self, name: str) -> str:
        return join(self.url, name) if self.url else str(self.local / name)

    def publish(self, outputs: dict[str, Any]) -> dict[str, Any]:
        """Copy the small local files to the URL; the ledger stays where it is."""
        if not self.url:
            return outputs
        out = dict(outputs)
        for key, path in outputs.items():
            p = Path(str(path))
            if key != "ledger" and p.is_file() and p.parent == self.local:
                self.store.put(p, join(self.url, p.name))
                out[key] = join(self.url, p.name)
                if local_path(self.url) is not None:  # file://: owner-only as every output
                    owner_only(join(local_path(self.url) or "", p.name))
        if local_path(self.url) is not None:
            owner_only(local_path(self.url) or "")
        return out

    def cleanup(self) -> None:
        if self.url:
            shutil.rmtree(self.local, ignore_errors=True)


def parquet_outputs(engine: Engine, target: Target, findings: pl.DataFrame,
                    rejects: nw.LazyFrame | pl.DataFrame | None) -> dict[str, str]:
    """findings.parquet and rejects.parquet, written by the engine (rejects never come through
    this machine when the engine read them)."""
    if target.url is None:
        private_dir(target.local)
    out = {"findings_parquet": target.place("findings.parquet"),
           "rejects_parquet": target.place("rejects.parquet")}
    engine.write_parquet(engine.lazy(findings), out["findings_parquet"], small=True)
    if rejects is None:
        rejects = pl.DataFrame(schema=REJECTS)
    lf = engine.lazy(rejects) if isinstance(rejects, pl.DataFrame) else rejects
    engine.write_parquet(lf, out["rejects_parquet"])
    return out


def finish_manifest(run: CheckRun, target: Target, extra: dict[str, Any]) -> None:
    """Add what the run wrote (and where) to manifest.json, before it is published."""
    path = run.options.out / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if target.url:
        data["options"]["out"] = target.url
        data["outputs"] = {k: (join(target.url, Path(str(v)).name)
                               if k != "ledger" and Path(str(v)).parent == target.local
                               else str(v)) for k, v in run.outputs.items()}
    data.update(extra)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    owner_only(str(path))


# ---------------------------------------------------------------- check --canonical


class DriverFrames(Mapping[str, pl.DataFrame]):
    """The canonical tables the reports read, brought to this machine on first use only."""

    def __init__(self, engine: Engine, tables: dict[str, Scanned]) -> None:
        self.engine, self.tables = engine, tables
        self.cache: dict[str, pl.DataFrame] = {}

    def __getitem__(self, kind: str) -> pl.DataFrame:
        if kind not in self.cache:
            self.cache[kind] = self.engine.collect(self.tables[kind].lazy)
        return self.cache[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


@dataclass
class CanonicalInputs:
    frames: Mapping[str, pl.DataFrame]
    rejects: pl.DataFrame
    counts: list[Any] = field(default_factory=list)


def _no_input_files(options: CheckOptions) -> None:
    given = [flag for flag, value in (
        ("--inputs", options.inputs), ("--roll", options.roll), ("--accounts", options.accounts),
        ("--payments", options.payments), ("--transactions", options.transactions),
        ("--ref", options.refs), ("--other-roll", options.other_rolls)) if value]
    if given:
        raise CardcheckError(f"--canonical reads the tables `cardcheck normalise` wrote; "
                             f"{', '.join(given)} cannot be given with it")


def _period_warnings(source: Source, engine: Engine) -> list[str]:
    """The roll/payments period check on the distinct spans and months only (small)."""
    roll, pays = source.tables["roll"].lazy, source.tables["payments"].lazy
    spans = engine.collect(roll.select("start_date", "end_date").unique())
    months = engine.collect(pays.select("pay_month").unique())
    return period_warnings({"roll": spans, "payments": months})


def run_canonical(options: CheckOptions) -> ExitCode:
    validate(options)
    _no_input_files(options)
    timer = Timer()
    config = load_config(options.config)
    select = selected_rules(options)
    progress = Progress(quiet=options.quiet)
    engine = make_engine(options.engine, **engine_options(options))
    target = Target.of(options, engine)
    try:
        with progress:
            with timer.stage("scan canonical"):
                source = open_canonical(str(options.canonical), engine, config, progress.step)
            empty = [k for k in REPORT_TABLES if source.tables[k].height == 0]
            if empty:
                raise InputError(f"--canonical {options.canonical}: the {', '.join(empty)} "
                                 "table has no rows; at least one is needed to check")
            for warning in source.warnings + _period_warnings(source, engine):
                progress.warn(warning)
            with timer.stage("rules"):
                result = run_rules(source.tables, config, engine=engine, select=select,
                                   progress=progress.step)
            local = dataclasses.replace(options, out=target.local)
            run = CheckRun(local, config, CanonicalInputs({}, pl.DataFrame(schema=REJECTS),
                                                          source.counts), result)
            write_all(run, timer, progress, engine, target, source)
    finally:
        engine.close()
        target.cleanup()
    return exit_code(result, options.fail_on)


def write_all(run: CheckRun, timer: Timer, progress: Any, engine: Engine, target: Target,
              source: Source) -> None:
    opts = run.options
    parquet = opts.parquet if opts.parquet is not None else engine.name == "spark"
    rejects = source.rejects
    rows = source.rows(*REPORT_TABLES) + (rejects.height if rejects is not None else 0)
    fits = rows <= opts.report_rows
    written: dict[str, Any] = {}
    if parquet:
        with timer.stage("parquet (engine)"):
            progress.step("writing findings.parquet and rejects.parquet")
            written = parquet_outputs(engine, target, run.result.findings,
                                      rejects.lazy if rejects is not None else None)
    run.outputs.update(written)
    private_ledger(opts.out, ledger_path(opts))
    if fits:
        run.inputs = CanonicalInputs(
            DriverFrames(engine, source.tables),
            engine.collect(rejects.lazy) if rejects is not None else pl.DataFrame(schema=REJECTS),
            source.counts)
        write_outputs(run, timer, progress)
        why = ""
    else:
        why = (f"the roll, accounts, payments and rejects hold {rows:,} rows, more than "
               f"--report-rows {opts.report_rows:,}: the workbook and rejects.csv need them on "
               "this machine")
        write_large(run, timer, progress, engine, source, why)
    for path in run.outputs.values():
        if "://" not in str(path):
            owner_only(str(path))
    finish_manifest(run, target, {
        "command": "check --canonical",
        "canonical": canonical_record(source),
        "written": {"findings.csv": True, "rejects.csv": fits,
                    "workbook": bool(fits and opts.excel), "parquet": sorted(written),
                    "not_written": why, "engine": engine.name},
    })
    published = target.publish(run.outputs)
    if target.url and not opts.quiet:
        names = "、".join(Path(str(p)).name for k, p in published.items()
                         if k != "ledger" and "://" in str(p))
        print(f"已写到 {target.url}：{names}（本机临时副本已删除；台账 {opts.ledger}）")


def canonical_record(source: Source) -> dict[str, Any]:
    """What the manifest says about the canonical input: parts, versions, rows, files."""
    return {
        "location": (source.location if local_path(source.location) is None
                     else str(Path(local_path(source.location) or ".").resolve())),
        "parts": [m.get("part") for m in source.manifests],
        "normalised_with": sorted({str(m.get("cardcheck")) for m in source.manifests}),
        "schema_digests": sorted({str(m.get("schema_digest")) for m in source.manifests}),
        "rows": {k: t.height for k, t in source.tables.items()},
        "rejects": source.rejects.height if source.rejects is not None else None,
        "files": source.files,
        "warnings": source.warnings,
    }


def parquet_for_direct_run(options: CheckOptions, engine: Engine, findings: pl.DataFrame,
                           rejects: pl.DataFrame) -> dict[str, str]:
    """--parquet on a check of the input files: the same two files, written by the engine."""
    return parquet_outputs(engine, Target(options.out), findings, rejects)
