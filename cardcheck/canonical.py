"""Canonical tables on disk: `cardcheck normalise` writes them, `check --canonical` reads them.

The messy inputs of a county (XLSX/CSV in many layouts) are read and normalised once, and the
canonical tables of cardcheck/model.py are written as Parquet:

    CANON/roll/<part>.parquet        one folder per table kind: roll, accounts, payments,
    CANON/accounts/<part>.parquet    transactions, other_roll and each reference list (deaths,
    …                                prisoners …, and kinds a config adds)
    CANON/rejects/<part>.parquet     the rows the readers rejected (file, line, column, value, reason)
    CANON/manifests/<part>.json      cardcheck version, schema, config digest, the input files and
                                     their counts (read = loaded + rejected + skipped)

<part> names the county (the roll's 6-digit region code by default), so a province merges its
counties by copying their folders into one (`cp -r 县A/* 县B/* 省/`) and puts the result where
the engine reads it (a local folder, or hdfs:// / s3a:// for Spark). A table may also be a
single file `CANON/<kind>.parquet`, a folder of Spark part files, or CSV (`<kind>.csv` or
`<kind>/*.csv`, header = canonical column names).

Reading is the engine's own (polars scan_parquet, DuckDB read_parquet, Spark spark.read.parquet);
every file's schema is checked first, and a missing table or column or a wrong type stops the
run with a message naming the table, the file and the column.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from cardcheck import __version__
from cardcheck.config import Config
from cardcheck.engines import Engine, Scanned, scanned_all
from cardcheck.engines.store import LocalStore, join, store_for
from cardcheck.errors import CardcheckError, InputError
from cardcheck.ingest import MAIN, FileCounts, schema_for, spec_for
from cardcheck.model import MONEY_COLUMNS, REJECTS

FORMAT = "cardcheck-canonical"
FORMAT_VERSION = 1
REJECTS_DIR = "rejects"
MANIFESTS_DIR = "manifests"
NEEDED = ("roll", "accounts", "payments")
MONTH_COLUMNS = ("pay_month", "txn_month", "memo_period")
Schema = dict[str, Any]


def table_kinds(config: Config) -> list[str]:
    """Every table a canonical folder may hold: the main four, other_roll, the reference lists."""
    refs = [k for k in config.tables if k not in MAIN]
    return [*MAIN, "other_roll", *refs]


def expected_schema(kind: str, config: Config) -> Schema:
    """The canonical polars schema of `kind` (reference kinds a config adds included)."""
    return dict(schema_for(kind, spec_for(kind, config)))


def schema_digest(schemas: dict[str, Schema]) -> str:
    text = json.dumps({k: {c: str(t) for c, t in s.items()} for k, s in sorted(schemas.items())})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _private(path: Path, folder: bool = False) -> None:
    try:
        os.chmod(path, 0o700 if folder else 0o600)
    except OSError:
        pass  # a file system without Unix modes


# ---------------------------------------------------------------- writing (normalise)


@dataclass
class Written:
    folder: Path
    part: str
    tables: dict[str, int]  # kind -> rows
    rejects: int
    counts: list[FileCounts]
    replaced: bool = False
    removed: list[str] = field(default_factory=list)


def default_part(frames: dict[str, pl.DataFrame], inputs: Path | None) -> str:
    """The roll's county code (first 6 digits of region_code) when it names one, else the
    inputs folder's name."""
    roll = frames.get("roll")
    if roll is not None and "region_code" in roll.columns:
        codes = roll.get_column("region_code").drop_nulls().str.slice(0, 6).unique()
        if codes.len() == 1 and re.fullmatch(r"\d{6}", codes[0] or ""):
            return str(codes[0])
    name = (inputs if inputs is None or inputs.is_dir() else inputs.parent)
    return clean_part(name.resolve().name if name is not None else "part")


def clean_part(name: str) -> str:
    """A part name safe as a file name on every system (letters, digits, Chinese, - _ .)."""
    cleaned = re.sub(r"[^\w.\-]+", "_", name).strip("._") or "part"
    return cleaned[:80]


