"""Checks across the input files of one run, before and after they are read.

- `same_files`: one file given twice (under two kinds, or twice for one kind) stops the run: the
  payments would be counted twice, or a roll would be checked against itself.
- `empty_tables`: the roll, the accounts and the payments need at least one data row each.
- `period_warnings`: a roll and payments of different years run on, with a warning line, since
  every payment would then look unexplained.
- `memory_warning`: inputs too large for this machine's free memory are announced before they are
  read, with the way that fits (normalise, then check --canonical), instead of the run being
  killed by the system minutes later.
- `read_workers`: how many files to read at once — two when there are two cores and the memory
  to spare, else one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import Counter
from pathlib import Path

import polars as pl

from cardcheck.errors import InputError
from cardcheck.ingest.counts import FileCounts
from cardcheck.limits import MB, Limits

NEEDED = {"roll": "救助对象名册", "accounts": "账户信息", "payments": "代发明细"}


_DIGESTS: dict[tuple[str, int, int], str] = {}  # (resolved path, size, mtime) -> SHA-256


def _key(path: Path, stat: os.stat_result) -> tuple[str, int, int]:
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def sha256(path: Path) -> str:
    """SHA-256 of a file, worked out once per run: the readers note it from the bytes they
    read (`note_sha256`), the manifest asks for it again."""
    path = Path(path)
    key = _key(path, path.stat())
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


_READ: dict[str, tuple[int, str]] = {}  # resolved path -> (size, SHA-256) of the bytes read


def note_sha256(path: Path, stat: os.stat_result, data: bytes) -> None:
    """Remember the SHA-256 of a file's bytes just read (`stat` taken on the open file), so
    nothing reads or hashes the file again; a reader thread hashes without holding the GIL."""
    digest = hashlib.sha256(data).hexdigest()
    _DIGESTS[_key(path, stat)] = digest
    _READ[str(Path(path).resolve())] = (len(data), digest)


def digest_read(path: Path) -> tuple[int, str] | None:
    """(size, SHA-256) of the bytes a reader last read from `path`, or None if none did: the
    manifest records what was checked, even if the file grew after it was read."""
    return _READ.get(str(Path(path).resolve()))


def same_files(paths: dict[str, list[Path]], limits: Limits | None = None) -> None:
    """InputError naming both places when two inputs have the same content (SHA-256). Only
    files of equal size can be equal, so only those are hashed here; not a FIFO or a device
    (never hashed: the reader refuses them), nor a file past `limits.file_mb` (a sparse file of
    terabytes would be read for nothing: the reader refuses it)."""
    most = (limits or Limits()).file_mb * MB
    files = [(kind, Path(p), Path(p).stat().st_size)  # a missing file: the reader says so
             for kind, ps in paths.items() for p in ps if Path(p).is_file()]
    files = [(kind, path, size) for kind, path, size in files if size <= most]
    sizes = Counter(size for _, _, size in files)
    seen: dict[str, tuple[str, Path]] = {}
    for kind, path, size in files:
        if sizes[size] < 2:
            continue
        digest = sha256(path)
        if digest in seen:
            first_kind, first = seen[digest]
            a, b = (first.name, path.name) if first.name != path.name else (first, path)
            raise InputError(
                f"同一个文件给了两次：{a}（{first_kind}）和 {b}（{kind}）内容完全相同"
                f"（SHA-256 {digest[:12]}…），请检查每一项给的是不是对的文件")
        seen[digest] = (kind, path)


def empty_tables(counts: list[FileCounts]) -> None:
    """InputError when the roll, the accounts or the payments have no data row at all."""
    for kind, label in NEEDED.items():
        files = [c for c in counts if c.kind == kind]
        if files and sum(c.read - c.skipped for c in files) == 0:
            names = "、".join(c.file for c in files)
            skipped = sum(c.skipped for c in files)
            detail = f"（表头下的 {skipped} 行都是空行、合计或表尾）" if skipped else ""
            raise InputError(f"{names}：只有表头，没有数据行{detail}；{label}（{kind}）"
                             "至少要有一行数据才能核查")


def _month_text(month: int) -> str:
    return f"{month // 100}年{month % 100:02d}月"


def period_warnings(frames: dict[str, pl.DataFrame]) -> list[str]:
    """A warning when no roll entry is approved in any month the payments cover."""
    roll, pay = frames.get("roll"), frames.get("payments")
    if roll is None or pay is None or not roll.height or "pay_month" not in pay.columns:
        return []
    months = pay.get_column("pay_month").drop_nulls().unique().sort()
    if months.is_empty():
        return []
    if "start_date" not in roll.columns or "end_date" not in roll.columns:
        return []
    spans = roll.select("start_date", "end_date").unique()
    grid = spans.join(pl.DataFrame({"m": months}), how="cross").with_columns(
        pl.date(pl.col("m") // 100, pl.col("m") % 100, 1).alias("first"))
    active = grid.filter(
        (pl.col("start_date").is_null() | (pl.col("start_date") <= pl.col("first").dt.month_end()))
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("first"))))
    if active.height:
        return []
    span = roll.select(pl.col("start_date").min(), pl.max_horizontal("start_date", "end_date")
                       .max().alias("last")).row(0)
    first_m, last_m = int(months[0]), int(months[-1])
    paid = _month_text(first_m) + ("" if first_m == last_m else f"–{_month_text(last_m)}")
    roll_span = ""
    if span[0] is not None and span[1] is not None:
        a, b = (d.year * 100 + d.month for d in span if isinstance(d, dt.date))
        roll_span = f"，名册的保障期在 {_month_text(a)}–{_month_text(b)}"
    return [(f"名册中没有一个对象在代发明细的月份（{paid}）内处于保障期{roll_span}；"
             "名册和代发明细可能不是同一年度的，请核对（核查照常进行）")]


# Peak resident memory of a direct `check` per byte of CSV input, measured on the demo data
# (README "Speed": 300k households, 1.2 GB of CSV, peak 5.5 GB; 1M, 3.7 GB, peak 17.9 GB).
# XLSX is zipped text, about five times smaller than the same table as CSV.
PEAK_PER_INPUT_BYTE = 5.0
XLSX_EXPANSION = 5.0


def available_memory() -> int | None:
    """Bytes of memory the system can give this process now (Linux MemAvailable), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def text_bytes(path: Path) -> float:
    """A file's size in bytes as text (XLSX counted at XLSX_EXPANSION); 0 for a missing file,
    which the reader names."""
    try:
        n = Path(path).stat().st_size
    except OSError:
        return 0.0
    return n * (XLSX_EXPANSION if Path(path).suffix.lower() in (".xlsx", ".xls") else 1)


