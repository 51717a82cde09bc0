"""Rows below the header that are not data: blanks, totals, footers, page marks, 栏次 rows,
repeated headers, notes.

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
PAGE = "page mark (第N页)"
COLUMN_NUMBERS = "column numbers (栏次)"

TOTAL_RE = r"^(本页|本月|本表|全部|总|全县|全乡|全镇|全村|累计)?(合计|总计|小计|共计|累计)([:：].*|\d.*|\(.*)?$"
FOOTER_RE = (
    r"^(制表|填表|填报|审核|复核|审批|负责人|单位负责人|主管|分管|打印|制单|经办人|报送|联系电话|"
    r"监督电话)[^:：]{0,8}[:：]|^(制表人|制表时间|制表日期|制表单位|填表人|审核人|打印时间|打印日期|"
    r"填报单位|填报人|填报日期|单位负责人|经办人)"
)
PAGE_RE = r"^(第\d+页|共\d+页|第\d+页[/,，]?共\d+页|第\d+/\d+页|page\d+(of\d+)?|-\d+-)$"
NOTE_RE = r"^(单位|说明|注|备注|金额单位)[:：]|花名册|名单$|明细表?$|一览表|统计表|发放表|汇总表"
# 栏次 rows number the columns: 1 2 3 …, or 甲 乙 丙 …, maybe after a cell reading 栏次
ORDINALS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def _column_numbers(texts: list[pl.Expr]) -> pl.Expr:
    """A 栏次 row: every filled cell a column number (1, 2 … or 甲, 乙 …, maybe after a 栏次
    label), at least three of them, starting at 1 or 甲, none twice."""
    token = f"^(\\d{{1,2}}|[{ORDINALS}])$"
    hits = [t.str.contains(token).fill_null(False).cast(pl.Int32) for t in texts]
    label = [t.is_in(["栏次", "栏号", "序号", "栏目"]).fill_null(False).cast(pl.Int32) for t in texts]
    filled = [t.is_not_null().cast(pl.Int32) for t in texts]
    n_hits = pl.sum_horizontal(hits)
    starts = pl.any_horizontal([t.is_in(["1", "甲"]).fill_null(False) for t in texts])
    distinct = pl.concat_list([pl.when(h == 1).then(t) for h, t in zip(
        [h.cast(pl.Boolean) for h in hits], texts, strict=True)]).list.drop_nulls().list.n_unique()
    return ((n_hits >= 3) & starts & (n_hits + pl.sum_horizontal(label) == pl.sum_horizontal(filled))
            & (distinct == n_hits))


def skip_reason(cells: list[str], headers: list[list[str]]) -> pl.Expr:
    """Why a row is skipped, or null when it is a data row. `cells`: the cell columns, squeezed
    (normalize.text.squeeze) beforehand: the expression refers to each a dozen times, and a
    squeeze written out that often made polars plan for seconds and gigabytes on a wide file
    (100 columns: 7 s and 1.3 GB for one row); `headers`: the header as read and each header
    row as written."""
    texts = [pl.col(c) for c in cells]
    filled = pl.sum_horizontal([t.is_not_null().cast(pl.Int32) for t in texts])
    any_match = (lambda pattern: pl.any_horizontal(
        [t.str.contains(pattern).fill_null(False) for t in texts]))
    lower = [t.str.to_lowercase().str.replace_all("帐", "账") for t in texts]
    repeated = pl.lit(False)
    for header in headers:
        keys = [header_key(h) for h in header]
        same = [(lower[i] == keys[i]).fill_null(False).cast(pl.Int32)
                for i in range(min(len(texts), len(keys))) if keys[i]]
        n_named = sum(1 for k in keys if k)
        if same:
            repeated = repeated | (pl.sum_horizontal(same) >= max(2, (n_named + 1) // 2))
    return (
        pl.when(filled == 0).then(pl.lit(BLANK))
        .when(any_match(TOTAL_RE)).then(pl.lit(TOTAL))
        .when(any_match(FOOTER_RE)).then(pl.lit(FOOTER))
        .when(any_match(PAGE_RE) & ((filled <= 2) | pl.all_horizontal(
            [t.is_null() | t.str.contains(PAGE_RE) for t in texts]))).then(pl.lit(PAGE))
        .when(repeated).then(pl.lit(REPEATED))
        .when(_column_numbers(texts)).then(pl.lit(COLUMN_NUMBERS))
        .when((filled == 1) & any_match(NOTE_RE)).then(pl.lit(NOTE))
        .otherwise(None)
    )


PREFILTER = r"[计制填审复负打经报页栏]"


def with_skip(df: pl.DataFrame, cells: list[str], headers: list[list[str]]) -> pl.DataFrame:
    """Add `__skip` (reason or null). Only rows a cheap test flags get the full check: rows with
    half their cells or more empty, rows holding a character of 合计/制表人/第N页…, rows
    starting 1, 2, …, or the header text."""
    filled = pl.sum_horizontal(
        [(pl.col(c).str.len_bytes() > 0).fill_null(False).cast(pl.Int32) for c in cells])
    joined = pl.concat_str([pl.col(c) for c in cells], separator="\x1f", ignore_nulls=True)
    firsts = {next((h.strip() for h in header if h.strip()), "") for header in headers} - {""}
    pattern = PREFILTER + "".join(f"|{re.escape(f)}" for f in sorted(firsts))
    starts = pl.concat_str([pl.col(c).fill_null("") for c in cells[:2]], separator="\x1f")
    cand = ((filled <= len(cells) // 2) | joined.str.contains(pattern)
            | starts.str.contains(r"^\s*(1\s*\x1f\s*2|栏|序号\s*\x1f\s*1|甲)"))
    flags = df.lazy().select(cand.alias("c")).collect().to_series()
    if not flags.any():
        return df.with_columns(pl.lit(None, dtype=pl.String).alias("__skip"))
    df = df.with_row_index("__i")
    texts = [f"__t{i}" for i in range(len(cells))]
    flagged = (df.filter(flags)
               .select("__i", *[squeeze(pl.col(c)).alias(t) for c, t in zip(cells, texts, strict=True)])
               .select("__i", skip_reason(texts, headers).alias("__skip")))
    out = df.join(flagged, on="__i", how="left", maintain_order="left")
    return out.drop("__i")
