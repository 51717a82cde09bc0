"""One `cardcheck check` of the input files: read, run the rules, write the evidence, report.
Stage by stage, timed. A check of canonical tables takes the same options (pipeline/options.py)
and writes through the same writer (outputs/write.py); pipeline/canonical.py reads its tables.
"""

from __future__ import annotations

from cardcheck.config import load_config
from cardcheck.engines import make_engine, owner_only, polars_affinity
from cardcheck.engines.runner import run_rules
from cardcheck.errors import CardcheckError, ExitCode
from cardcheck.ingest import load_inputs
from cardcheck.ingest.checks import (
    empty_tables,
    memory_warning,
    period_warnings,
    polars_engine,
    read_workers,
    same_files,
)
from cardcheck.ingest.reversals import summary as reversal_summary
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.canonical import parquet_for_direct_run, run_canonical
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


def run_check(options: CheckOptions) -> ExitCode:
    """A check: of canonical tables (--canonical, read by the engine) or of input files."""
    validate(options)  # before any work, not after the rules
    if options.canonical:
        return run_canonical(options)
    if options.out_url and not options.out_url.startswith("file://"):
        raise CardcheckError(f"--out {options.out_url}: a URL works with --canonical and "
                             "--engine spark; give a local folder here")
    timer = Timer()
    config = load_config(options.config)
    select = selected_rules(options)
    paths = resolve_paths(options, config)
    same_files(paths)
    progress = Progress(quiet=options.quiet)
    with progress, polars_affinity(polars_engine(paths)):
        too_big = memory_warning(paths)
        if too_big:  # before minutes of reading
            progress.warn(too_big)
        with timer.stage("read+normalise"):
            inputs = load_inputs(paths, config, progress=progress.step,
                                 workers=read_workers(paths))
        empty_tables(inputs.counts)
        for warning in period_warnings(inputs.frames):
            progress.warn(warning)
        for line in reversal_summary(inputs.reversals):
            progress.warn(line)
        engine = make_engine(options.engine, **engine_options(options))
        written: dict[str, str] = {}
        try:
            with timer.stage("rules"):
                result = run_rules(inputs.frames, config, engine=engine, select=select,
                                   progress=progress.step, unusable=inputs.unusable())
            if options.parquet:
                with timer.stage("parquet (engine)"):
                    written = parquet_for_direct_run(options, engine, result.findings,
                                                     inputs.rejects)
        finally:
            engine.close()
        run = CheckRun(options, config, inputs, result)
        run.outputs.update(written)
        run.stages = timer.stages
        private_ledger(options.out, ledger_path(options))
        write_outputs(run, timer, progress)
        for path in run.outputs.values():  # owner-only, whoever wrote them
            owner_only(str(path))
    return exit_code(result, options.fail_on)