def write_canonical(frames: dict[str, pl.DataFrame], rejects: pl.DataFrame,
                    counts: list[FileCounts], config: Config, out: Path, part: str,
                    inputs: dict[str, list[dict[str, Any]]]) -> Written:
    """Write one part: each table, its rejects and its manifest; files of this part that a
    kind no longer has (a county re-normalised without transactions) are removed."""
    part = clean_part(part)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CardcheckError(f"--out {out}: cannot write there ({exc.strerror})") from None
    if not out.is_dir():
        raise CardcheckError(f"--out {out}: exists and is not a folder")
    _private(out, folder=True)
    replaced = (out / MANIFESTS_DIR / f"{part}.json").exists()
    tables: dict[str, int] = {}
    schemas: dict[str, Schema] = {}
    for kind, df in frames.items():
        schema = expected_schema(kind, config)
        schemas[kind] = schema
        conformed = df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c)
                               for c, t in schema.items()])
        _write(conformed, out / kind, part)
        tables[kind] = conformed.height
    _write(rejects.cast(REJECTS), out / REJECTS_DIR, part)  # type: ignore[arg-type]
    removed = []
    for kind in [*table_kinds(config), REJECTS_DIR]:
        stale = out / kind / f"{part}.parquet"
        if kind not in tables and kind != REJECTS_DIR and stale.exists():
            stale.unlink()
            removed.append(kind)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "cardcheck": __version__,
        "part": part, "created": datetime.now().isoformat(timespec="seconds"),
        "config_digest": config.digest, "config_sources": list(config.sources),
        "schema_digest": schema_digest(schemas),
        "inputs": inputs,
        "counts": [dataclasses.asdict(c) for c in counts],
        "tables": {k: {"path": f"{k}/{part}.parquet", "rows": n,
                       "schema": {c: str(t) for c, t in schemas[k].items()}}
                   for k, n in tables.items()},
        "rejects": {"path": f"{REJECTS_DIR}/{part}.parquet", "rows": rejects.height},
    }
    folder = out / MANIFESTS_DIR
    folder.mkdir(exist_ok=True)
    _private(folder, folder=True)
    path = folder / f"{part}.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _private(path)
    return Written(out, part, tables, rejects.height, counts, replaced, removed)


def _write(df: pl.DataFrame, folder: Path, part: str) -> None:
    folder.mkdir(exist_ok=True)
    _private(folder, folder=True)
    tmp = folder / f".{part}.parquet.tmp"
    df.write_parquet(tmp, statistics=True)
    _private(tmp)
    tmp.replace(folder / f"{part}.parquet")  # a reader never sees half a file


# ---------------------------------------------------------------- reading (check --canonical)


@dataclass
class Source:
    """The canonical tables of one folder, as the engine reads them."""

    location: str
    tables: dict[str, Scanned]
    rejects: Scanned | None
    counts: list[FileCounts]
    manifests: list[dict[str, Any]]
    files: dict[str, list[str]]  # kind -> files read
    warnings: list[str] = field(default_factory=list)

    def rows(self, *kinds: str) -> int:
        return sum(self.tables[k].height for k in kinds if k in self.tables)


def type_text(name: str, dtype: Any) -> str:
    base = str(dtype).split("(")[0]
    if name in MONEY_COLUMNS:
        return f"{base} (money in integer fen)"
    if name in MONTH_COLUMNS:
        return f"{base} (month as yyyymm)"
    return {"String": "String (text)", "Date": "Date (a date, not text)"}.get(base, base)


def _nw_schema(schema: Schema) -> dict[str, Any]:
    return dict(nw.from_native(pl.LazyFrame(schema=schema)).collect_schema())


def schema_problems(actual: dict[str, Any], expected: dict[str, Any], text: bool) -> list[str]:
    """Every missing column and wrong type (narwhals dtypes; CSV: column names only)."""
    missing = [c for c in expected if c not in actual]
    out = [f"no column {', '.join(missing)} (expected "
           + "; ".join(f"{c}: {type_text(c, expected[c])}" for c in missing) + ")"] if missing else []
    if text:
        return out
    for col, want in expected.items():
        got = actual.get(col)
        if got is None:
            continue
        same = got == want or (want == nw.Datetime and got == nw.Datetime)
        if not same:
            out.append(f"column {col} is {str(got).split('(')[0]}, expected {type_text(col, want)}")
    return out


