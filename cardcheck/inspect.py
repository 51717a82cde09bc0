"""`cardcheck inspect FILE…`: how each file is read, before a check is run on it.

For each file: its format and encoding, the sheets read and ignored, the header row(s), every
header cell and the canonical column it fills (or why it is ignored), the rows by fate (loaded,
rejected, skipped by reason) and the first rejects. ID and card numbers in the rejects shown are
masked unless asked otherwise. The kind of a file (roll, accounts, …) is the one given, else the
kind whose header it fits best.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cardcheck.config import Config
from cardcheck.errors import InputError
from cardcheck.ingest import MAIN, Loaded, load_file, spec_for
from cardcheck.ingest.header import find_header, scorer
from cardcheck.ingest.read import open_grid
from cardcheck.masking import mask_text_value

SHOWN_REJECTS = 5


@dataclass
class Inspection:
    path: Path
    kind: str
    loaded: Loaded


def guess_kind(path: Path, config: Config) -> str:
    """The kind whose header the file fits best: most columns named, the main tables first on
    a tie; InputError when no kind's header is found."""
    kinds = [*MAIN, *[k for k in config.tables if k not in MAIN]]
    specs = {kind: spec_for(kind, config) for kind in kinds}
    scorers = [scorer(spec) for spec in specs.values()]
    # read once: the delimiter and sheet order go by the best score of any kind
    grid = open_grid(path, lambda row: max(score(row) for score in scorers), config.limits)
    scores: dict[str, int] = {}
    for kind, spec in specs.items():
        best = 0
        for table in grid.tables:
            try:
                best = max(best, len(find_header(table.head, spec, kind, path.name).columns))
            except InputError:
                continue
        scores[kind] = best
    kind = max(kinds, key=lambda k: scores[k])
    if scores[kind] == 0:
        raise InputError(f"{path.name}：看不出是哪一种表（名册、账户、代发明细、交易流水或名单）；"
                         "请用 --kind 指定")
    return kind


def inspect_file(path: Path, config: Config, kind: str | None = None) -> Inspection:
    kind = kind or guess_kind(path, config)
    return Inspection(path, kind, load_file(path, kind, config))


def _mask(text: str | None, unmask: bool) -> str:
    if text is None:
        return ""
    if unmask:
        return text
    return mask_text_value(text)  # as rejects.csv shows it


def render(item: Inspection, unmask: bool = False) -> list[str]:
    """The inspection of one file as lines of text."""
    c = item.loaded.counts
    lines = [f"{c.file}  [{item.kind}]  {c.format}" + (f", {c.encoding}" if c.encoding else "")]
    if c.sheets:
        lines.append(f"  sheets read: {'、'.join(c.sheets)}")
    for ignored, why in c.ignored_sheets:
        lines.append(f"  sheet ignored: {ignored or '（无名）'} — {why}")
    for sheet, mapping in item.loaded.mappings:
        where = f"sheet {sheet}: " if sheet is not None and len(item.loaded.mappings) > 1 else ""
        rows = len(mapping.header_rows) or 1
        first = c.title_lines + 1
        lines.append(f"  {where}header {'rows' if rows > 1 else 'row'} "
                     + (f"{first}–{first + rows - 1}" if rows > 1 else f"{c.header_line}"))
        for col, i in sorted(mapping.columns.items(), key=lambda kv: kv[1]):
            role = f" (as {mapping.roles[col]})" if col in mapping.roles else ""
            unit = " [分]" if mapping.units.get(col) == "fen" else ""
            lines.append(f"    {i + 1:>3}. {mapping.headers[col]} → {col}{role}{unit}")
        for header, why in mapping.ignored:
            lines.append(f"         {header} → ignored: {why}")
    reasons = "".join(f", {n} {r}" for r, n in c.skipped_reasons.items())
    lines.append(f"  rows: {c.read} read = {c.loaded} loaded + {c.rejected} rejected + "
                 f"{c.skipped} skipped{reasons}")
    rej = item.loaded.rejects
    if rej.height:
        lines.append(f"  first rejects ({min(rej.height, SHOWN_REJECTS)} of {rej.height}):")
        shown = rej.head(SHOWN_REJECTS).with_columns(
            pl.when(pl.col("sheet").is_not_null())
            .then(pl.concat_str([pl.col("sheet"), pl.lit("!"), pl.col("line").cast(pl.String)]))
            .otherwise(pl.col("line").cast(pl.String)).alias("where"))
        for row in shown.iter_rows(named=True):
            lines.append(f"    {row['where']}: {row['column']} “{_mask(row['value'], unmask)}” — "
                         f"{row['reason']}")
    return lines
