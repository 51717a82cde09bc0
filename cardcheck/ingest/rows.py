"""Rows below the header that are not data: blanks, totals, footers, repeated headers, notes.

Each is skipped and counted under its reason in FileCounts.skipped_reasons, never silently lost.
"""

from __future__ import annotations

import re

import polars as pl

from cardcheck.ingest.header import header_key
from cardcheck.normalize.text import squeeze

BLANK = "blank"
TOTAL = "total (合计)"
FOOTER = "footer (制表人)"
REPEATED = "repeated header"
NOTE = "note line"

TOTAL_RE = r"^(本页|本月|全部|总)?(合计|总计|小计|共计|累计)([:：].*|\d.*)?$"
FOOTER_RE = (
    r"^(制表|填表|填报|审核|复核|审批|负责人|单位负责人|主管|分管|打印|制单|经办人|报送)"
    r"[^:：]{0,4}[:：]|^(制表人|制表时间|制表日期|制表单位|填表人|审核人|打印时间|打印日期)"
)
NOTE_RE = r"^(单位|说明|注|备注|金额单位)[:：]|花名册|名单$|明细表?$|一览表|统计表|发放表|汇总表"


def skip_reason(cells: list[str], header: list[str]) -> pl.Expr:
    """Why a row is skipped, or null when it is a data row. `cells`: the raw cell columns."""
    texts = [squeeze(pl.col(c)) for c in cells]
    filled = pl.sum_horizontal([t.is_not_null().cast(pl.Int32) for t in texts])
    any_match = (lambda pattern: pl.any_horizontal(
        [t.str.contains(pattern).fill_null(False) for t in texts]))
    keys = [header_key(h) for h in header]
    same = [
        (texts[i].str.to_lowercase().str.replace_all("帐", "账") == keys[i]).fill_null(False)
        .cast(pl.Int32)
        for i in range(min(len(texts), len(keys))) if keys[i]
    ]
    n_named = sum(1 for k in keys if k)
    repeated = (pl.sum_horizontal(same) >= max(2, (n_named + 1) // 2)) if same else pl.lit(False)
    return (
        pl.when(filled == 0).then(pl.lit(BLANK))
        .when(any_match(TOTAL_RE)).then(pl.lit(TOTAL))
        .when(any_match(FOOTER_RE)).then(pl.lit(FOOTER))
        .when(repeated).then(pl.lit(REPEATED))
        .when((filled == 1) & any_match(NOTE_RE)).then(pl.lit(NOTE))
        .otherwise(None)
    )


PREFILTER = r"[计制填审复负打经报]"


def with_skip(df: pl.DataFrame, cells: list[str], header: list[str]) -> pl.DataFrame:
    """Add `__skip` (reason or null). Only rows a cheap test flags get the full check: rows with
    half their cells or more empty, rows holding a character of 合计/制表人…, or the header text."""
    filled = pl.sum_horizontal(
        [(pl.col(c).str.len_bytes() > 0).fill_null(False).cast(pl.Int32) for c in cells])
    joined = pl.concat_str([pl.col(c) for c in cells], separator="\x1f", ignore_nulls=True)
    first = next((h.strip() for h in header if h.strip()), "")
    pattern = PREFILTER + (f"|{re.escape(first)}" if first else "")
    cand = (filled <= len(cells) // 2) | joined.str.contains(pattern)
    flags = df.lazy().select(cand.alias("c")).collect().to_series()
    if not flags.any():
        return df.with_columns(pl.lit(None, dtype=pl.String).alias("__skip"))
    df = df.with_row_index("__i")
    flagged = df.filter(flags).select("__i", skip_reason(cells, header).alias("__skip"))
    out = df.join(flagged, on="__i", how="left", maintain_order="left")
    return out.drop("__i")
