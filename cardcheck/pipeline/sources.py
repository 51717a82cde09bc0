"""The two input sources of a check, the only thing that differs between its two ways of running.

- `FileSource`: the input files (the messy exports), read and normalised on this machine; the
  rules then run on those frames on any engine.
- `CanonicalSource`: the canonical tables `cardcheck normalise` wrote (`--canonical`), read by
  the engine itself; findings (small) come back to this machine. The workbook and rejects.csv
  need the roll, the accounts and the payments here, so they are written only when those fit
  (`--report-rows`); otherwise findings.csv, the ledger and the manifest (`write_large`).

Both give the pipeline (pipeline/run.py) the same things: the tables for the rules, the files an
output must never replace, the warnings, the tables the reports read, and what the manifest
says about the source.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from cardcheck.canonical import Source, open_canonical
from cardcheck.config import Config
from cardcheck.engines import Engine, Scanned, polars_affinity
from cardcheck.engines.store import local_path
from cardcheck.errors import CardcheckError, InputError
from cardcheck.ingest import Inputs, load_inputs
from cardcheck.ingest.checks import (
    empty_tables,
    memory_warning,
    period_warnings,
    polars_engine,
    read_workers,
    same_files,
)
from cardcheck.ingest.reversals import summary as reversal_summary
from cardcheck.model import REJECTS
from cardcheck.pipeline.options import CheckOptions, RunInputs, Timer, resolve_paths
from cardcheck.progress import Progress

REPORT_TABLES = ("roll", "accounts", "payments")


class InputSource(Protocol):
    """What the pipeline asks of a source."""

    command: str
    parquet_default: bool  # findings/rejects as Parquet when --parquet is not given

    def files(self) -> list[Path]: ...
    def affinity(self) -> contextlib.AbstractContextManager[Any]: ...
    def open(self, engine: Engine, progress: Progress, timer: Timer) -> Mapping[str, Any]: ...
    def unusable(self) -> dict[str, str]: ...
    def rejects(self) -> Any: ...
    def report_inputs(self, engine: Engine) -> tuple[RunInputs | None, str]: ...
    def manifest(self) -> dict[str, Any]: ...


def source_for(options: CheckOptions, config: Config) -> InputSource:
    if options.canonical:
        return CanonicalSource(options, config)
    if options.out_url and not options.out_url.startswith("file://"):
        raise CardcheckError(f"--out {options.out_url}: a URL works with --canonical and "
                             "--engine spark; give a local folder here")
    return FileSource(options, config)


# ---------------------------------------------------------------- input files


class FileSource:
    command = "check"
    parquet_default = False

    def __init__(self, options: CheckOptions, config: Config) -> None:
        self.options, self.config = options, config
        self.paths = resolve_paths(options, config)
        same_files(self.paths, config.limits)
        self.inputs: Inputs | None = None

    def files(self) -> list[Path]:
        return [Path(p) for ps in self.paths.values() for p in ps]

    def affinity(self) -> contextlib.AbstractContextManager[Any]:
        return polars_affinity(polars_engine(self.paths))

    def open(self, engine: Engine, progress: Progress, timer: Timer) -> Mapping[str, Any]:
        too_big = memory_warning(self.paths)
        if too_big:  # before minutes of reading
            progress.warn(too_big)
        with timer.stage("read+normalise"):
            self.inputs = inputs = load_inputs(self.paths, self.config, progress=progress.step,
                                               workers=read_workers(self.paths))
        empty_tables(inputs.counts)
        for warning in period_warnings(inputs.frames):
            progress.warn(warning)
        for line in reversal_summary(inputs.reversals):
            progress.warn(line)
        return inputs.frames

    def _read(self) -> Inputs:
        assert self.inputs is not None, "open() first"
        return self.inputs

    def unusable(self) -> dict[str, str]:
        return self._read().unusable()

    def rejects(self) -> pl.DataFrame:
        return self._read().rejects

    def report_inputs(self, engine: Engine) -> tuple[RunInputs | None, str]:
        return self._read(), ""

    def manifest(self) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------- canonical tables


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


class CanonicalSource:
    command = "check --canonical"

    def __init__(self, options: CheckOptions, config: Config) -> None:
        given = [flag for flag, value in (
            ("--inputs", options.inputs), ("--roll", options.roll),
            ("--accounts", options.accounts), ("--payments", options.payments),
            ("--transactions", options.transactions), ("--ref", options.refs),
            ("--other-roll", options.other_rolls)) if value]
        if given:
            raise CardcheckError(f"--canonical reads the tables `cardcheck normalise` wrote; "
                                 f"{', '.join(given)} cannot be given with it")
        self.options, self.config = options, config
        self.parquet_default = options.engine == "spark"
        self.source: Source | None = None

    def files(self) -> list[Path]:
        folder = local_path(str(self.options.canonical))
        if folder is None:
            return []
        return [p for p in Path(folder).rglob("*") if p.is_file()]

    def affinity(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def open(self, engine: Engine, progress: Progress, timer: Timer) -> Mapping[str, Any]:
        with timer.stage("scan canonical"):
            self.source = source = open_canonical(str(self.options.canonical), engine,
                                                  self.config, progress.step)
        empty = [k for k in REPORT_TABLES if source.tables[k].height == 0]
        if empty:
            raise InputError(f"--canonical {self.options.canonical}: the {', '.join(empty)} "
                             "table has no rows; at least one is needed to check")
        roll, pays = source.tables["roll"].lazy, source.tables["payments"].lazy
        spans = engine.collect(roll.select("start_date", "end_date").unique())
        months = engine.collect(pays.select("pay_month").unique())
        for warning in source.warnings + period_warnings({"roll": spans, "payments": months}):
            progress.warn(warning)
        return source.tables

    def _opened(self) -> Source:
        assert self.source is not None, "open() first"
        return self.source

    def unusable(self) -> dict[str, str]:
        return {}

    def rejects(self) -> Any:
        rejects = self._opened().rejects
        return rejects.lazy if rejects is not None else None

    def rows(self) -> int:
        source = self._opened()
        return source.rows(*REPORT_TABLES) + (source.rejects.height if source.rejects is not None else 0)

    def report_inputs(self, engine: Engine) -> tuple[RunInputs | None, str]:
        """The tables the workbook reads, when they fit here; else None and why not."""
        source, rows = self._opened(), self.rows()
        if rows > self.options.report_rows:
            return None, (f"the roll, accounts, payments and rejects hold {rows:,} rows, more "
                          f"than --report-rows {self.options.report_rows:,}: the workbook and "
                          "rejects.csv need them on this machine")
        rejects = (engine.collect(source.rejects.lazy) if source.rejects is not None
                   else pl.DataFrame(schema=REJECTS))
        return CanonicalInputs(DriverFrames(engine, source.tables), rejects, source.counts), ""

    def empty_inputs(self) -> RunInputs:
        return CanonicalInputs({}, pl.DataFrame(schema=REJECTS), self._opened().counts)

    def manifest(self) -> dict[str, Any]:
        """What the manifest says about the canonical input: parts, versions, rows, files."""
        source = self._opened()
        location = source.location
        return {"canonical": {
            "location": (location if local_path(location) is None
                         else str(Path(local_path(location) or ".").resolve())),
            "parts": [m.get("part") for m in source.manifests],
            "normalised_with": sorted({str(m.get("cardcheck")) for m in source.manifests}),
            "schema_digests": sorted({str(m.get("schema_digest")) for m in source.manifests}),
            "rows": {k: t.height for k, t in source.tables.items()},
            "rejects": source.rejects.height if source.rejects is not None else None,
            "files": source.files,
            "warnings": source.warnings,
        }}
