"""Write what a run produced: findings.csv, rejects.csv, manifest.json, workbook, ledger, summary."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cardcheck import __version__
from cardcheck.errors import CardcheckError

if TYPE_CHECKING:
    from cardcheck.progress import Progress
    from cardcheck.run import CheckRun, Timer

FORMULA_START = ("=", "+", "-", "@")


def safe_cell(value: str) -> str:
    """A text that a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def escape_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that starts with = + - @ is prefixed with ' (CSV formula injection)."""
    exprs = [
        pl.when(pl.col(c).str.contains(r"^[=+\-@]")).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, t in df.schema.items() if t == pl.String
    ]
    return df.with_columns(exprs) if exprs else df


def private_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except PermissionError as exc:
        raise CardcheckError(f"--out {path}: cannot write there ({exc.strerror})") from None
    except FileExistsError:
        raise CardcheckError(f"--out {path}: exists and is not a folder") from None


def write_csv(df: pl.DataFrame, path: Path) -> Path:
    escape_formulas(df).write_csv(path, quote_style="non_numeric")
    os.chmod(path, 0o600)
    return path


def write_outputs(run: CheckRun, timer: Timer, progress: Progress) -> None:
    out = run.options.out
    private_dir(out)
    with timer.stage("outputs"):
        progress.step("writing findings.csv and rejects.csv")
        run.outputs["findings"] = write_csv(run.result.findings, out / "findings.csv")
        run.outputs["rejects"] = write_csv(run.inputs.rejects, out / "rejects.csv")
    run.stages = timer.stages