def _files(store: Any, base: str, kind: str) -> tuple[list[str], str] | None:
    """The data files of one table and their format, or None when the folder has no table."""
    folder = join(base, kind)
    if store.is_dir(folder):
        names = [n for n, is_dir in store.entries(folder)
                 if not is_dir and not n.startswith((".", "_"))]
        for fmt in ("parquet", "csv"):
            found = [join(folder, n) for n in names if n.endswith(f".{fmt}")]
            if found:
                return found, fmt
        raise InputError(f"canonical table {kind} ({folder}): no .parquet or .csv file in it")
    for fmt in ("parquet", "csv"):
        single = join(base, f"{kind}.{fmt}")
        if store.exists(single):
            return _files(store, base, f"{kind}.{fmt}") if store.is_dir(single) else (
                [single], fmt)
    return None


def _validate(engine: Engine, store: Any, kind: str, files: list[str], fmt: str,
              expected: Schema) -> nw.LazyFrame:
    """Check each file's columns and types (local files, read by polars from their footers),
    or the table's (a URL, through the engine), and return the table in canonical columns and
    types, as the engine reads it."""
    want = _nw_schema(expected)
    text = fmt == "csv"
    table = None
    if isinstance(store, LocalStore):
        groups = [(f, _schema(kind, f, fmt, partial(_scan_local, f, text))) for f in files]
    else:
        where = files[0] if len(files) == 1 else join(store.root, kind)
        table = engine.scan(files, fmt)
        groups = [(where, _schema(kind, where, fmt, lambda: table))]
    for where, actual in groups:
        problems = schema_problems(actual, want, text)
        if problems:
            raise InputError(f"canonical table {kind} ({where}): " + "; ".join(problems)
                             + "; write canonical tables with `cardcheck normalise`")
    lf = table if table is not None else engine.scan(files, fmt)
    if text:
        return lf.select([_from_text(c, t) for c, t in want.items()])
    return lf.select(list(want))


def _scan_local(path: str, text: bool) -> nw.LazyFrame:
    """A local canonical file as polars scans it: CSV as text, Parquet as stored."""
    return nw.from_native(pl.scan_csv(path, infer_schema=False) if text else pl.scan_parquet(path))


def _schema(kind: str, where: str, fmt: str, open_lf: Callable[[], Any]) -> dict[str, Any]:
    try:
        return dict(open_lf().collect_schema())
    except Exception as exc:  # noqa: BLE001 - a damaged or unreachable file: say which one
        raise InputError(f"canonical table {kind}: {where} cannot be read as {fmt.upper()} "
                         f"({type(exc).__name__})") from None


def _from_text(name: str, dtype: Any) -> nw.Expr:
    """A CSV column (read as text) in its canonical type; ISO dates and times."""
    col = nw.col(name)
    if dtype == nw.String:
        return col
    if dtype == nw.Date:
        return col.str.slice(0, 10).str.to_date("%Y-%m-%d").alias(name)
    if dtype == nw.Datetime:
        return (col.str.replace_all("T", " ").str.slice(0, 19)
                .str.to_datetime("%Y-%m-%d %H:%M:%S").cast(dtype).alias(name))
    if dtype == nw.Boolean:
        return (col.str.to_lowercase() == "true").alias(name)
    return col.cast(dtype).alias(name)


