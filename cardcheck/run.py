"""One `cardcheck check`: load, run the rules, write the evidence, report. Stage by stage, timed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cardcheck.config import Config, load_config
from cardcheck.engine import RunResult, run_rules
from cardcheck.engines import make_engine
from cardcheck.errors import CardcheckError, ExitCode

SEVERITY_ORDER = {"warning": 0, "low": 1, "medium": 2, "high": 3}


@dataclass
class CheckOptions:
    roll: Path
    accounts: Path
    payments: list[Path]
    out: Path
    transactions: list[Path] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # KIND=PATH
    other_rolls: list[Path] = field(default_factory=list)
    config: Path | None = None
    rules: str | None = None
    engine: str = "polars"
    spark_master: str = "local[*]"
    spark_conf: list[str] = field(default_factory=list)
    stage: str = "自查自纠"
    ledger: Path | None = None
    excel: bool = True
    unmask: bool = False
    quiet: bool = False
    profile: bool = False
    fail_on: str | None = None


@dataclass
class Stage:
    name: str
    seconds: float
    peak_mb: float


@dataclass
class CheckRun:
    """Everything one run produced, for the reports, the ledger and the manifest."""

    options: CheckOptions
    config: Config
    inputs: object  # cardcheck.ingest.Inputs
    result: RunResult
    stages: list[Stage] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __init__(self) -> None:
        self.stages: list[Stage] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append(Stage(name, time.perf_counter() - t0, peak_mb()))


def parse_refs(refs: list[str], config: Config) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for item in refs:
        kind, sep, path = item.partition("=")
        if not sep or not kind or not path:
            raise CardcheckError(f"--ref {item!r}: expected KIND=PATH, e.g. deaths=死亡名单.xlsx")
        if kind not in config.tables or kind in ("roll", "accounts", "payments", "transactions"):
            kinds = [k for k in config.tables if k not in ("roll", "accounts", "payments", "transactions")]
            raise CardcheckError(f"--ref {item!r}: unknown list kind {kind!r}; known: {', '.join(kinds)}")
        out.setdefault(kind, []).append(Path(path))
    return out


def exit_code(result: RunResult, fail_on: str | None) -> ExitCode:
    if not fail_on:
        return ExitCode.OK
    if fail_on not in SEVERITY_ORDER:
        raise CardcheckError(f"--fail-on: expected one of high, medium, low, got {fail_on!r}")
    level = SEVERITY_ORDER[fail_on]
    hits = result.findings.filter(
        pl.col("severity").replace_strict(SEVERITY_ORDER, default=0, return_dtype=pl.Int32) >= level
    )
    return ExitCode.FINDINGS if hits.height else ExitCode.OK


def run_check(options: CheckOptions) -> ExitCode:
    from cardcheck.ingest import load_inputs
    from cardcheck.outputs import write_outputs
    from cardcheck.progress import Progress

    timer = Timer()
    config = load_config(options.config)
    select = [c.strip() for c in options.rules.split(",")] if options.rules else None
    paths = {
        "roll": [options.roll],
        "accounts": [options.accounts],
        "payments": options.payments,
        "transactions": options.transactions,
        "other_roll": options.other_rolls,
        **parse_refs(options.refs, config),
    }
    progress = Progress(quiet=options.quiet)
    with progress:
        with timer.stage("read+normalise"):
            inputs = load_inputs(paths, config, progress=progress.step)
        spark_conf = dict(kv.split("=", 1) for kv in options.spark_conf if "=" in kv)
        options_engine = (
            {"master": options.spark_master, "conf": spark_conf} if options.engine == "spark" else {}
        )
        engine = make_engine(options.engine, **options_engine)
        try:
            with timer.stage("rules"):
                result = run_rules(inputs.frames, config, engine=engine, select=select,
                                   progress=progress.step)
        finally:
            engine.close()
        run = CheckRun(options, config, inputs, result)
        run.stages = timer.stages
        write_outputs(run, timer, progress)
    return exit_code(result, options.fail_on)
