"""Files every output writes the same way: CSV with formula-looking text escaped (no cell from an
input becomes a live formula) and control characters shown as escapes, created owner-only (0600 from the first byte, not chmod'ed after);
a folder cardcheck creates is owner-only (0700), a folder that exists keeps its mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

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
    """Make `path` (0700) when it does not exist; an existing folder is left as it is."""
    try:
        if not path.is_dir():
            path.mkdir(parents=True, mode=0o700)
    except PermissionError as exc:
        raise CardcheckError(f"--out {path}: cannot write there ({exc.strerror})") from None
    except FileExistsError:
        raise CardcheckError(f"--out {path}: exists and is not a folder") from None


def private_open(path: Path, mode: str = "wb") -> IO[Any]:
    """`path` opened for writing, created 0600 (an existing file is truncated and made 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:  # a file system without Unix modes
        pass
    return os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")


def write_csv(df: pl.DataFrame, path: Path, **options: Any) -> Path:
    """`df` as CSV, formula-escaped, owner-only (options go to polars' write_csv)."""
    with private_open(path) as fh:
        escape_formulas(df).write_csv(fh, quote_style="non_numeric", **options)
    return path


def write_text(path: Path, text: str) -> Path:
    """A text file (UTF-8), owner-only from its creation."""
    with private_open(path, "w") as fh:
        fh.write(text)
    return path
