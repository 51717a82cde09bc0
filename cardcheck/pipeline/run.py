"""One `cardcheck check`: open the input source, run the rules, write the outputs whole, report.

The input source (pipeline/sources.py) is the only thing that differs between a check of the
input files and a check of canonical tables (--canonical): the options, the engine, the rules,
the ledger, the writer and the commit of the outputs are the same. Stage by stage, timed.

Outputs are written into a partial folder inside OUT and renamed into place when whole, the
manifest last (outputs/staging.py); any failure before that leaves the previous run's files as
they were. The ledger records the run before the renames.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from cardcheck.atomic import private_umask
from cardcheck.config import load_config
from cardcheck.engines import Engine, make_engine
from cardcheck.engines.runner import run_rules
from cardcheck.errors import EnvironmentProblem, ExitCode, InputError
from cardcheck.faults import failpoint
from cardcheck.ledger.store import Ledger
from cardcheck.outputs.canonical import write_large
from cardcheck.outputs.staging import Staging, staged
from cardcheck.outputs.target import Target, parquet_outputs
from cardcheck.outputs.write import Show, write_run
from cardcheck.pipeline.options import (
    CheckOptions,
    CheckRun,
    Timer,
    engine_options,
    exit_code,
    ledger_path,
    selected_rules,
    validate,
)
from cardcheck.pipeline.sources import CanonicalSource, InputSource, source_for
from cardcheck.progress import Progress
from cardcheck.report.spec import report_spec

# the names a run writes whatever the data (the workbook's name depends on it: checked at commit)
FIXED_OUTPUTS = ("findings.csv", "rejects.csv", "manifest.json", "findings.parquet",
                 "rejects.parquet")


def run_check(options: CheckOptions) -> ExitCode:
    """A check of input files, or of canonical tables (--canonical, read by the engine)."""
    validate(options)  # before any work, not after the rules
    timer = Timer()
    config = load_config(options.config)
    select = selected_rules(options)
    source = source_for(options, config)
    progress = Progress(quiet=options.quiet)
    with private_umask(), progress, source.affinity():
        engine = make_engine(options.engine, **engine_options(options))
        target: Target | None = None
        try:
            target = Target.of(options, engine)
            check_ledger(options, source.files(), config)
            with staged(target.local, source.files(), target.url) as staging:
                staging.check_inputs(FIXED_OUTPUTS)
                show = _run(options, config, select, source, engine, target, staging, timer,
                            progress)
            failpoint("committed")
            target.publish(show.outputs)
        finally:
            engine.close()
            if target is not None:
                target.cleanup()
    show(None)
    return exit_code(show.result, options.fail_on)


class _Shown:
    """The summary to print after the commit, with what the run produced."""

    def __init__(self, run: CheckRun, show: Show, target: Target) -> None:
        self.run, self.show, self.target = run, show, target
        self.outputs = run.outputs
        self.result = run.result

    def __call__(self, console: Any) -> None:
        self.show(console)
        if self.target.url and not self.run.options.quiet:
            names = "、".join(Path(str(p)).name for k, p in self.outputs.items()
                             if k != "ledger" and "://" in str(p))
            print(f"已写到 {self.target.url}：{names}（本机临时副本已删除；台账 "
                  f"{self.run.options.ledger}）")


def _run(options: CheckOptions, config: Any, select: list[str] | None, source: InputSource,
         engine: Engine, target: Target, staging: Staging, timer: Timer,
         progress: Progress) -> _Shown:
    tables = source.open(engine, progress, timer)
    failpoint("read")
    with timer.stage("rules"):
        result = run_rules(tables, config, engine=engine, select=select,
                           progress=progress.step, unusable=source.unusable())
    failpoint("rules")
    parquet = options.parquet if options.parquet is not None else source.parquet_default
    written: dict[str, Any] = {}
    if parquet:
        with timer.stage("parquet (engine)"):
            progress.step("writing findings.parquet and rejects.parquet")
            written = parquet_outputs(engine, target, staging, result.findings, source.rejects())
    local = dataclasses.replace(options, out=target.local)
    inputs, why = source.report_inputs(engine)
    extra: dict[str, Any] = {}
    if isinstance(source, CanonicalSource):
        extra = {"command": source.command, **source.manifest(),
                 "written": {"findings.csv": True, "rejects.csv": inputs is not None,
                             "workbook": bool(inputs is not None and options.excel),
                             "parquet": sorted(written), "not_written": why,
                             "engine": engine.name}}
    if inputs is None:
        assert isinstance(source, CanonicalSource) and source.source is not None
        run = CheckRun(local, config, source.empty_inputs(), result)
        run.outputs.update(written)
        show = write_large(run, timer, progress, engine, source.source, why, staging, extra)
    else:
        run = CheckRun(local, config, inputs, result)
        run.outputs.update(written)
        show = write_run(run, timer, progress, staging, extra)
    return _Shown(run, show, target)


def check_ledger(options: CheckOptions, inputs: list[Path], config: Any) -> None:
    """Before any work: the ledger is not an input, and an existing one opens (not damaged,
    not newer, not held by another run)."""
    path = ledger_path(options)
    resolved = {p.resolve() for p in inputs}
    if path.resolve() in resolved or (path.exists() and any(
            _same(path, p) for p in inputs)):
        raise InputError(f"--ledger {path}: is one of this run's input files; give the ledger "
                         "a path of its own")
    if path.exists():
        with Ledger(path, report_spec(config).statuses):
            pass  # opening checks it (and takes the write lock once, briefly)
    elif not os.access(_existing_parent(path), os.W_OK):
        raise EnvironmentProblem(f"--ledger {path}：没有权限在 {_existing_parent(path)} 中创建台账"
                                 "（permission denied）")


def _existing_parent(path: Path) -> Path:
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
