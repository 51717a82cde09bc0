"""What one run is asked to do and what it produced: the options, the run types, and the checks
and settings every run makes the same way, whether it reads input files or canonical tables
(stage, --fail-on, config, rules chosen, engine, ledger path, owner-only files).

Imports nothing above the engines: the pipeline, the outputs and the CLI all build on it."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import yaml

from cardcheck import yamlsafe
from cardcheck.config import Config
from cardcheck.engines.runner import RunResult
from cardcheck.engines.store import is_url, local_path
from cardcheck.errors import CardcheckError, ExitCode
from cardcheck.ledger.store import STAGES

SEVERITY_ORDER = {"warning": 0, "low": 1, "medium": 2, "high": 3}


@dataclass
class CheckOptions:
    roll: Path | list[Path] | None  # several rolls (民政, 残联) are stacked
    accounts: Path | None
    payments: list[Path]
    out: Path
    inputs: Path | None = None  # a folder or inputs.yaml naming the files
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
    findings_xlsx: bool = False  # findings.xlsx beside findings.csv (Chinese headers, 元)
    unmask: bool = False
    quiet: bool = False
    profile: bool = False
    verbose: bool = False  # the terminal summary in full (every township, hub, file)
    fail_on: str | None = None
    canonical: str | None = None  # a folder or URL of canonical tables (`cardcheck normalise`)
    out_url: str | None = None  # --out as a URL (Spark writes there; `out` is then local staging)
    parquet: bool | None = None  # findings/rejects as Parquet by the engine (None: Spark+canonical)
    report_rows: int = 10_000_000  # canonical rows past which the workbook is not built


@dataclass
class Stage:
    name: str
    seconds: float
    peak_mb: float


class RunInputs(Protocol):
    """What a run read: cardcheck.ingest.Inputs from files, or the canonical run's stand-in."""

    # read-only members, so that a dataclass holding a dict (or a driver-side mapping) fits
    @property
    def frames(self) -> Mapping[str, pl.DataFrame]: ...
    @property
    def rejects(self) -> pl.DataFrame: ...
    @property
    def counts(self) -> list[Any]: ...


@dataclass
class CheckRun:
    """Everything one run produced, for the reports, the ledger and the manifest."""

    options: CheckOptions
    config: Config
    inputs: RunInputs
    result: RunResult
    stages: list[Stage] = field(default_factory=list)
    outputs: dict[str, Path | str] = field(default_factory=dict)  # str: a URL the engine wrote


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
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


def read_inputs_file(where: Path) -> dict[str, list[Path]]:
    """The files an inputs.yaml names (paths relative to its folder), by kind."""
    path = where / "inputs.yaml" if where.is_dir() else where
    if not path.is_file():
        raise CardcheckError(f"--inputs {where}: no inputs.yaml there")
    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8"), str(path)) or {}
    except yaml.YAMLError as exc:
        raise CardcheckError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CardcheckError(f"{path}: expected keys roll, accounts, payments, …")
    base = path.parent

    def many(value: object, key: str) -> list[Path]:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise CardcheckError(f"{path}: {key}: expected a file name or a list of them")
        return [base / str(v) for v in items]

    out: dict[str, list[Path]] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key == "refs":
            if not isinstance(value, dict):
                raise CardcheckError(f"{path}: refs: expected KIND: file pairs")
            for kind, files in value.items():
                out[str(kind)] = many(files, f"refs.{kind}")
        elif key in ("other_rolls", "other_roll"):
            out["other_roll"] = many(value, key)
        elif key in ("roll", "accounts", "payments", "transactions"):
            out[key] = many(value, key)
        else:
            raise CardcheckError(f"{path}: {key}: unknown key (expected roll, accounts, payments, "
                                 "transactions, refs, other_rolls)")
    return out


def resolve_paths(options: CheckOptions, config: Config) -> dict[str, list[Path]]:
    """--inputs first, then the explicit options on top; the three main files are required.
    A --canonical run reads no input files (its manifest names the canonical folder instead)."""
    if getattr(options, "canonical", None):
        return {}
    paths = read_inputs_file(options.inputs) if options.inputs else {}
    if options.roll:
        paths["roll"] = list(options.roll) if isinstance(options.roll, list) else [options.roll]
    if options.accounts:
        paths["accounts"] = [options.accounts]
    if options.payments:
        paths["payments"] = list(options.payments)
    if options.transactions:
        paths["transactions"] = list(options.transactions)
    if options.other_rolls:
        paths["other_roll"] = list(options.other_rolls)
    for kind, files in parse_refs(options.refs, config).items():
        paths[kind] = files
    for kind in paths:
        if kind not in config.tables and kind != "other_roll":
            raise CardcheckError(f"inputs: unknown kind {kind!r}; known: {', '.join(config.tables)}")
    missing = [f"--{k}" for k in ("roll", "accounts", "payments") if not paths.get(k)]
    if missing:
        raise CardcheckError(f"missing {', '.join(missing)} (or --inputs DIR naming them)")
    return paths


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


def engine_options(options: CheckOptions) -> dict[str, Any]:
    if options.engine != "spark":
        return {}
    return {"master": options.spark_master,
            "conf": dict(kv.split("=", 1) for kv in options.spark_conf if "=" in kv)}


def check_out(out: str) -> tuple[Path, str | None]:
    """--out as given: a local folder, or (with Spark) a URL."""
    if is_url(out):
        local = local_path(out)
        return (Path(local) if local is not None else Path(".")), out
    return Path(out), None


def ledger_path(options: CheckOptions) -> Path:
    """The ledger a run records into: --ledger, else OUT/cardcheck.db."""
    return options.ledger or options.out / "cardcheck.db"


def selected_rules(options: CheckOptions) -> list[str] | None:
    """The rule codes --rules names, or None for the whole catalogue."""
    return [c.strip() for c in options.rules.split(",")] if options.rules else None


def validate(options: CheckOptions) -> None:
    """The options every run checks before any work: the stage and --fail-on."""
    if options.stage not in STAGES:
        raise CardcheckError(f"--stage {options.stage!r}: expected one of {', '.join(STAGES)}")
    if options.fail_on and options.fail_on not in SEVERITY_ORDER:
        raise CardcheckError(f"--fail-on: expected one of high, medium, low, got {options.fail_on!r}")