def open_canonical(location: str, engine: Engine, config: Config,
                   progress: Callable[[str], None] | None = None) -> Source:
    """Find, validate and scan every canonical table at `location` on `engine`."""
    store = store_for(location, engine, "--canonical")
    base = store.root
    if not store.is_dir(base):
        raise InputError(f"--canonical {location}: no such folder")
    kinds = table_kinds(config)
    lazies: dict[str, nw.LazyFrame] = {}
    files: dict[str, list[str]] = {}
    formats: dict[str, str] = {}
    for kind in [*kinds, REJECTS_DIR]:
        found = _files(store, base, kind)
        if found is None:
            continue
        if progress:
            progress(f"checking canonical {kind}")
        files[kind], formats[kind] = found
        expected = dict(REJECTS) if kind == REJECTS_DIR else expected_schema(kind, config)
        lazies[kind] = _validate(engine, store, kind, files[kind], formats[kind], expected)
    missing = [k for k in NEEDED if k not in lazies]
    if missing:
        raise InputError(f"--canonical {location}: no {', '.join(missing)} table (expected "
                         + ", ".join(f"{k}/ with Parquet files" for k in missing)
                         + ", as `cardcheck normalise` writes)")
    known = {*kinds, REJECTS_DIR, MANIFESTS_DIR}
    warnings = [f"--canonical {location}: {name} is not a table cardcheck knows (ignored)"
                for name, _ in store.entries(base)
                if name.split(".")[0] not in known and not name.startswith((".", "_"))]
    tables = _count(lazies, store, files, formats)
    rejects = tables.pop(REJECTS_DIR, None)
    manifests = _manifests(store, base)
    counts = [_counts(m["part"], c) for m in manifests for c in m.get("counts", [])]
    warnings += _consistency(manifests, tables, config)
    return Source(location, tables, rejects, counts, manifests, files, warnings)


def _count(lazies: dict[str, nw.LazyFrame], store: Any, files: dict[str, list[str]],
           formats: dict[str, str]) -> dict[str, Scanned]:
    """Rows and non-null counts of every table: local Parquet files counted by polars (from
    their footers and columns), anything else by the engine, all tables in one query."""
    local = {k for k in lazies if isinstance(store, LocalStore) and formats[k] == "parquet"}
    out = scanned_all({k: lf for k, lf in lazies.items() if k not in local})
    counted = scanned_all({k: nw.from_native(pl.scan_parquet(files[k]).select(
        lazies[k].collect_schema().names())) for k in local})
    out.update({k: Scanned(lazies[k], c.height, c.filled) for k, c in counted.items()})
    return {k: out[k] for k in lazies}


def _manifests(store: Any, base: str) -> list[dict[str, Any]]:
    folder = join(base, MANIFESTS_DIR)
    if not store.is_dir(folder):
        return []
    out = []
    for name, is_dir in store.entries(folder):
        if is_dir or not name.endswith(".json"):
            continue
        path = join(folder, name)
        try:
            data = json.loads(store.read_text(path))
        except ValueError:
            raise InputError(f"{path}: not a cardcheck canonical manifest (not JSON)") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{path}: not a cardcheck canonical manifest (format {FORMAT})")
        data.setdefault("part", name.removesuffix(".json"))
        out.append(data)
    return out


def _counts(part: str, raw: dict[str, Any]) -> FileCounts:
    names = {f.name for f in dataclasses.fields(FileCounts)}
    values = {k: v for k, v in raw.items() if k in names}
    values["file"] = f"{part}/{values.get('file', '?')}"
    return FileCounts(**values)


def _consistency(manifests: list[dict[str, Any]], tables: dict[str, Scanned],
                 config: Config) -> list[str]:
    """Warnings: parts normalised under another configuration; tables whose rows differ from
    what their manifests recorded (a part file missing, or one without a manifest)."""
    out = []
    for m in manifests:
        if m.get("config_digest") and m["config_digest"] != config.digest:
            out.append(f"canonical part {m['part']} was normalised with another configuration "
                       "(memo funds and column readings follow that one); re-run "
                       "`cardcheck normalise` with this --config to use it")
    if manifests:
        for kind, table in tables.items():
            recorded = sum(int(m.get("tables", {}).get(kind, {}).get("rows", 0))
                           for m in manifests)
            if recorded != table.height:
                out.append(f"canonical table {kind} holds {table.height} rows, its manifests "
                           f"record {recorded}: a part without its manifest, or one missing")
    return out


def load_frames(location: str, config: Config) -> dict[str, pl.DataFrame]:
    """Every canonical table of a local folder as polars frames (for `explain` and `graph`)."""
    source = open_canonical(location, Engine(), config)
    return {k: t.lazy.collect(backend="polars").to_native() for k, t in source.tables.items()}
