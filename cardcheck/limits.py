"""How large an input may be before a reader refuses it (configs/limits.yaml, section `limits:`).

A file past a limit is damaged or made to hurt (a zip bomb, a sheet whose one cell sits at
XFD1048576, a 73 MB line, a web page of nested spans): read as it is, it would take the memory of
the machine and end in a crash rather than a message. Each limit is checked before the work it
guards, and its error (an InputError, exit 2) names the file, what was found, the limit and how
to raise it. The defaults leave a prefecture's files (millions of rows, hundreds of MB) far
below them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from cardcheck.errors import ConfigError, InputError

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    file_mb: int = 4096  # an input file, as it lies on disk
    line_mb: int = 16  # one line of a text file (CSV, TXT), decoded as UTF-8
    columns: int = 2000  # columns of a table (text, sheet, web page): each costs memory
    sheet_cells: int = 100_000_000  # rows × columns of a sheet, first to last cell with a value
    unzipped_mb: int = 4096  # the parts of an XLSX together, unzipped
    part_mb: int = 2048  # one part of an XLSX (a sheet, the shared strings), unzipped
    zip_ratio: int = 100  # unzipped ÷ zipped size of a part of more than 1 MB unzipped
    zip_parts: int = 10_000  # parts (files inside the zip) of an XLSX
    html_cells: int = 10_000_000  # cells of a web page's tables, a span's cells counted
    html_depth: int = 32  # tables inside tables of a web page


DESCRIPTIONS = {  # what each limit bounds, for errors about the limits themselves
    "file_mb": "MB an input file may have",
    "line_mb": "MB a line of a text file may have",
    "columns": "columns a table may have",
    "sheet_cells": "cells (rows × columns) a sheet may span",
    "unzipped_mb": "MB an XLSX may hold unzipped",
    "part_mb": "MB one part of an XLSX may hold unzipped",
    "zip_ratio": "times a part of an XLSX may grow when unzipped",
    "zip_parts": "parts an XLSX may have",
    "html_cells": "cells the tables of a web page may have",
    "html_depth": "tables a web page may nest in one another",
}


def validate_limits(raw: Any, label: str) -> Limits:
    """The `limits:` section: every key a known limit, every value a whole number 1 or more."""
    if raw is None:
        return Limits()
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: limits: expected a mapping of limits, got {raw!r}")
    known = [f.name for f in fields(Limits)]
    values: dict[str, int] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{label}: limits.{key}: expected one of {', '.join(known)}, "
                              f"got {key!r}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{label}: limits.{key}: expected a whole number 1 or more (the "
                              f"{DESCRIPTIONS[key]}), got {value!r}")
        values[key] = value
    return Limits(**values)


def over_limit(where: str, found: str, key: str, limit: int, unit: str = "") -> InputError:
    """The error for an input past a limit: where (file, sheet), what was found, the limit, and
    how to raise it when the file is sound."""
    shown = f"{limit:,}{unit}"
    return InputError(
        f"{where}：{found}，超过上限 {shown}（limits.{key}）。文件可能已损坏或被故意构造；"
        f"如确认文件无误，可在 --config 文件中写 limits: {{{key}: {limit * 4}}} 调高上限"
        "（默认值见 configs/limits.yaml）")
