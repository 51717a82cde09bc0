"""Files every output writes the same way: CSV with formula-looking text escaped (no cell from an
input becomes a live formula) and control characters shown as escapes, owner-only; the OUT
folder owner-only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.errors import CardcheckError
from cardcheck.masking import visible_controls

FORMULA_START = ("=", "+", "-", "@")
SECRET_WORDS = ("secret", "password", "passwd", "token", "key", "credential")


def safe_cell(value: str) -> str:
    """A text that a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def escape_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that starts with = + - @ is prefixed with ' (CSV formula injection), and
    its control characters are shown as escapes (\\x1b: no escape sequence from an input reaches
    a terminal that prints the file)."""
    exprs = [
        pl.when(pl.col(c).str.contains(r"^[=+\-@]")).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, t in df.schema.items() if t == pl.String
    ]
    return visible_controls(df.with_columns(exprs) if exprs else df)


def private_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except PermissionError as exc:
        raise CardcheckError(f"--out {path}: cannot write there ({exc.strerror})") from None
    except FileExistsError:
        raise CardcheckError(f"--out {path}: exists and is not a folder") from None


def write_csv(df: pl.DataFrame, path: Path, **options: Any) -> Path:
    """`df` as CSV, formula-escaped, owner-only (options go to polars' write_csv)."""
    escape_formulas(df).write_csv(path, quote_style="non_numeric", **options)
    os.chmod(path, 0o600)
    return path
