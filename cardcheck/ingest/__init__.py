"""Load every input of an inspection into the canonical tables of cardcheck/model.py.

`load_file` reads one file of one kind (roll, accounts, payments, transactions, other_roll, or a
reference list such as deaths, including kinds a user's config adds); `load_inputs` reads them
all. Nothing is lost without a count: every row below the header is loaded, rejected (with file,
line, column, value and reason) or skipped (blank, total, footer …, counted by reason), and
`read == loaded + rejected + skipped` for every file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cardcheck.config import Config, TableSpec
from cardcheck.errors import InputError
from cardcheck.ingest.checks import text_bytes
from cardcheck.ingest.counts import FileCounts, issuer_of
from cardcheck.ingest.header import Mapping, find_header, scorer
from cardcheck.ingest.layout import layout_grid, layout_verdicts
from cardcheck.ingest.read import EXTRA, Grid, Table, open_grid
from cardcheck.ingest.reversals import Reversals
from cardcheck.ingest.reversals import net as net_reversals
from cardcheck.ingest.rows import with_skip
from cardcheck.ingest.values import CARD_COLUMNS, ID_COLUMNS, date_column, normalise
from cardcheck.model import REJECTS, SCHEMAS, SOURCE
from cardcheck.normalize.derive import derive

MAIN = ("roll", "accounts", "payments", "transactions")
SLICE_ROWS = 2_000_000


@dataclass
class Loaded:
    frame: pl.DataFrame
    rejects: pl.DataFrame
    counts: FileCounts
    # each table read with its header mapping (`cardcheck inspect` shows them)
    mappings: list[tuple[str | None, Mapping]] = field(default_factory=list)


@dataclass
class Inputs:
    frames: dict[str, pl.DataFrame]
    rejects: pl.DataFrame
    counts: list[FileCounts]
    reversals: list[Reversals] = field(default_factory=list)  # netted out of the frames

    def unusable(self) -> dict[str, str]:
        """Tables whose files were read but loaded no row, with why (for the rules' "not run")."""
        out: dict[str, str] = {}
        for kind, frame in self.frames.items():
            files = [c for c in self.counts if c.kind == kind]
            if frame.height == 0 and files:
                read = sum(c.read for c in files)
                rejected = sum(c.rejected for c in files)
                names = "、".join(c.file for c in files)
                out[kind] = (f"{kind} ({names}) has no usable rows: {read} read, {rejected} "
                             "rejected (see rejects.csv)")
        return out


def spec_for(kind: str, config: Config) -> TableSpec:
    table = "roll" if kind == "other_roll" else kind
    if table not in config.tables:
        known = ", ".join(["other_roll", *config.tables])
        raise InputError(f"unknown input kind {kind!r}; known: {known}")
    return config.tables[table]


def schema_for(kind: str, spec: TableSpec) -> dict[str, pl.DataType | type[pl.DataType]]:
    """The canonical schema; a kind only the config declares gets text columns, dates for *_date,
    and id_status beside id_number."""
    if kind in SCHEMAS:
        return SCHEMAS[kind]
    out: dict[str, pl.DataType | type[pl.DataType]] = dict(SOURCE)
    for col in spec.columns:
        out[col] = pl.Date if date_column(col) else pl.String
        if col == "id_number":
            out["id_status"] = pl.String
    return out


def load_file(path: Path, kind: str, config: Config) -> Loaded:
    """Read one file of `kind` into its canonical frame, its rejects and its counts. Every
    table of the file whose header fits (each sheet of a workbook) is read and stacked."""
    path = Path(path)
    spec = spec_for(kind, config)
    grid = layout_grid(path, kind, config) or open_grid(path, scorer(spec), config.limits)
    chosen, ignored = _tables(grid, spec, kind, path)
    frames, rejects, skipped, read, lines = [], [], [], 0, []
    for table, mapping in chosen:
        ok, rej, skip, n = _load_table(table, grid, mapping, kind, config, spec, path)
        frames.append(ok)
        rejects.append(rej)
        skipped += skip
        read += n
        lines.append(table.line_offset + mapping.header_index + 1)
    ok = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    rej = pl.concat(rejects, how="vertical") if len(rejects) > 1 else rejects[0]
    dropped = int(rej.get_column("dropped").sum())
    first = chosen[0][1]
    ok = _finish(ok, kind, spec, path, first, config)
    counts = FileCounts(
        file=path.name, kind=kind, format=grid.format, encoding=grid.encoding,
        header_line=lines[0], read=read, loaded=ok.height, rejected=rej.height - dropped,
        skipped=len(skipped), skipped_reasons=dict(Counter(skipped)),
        title_lines=lines[0] - 1 - (len(first.header_rows) - 1 if first.header_rows else 0),
        sheets=[t.sheet for t, _ in chosen if t.sheet is not None],
        ignored_sheets=ignored,
        ignored_headers=list(dict.fromkeys(h for _, m in chosen for h in m.ignored)),
        dropped=dropped,
        issuer=issuer_of(chosen[0][0].head[:first.header_index]),
    )
    return Loaded(ok, rej.select(list(REJECTS)).cast(REJECTS), counts,  # type: ignore[arg-type]
                  [(t.sheet, m) for t, m in chosen])


def _tables(grid: Grid, spec: TableSpec, kind: str, path: Path
            ) -> tuple[list[tuple[Table, Mapping]], list[tuple[str, str]]]:
    """The tables of the file to read, each with its header mapping, and the sheets not read
    with why. A sheet whose header lacks the table's columns (说明, 汇总) is not read; when no
    table fits, the best one's error is raised."""
    chosen: list[tuple[Table, Mapping]] = []
    ignored = list(grid.ignored)
    first_error: InputError | None = None
    for table in grid.tables:
        name = path.name if table.sheet is None or len(grid.tables) == 1 \
            else f"{path.name} 工作表“{table.sheet}”"
        try:
            chosen.append((table, find_header(table.head, spec, kind, name, grid.encoding)))
        except InputError as error:
            first_error = first_error or error
            ignored.append((table.sheet or "", f"不是{kind}表（{_why(error)}）"))
    if not chosen:
        assert first_error is not None
        raise first_error
    return chosen, ignored


def _why(error: InputError) -> str:
    """Why a sheet is not the table, in a few words."""
    text = str(error)
    text = text.split("：", 1)[1] if "：" in text else text
    if "找不到" in text and "表头" in text:
        return "没有可识别的表头"
    return text.split("（已尝试", 1)[0]


def _load_table(table: Table, grid: Grid, mapping: Mapping, kind: str, config: Config,
                spec: TableSpec, path: Path
                ) -> tuple[pl.DataFrame, pl.DataFrame, list[str], int]:
    """(loaded rows, rejects, skip reasons, rows read) of one table."""
    body = table.body(mapping.header_index)
    _check_twins(body, mapping, path, table)
    units = {**spec.units, **mapping.units}
    # a large file is normalised slice by slice: the working columns of a slice (flags, parsed
    # values, problems) are freed before the next, so memory grows with the file, not a multiple
    # of it. Spreadsheets (with Excel number-cell flags) are never that large.
    size = SLICE_ROWS if table.numeric is None else max(body.height, 1)
    parts = [_load_rows(part, table, mapping, kind, config, units, spec)
             for part in body.iter_slices(size)] or [
        _load_rows(body, table, mapping, kind, config, units, spec)]
    ok = pl.concat([p[0] for p in parts], how="vertical_relaxed") if len(parts) > 1 else parts[0][0]
    rej = pl.concat([p[1] for p in parts], how="vertical") if len(parts) > 1 else parts[0][1]
    skipped = [reason for p in parts for reason in p[2]]
    sheet = pl.lit(table.sheet if len(grid.tables) > 1 or grid.format in ("xlsx", "xls")
                   else None, dtype=pl.String)
    rej = rej.select(pl.lit(path.name).alias("file"), sheet.alias("sheet"), "line", "column",
                     "value", "reason", pl.col("dropped").fill_null(False))
    return ok, rej, skipped, body.height


def _check_twins(body: pl.DataFrame, mapping: Mapping, path: Path, table: Table) -> None:
    """Two columns with the same header: the first is used; InputError when they disagree."""
    for col, i, j in mapping.twins:
        a, b = pl.col(f"c{i}").str.strip_chars(), pl.col(f"c{j}").str.strip_chars()
        differ = body.filter(a.fill_null("") != b.fill_null("")).head(1)
        if differ.height:
            row = differ.row(0, named=True)
            where = f"{path.name}" + (f" 工作表“{table.sheet}”" if table.sheet else "")
            header = mapping.headers[col]
            raise InputError(
                f"{where}：第 {i + 1} 列和第 {j + 1} 列表头都是“{header}”，但内容不同（第 "
                f"{row['__line']} 行：“{row[f'c{i}']}”与“{row[f'c{j}']}”），无法确定用哪一列；"
                "请删去或改名其中一列")


def _load_rows(body: pl.DataFrame, table: Table, mapping: Mapping, kind: str, config: Config,
               units: dict[str, str], spec: TableSpec
               ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(loaded rows, rejects, skip reasons) of some rows below the header."""
    body, given = layout_verdicts(body)  # lines a bank layout skips or rejects itself
    cells = [c for c in body.columns if c not in ("__line", EXTRA)]
    body = with_skip(body, cells, [mapping.header_cells, *mapping.header_rows])
    skip = body.get_column("__skip")
    skipped = skip.drop_nulls().to_list()
    data = body.lazy().filter(pl.col("__skip").is_null()) if skipped else body.lazy()
    frame = data.select(
        [pl.col(f"c{i}").alias(col) for col, i in mapping.columns.items() if f"c{i}" in body.columns]
        + [pl.col("__line")] + ([pl.col(EXTRA)] if EXTRA in body.columns else [])
    ).collect()
    if table.numeric is not None:
        wanted = {col: i for col, i in mapping.columns.items()
                  if col in ID_COLUMNS or col in CARD_COLUMNS}
        if wanted:
            flags = table.numeric(mapping.header_index, list(wanted.values()))
            keep = skip.is_null()
            frame = frame.with_columns(
                [flags[i].filter(keep).alias(f"__num_{col}") for col, i in wanted.items()]
            )
    ok, rej = normalise(frame, kind, config, mapping.headers, units, spec.required)
    return ok, given.rejected_with(rej), given.skipped + skipped


def _finish(ok: pl.DataFrame, kind: str, spec: TableSpec, path: Path, mapping: Mapping,
            config: Config) -> pl.DataFrame:
    ok = ok.rename({"__line": "source_line"}).with_columns(pl.lit(path.name).alias("source_file"))
    household_form = mapping.aliases_used.get("name", "").startswith("户主")
    if kind in ("roll", "other_roll") and "relation" not in ok.columns and household_form:
        ok = ok.with_columns(pl.lit("户主").alias("relation"))  # one row per household
    if kind == "other_roll":
        region = pl.col("region_code").str.slice(0, 6) if "region_code" in ok.columns else None
        stem = pl.lit(path.stem.removesuffix(".tokenised"))  # `cardcheck tokenize` output
        ok = ok.with_columns((pl.coalesce(region, stem) if region is not None else stem)
                             .alias("source_region"))
    if kind in SCHEMAS:
        return derive(kind, ok, config)
    schema = schema_for(kind, spec)
    return ok.select([(pl.col(c) if c in ok.columns else pl.lit(None)).cast(t).alias(c)
                      for c, t in schema.items()])


def load_inputs(paths: dict[str, list[Path]], config: Config,
                progress: Callable[[str], None] | None = None, workers: int = 1) -> Inputs:
    """Load every file; several files of one kind are concatenated; empty lists are skipped.

    With `workers` > 1 that many files are read at once (largest first): polars uses about one
    core and a third on one file, so two files at once take ~30 % less time on two cores, at
    more memory while reading (`checks.read_workers` decides). Frames, rejects and counts come
    out in the order of `paths` either way, and the first failing file in that order is the
    error raised."""
    jobs = [(kind, Path(f)) for kind, files in paths.items()
            for f in (files or []) if f is not None]

    def load(job: tuple[str, Path]) -> Loaded:
        kind, path = job
        if progress:
            progress(f"reading {kind}: {path.name}")
        return load_file(path, kind, config)

    if workers > 1 and len(jobs) > 1:
        order = sorted(range(len(jobs)), key=lambda i: -text_bytes(jobs[i][1]))
        with ThreadPoolExecutor(workers, thread_name_prefix="cardcheck-read") as pool:
            futures = {i: pool.submit(load, jobs[i]) for i in order}
            try:
                loaded = [futures[i].result() for i in range(len(jobs))]
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    else:
        loaded = [load(job) for job in jobs]
    frames: dict[str, pl.DataFrame] = {}
    for kind in dict.fromkeys(kind for kind, _ in jobs):
        parts = [one.frame for (k, _), one in zip(jobs, loaded, strict=True) if k == kind]
        frames[kind] = pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
    reversals = []
    for kind in ("payments", "transactions"):
        if kind in frames:
            frames[kind], netted = net_reversals(frames[kind], kind, config.reversal_days)
            reversals.append(netted)
    rejects = [one.rejects for one in loaded]
    all_rejects = pl.concat(rejects, how="vertical") if rejects else pl.DataFrame(schema=REJECTS)
    return Inputs(frames, all_rejects, [one.counts for one in loaded], reversals)