def text_size(paths: dict[str, list[Path]]) -> float:
    """The inputs' size in bytes as text (text_bytes of every file)."""
    return sum(text_bytes(path) for files in paths.values() for path in files)


def memory_warning(paths: dict[str, list[Path]], available: int | None = None) -> str | None:
    """A warning when a direct check of these files is likely to need more memory than is free
    (`available` bytes; this machine's when not given), else None."""
    available = available_memory() if available is None else available
    if not available:
        return None
    size = text_size(paths)
    need = size * PEAK_PER_INPUT_BYTE
    if need <= available:
        return None
    gb = 1024 ** 3
    return (f"the input files ({size / gb:.1f} GB as text) will need about {need / gb:.0f} GB of "
            f"memory for a direct check, and this machine has {available / gb:.0f} GB free: the "
            "run may be stopped by the system. Read them once with `cardcheck normalise --inputs "
            "… --out CANON`, then `cardcheck check --canonical CANON`, which scans the tables "
            "instead of holding every input in memory")


# Peak resident memory while reading, per byte of CSV, reading two files at once (measured at
# 300k households, 1.2 GB of CSV: 3.7 GB reading one file at a time, 5.0 GB two at a time).
READ_PEAK_TWO_AT_ONCE = 4.5


# polars' default engine (streaming) starts a pipeline for every query, a few milliseconds each,
# and a check runs several hundred queries; on inputs up to this size (as text) its in-memory
# engine is faster and lighter, on larger ones the streaming engine's parallel group-bys win
# (README "Speed": 30k households, 113 MB: full check 5.0 -> 4.5 s; 300k, 1.2 GB: rules 18.5 s
# streaming, 25-28 s in memory).
IN_MEMORY_UP_TO = 400 * 1024 ** 2


def polars_engine(paths: dict[str, list[Path]]) -> str:
    """The polars engine for a run on these files: "in-memory" up to IN_MEMORY_UP_TO bytes of
    text, else "auto" (polars' default, streaming)."""
    return "in-memory" if text_size(paths) <= IN_MEMORY_UP_TO else "auto"


def read_workers(paths: dict[str, list[Path]], available: int | None = None,
                 cores: int | None = None) -> int:
    """2 when this machine has two cores or more and the memory to read two files at once with
    a fifth of the free memory to spare; else 1 (files too large for that are read one by
    one)."""
    cores = (os.cpu_count() or 1) if cores is None else cores
    available = available_memory() if available is None else available
    if cores < 2 or not available:
        return 1
    return 2 if text_size(paths) * READ_PEAK_TWO_AT_ONCE <= 0.8 * available else 1
