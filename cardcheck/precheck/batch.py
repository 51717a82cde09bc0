"""Read a month's 代发 batch (报盘) as that month's payments, keeping each line's number.

The batch is read by the payments reader (headers, encodings, bank text layouts: the same
code as `cardcheck check`), except that it needs no pay date: a batch is what is about to be
paid. Every line is a payment of the month screened (`pay_date` its first day, `pay_month`
that month); `source_line` is the line (or workbook row) as the user sees it, `source_file`
the tag BATCH_FILE that tells batch lines from the payments already made once both are stacked.

A line the reader rejects (a card number that is no card number, an amount that is no amount)
cannot be screened: it is held, with the reader's reason (`unreadable`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from cardcheck.config import Config
from cardcheck.errors import InputError
from cardcheck.ingest import load_file
from cardcheck.ingest.checks import digest_read
from cardcheck.ingest.counts import FileCounts
from cardcheck.normalize.derive import derive

BATCH_FILE = "〈报盘〉"  # source_file of the batch's lines among the stacked payments
MONTH = re.compile(r"^\s*(\d{4})\s*[-./年]?\s*(\d{1,2})\s*月?\s*$")


def parse_month(text: str) -> int:
    """'2024-05', '202405', '2024年5月' as 202405; InputError otherwise."""
    m = MONTH.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise InputError(f"--month {text!r}: expected the month the batch pays, e.g. 2024-05")
    return int(m.group(1)) * 100 + int(m.group(2))


def month_text(month: int) -> str:
    return f"{month // 100}-{month % 100:02d}"


@dataclass
class Batch:
    path: Path
    month: int  # yyyymm screened
    frame: pl.DataFrame  # canonical payments, one row per readable line
    rejects: pl.DataFrame  # the reader's rejects (REJECTS columns)
    counts: FileCounts
    digest: str  # SHA-256 of the bytes read

    @property
    def format(self) -> str:
        return self.counts.format

    @property
    def sheet(self) -> str | None:
        return self.counts.sheets[0] if self.counts.sheets else None

    def unreadable(self) -> pl.DataFrame:
        """(line, reason): lines the reader rejected whole, their reasons joined. A line whose
        damaged field was only emptied (an ID cut by Excel) was loaded and is not here."""
        loaded = self.frame.select(pl.col("source_line").alias("line"))
        return (
            self.rejects.select("line", pl.concat_str([pl.col("column").fill_null(""),
                                                       pl.lit("："), pl.col("reason")]))
            .rename({"column": "reason"})
            .join(loaded, on="line", how="anti")
            .group_by("line").agg(pl.col("reason").unique(maintain_order=True).str.join("；"))
            .sort("line")
        )

    def record_lines(self) -> pl.Series:
        """Every line that is a payment (read or rejected): the lines 可发 and 暂缓 share out."""
        return pl.concat([self.frame.get_column("source_line"),
                          self.unreadable().get_column("line")]).unique().sort().rename("line")


def batch_config(config: Config) -> Config:
    """The config with payments needing no pay date (a batch has none yet)."""
    spec = config.tables["payments"]
    required = tuple(c for c in spec.required if c != "pay_date")
    tables = {**config.tables, "payments": dataclasses.replace(spec, required=required)}
    return dataclasses.replace(config, tables=tables)


def read_batch(path: Path, month: int, config: Config) -> Batch:
    """The batch as payments of `month`; InputError for a file precheck cannot split back."""
    path = Path(path)
    loaded = load_file(path, "payments", batch_config(config))
    counts = loaded.counts
    if counts.format == "html":
        raise InputError(f"--batch {path.name}：是网页格式的表格（另存为 .xls 的 HTML），无法按原样"
                         "拆分；请在 Excel 中另存为 .xlsx 后重试")
    if len(counts.sheets) > 1:
        raise InputError(f"--batch {path.name}：有 {len(counts.sheets)} 个工作表都是代发明细（"
                         f"{'、'.join(counts.sheets)}）；预审按一个工作表拆分，请每个工作表存为一个"
                         "文件分别预审")
    first = date(month // 100, month % 100, 1)
    # derived again with the date: a memo's 4月份 takes its year from the pay date
    frame = derive("payments", loaded.frame.with_columns(
        pl.lit(first).alias("pay_date"), pl.lit(BATCH_FILE).alias("source_file")), config)
    return Batch(path, month, frame, loaded.rejects, counts, file_digest(path))


def file_digest(path: Path) -> str:
    """The SHA-256 of the bytes the reader read (ingest/checks.py notes it), else of the file."""
    read = digest_read(path)
    return read[1] if read else hashlib.sha256(Path(path).read_bytes()).hexdigest()
