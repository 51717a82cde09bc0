"""The hold list (暂缓清单) the approver decides on, and reading their decisions back.

One row per held line: the line, who and which card (masked by default, like every output),
the amount and memo, why it is held (the rules), the evidence the approver reads, the card's
earlier decisions, and two columns to fill — 放行 (a dropdown: release it or keep it held)
and 审批意见. A sheet 汇总 has lines and money in, released and held by reason. Each row
carries the run's key (预审编号), so `cardcheck precheck --release` knows the batch it
belongs to; the line number is what ties a row to its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from cardcheck.errors import InputError
from cardcheck.masking import masked
from cardcheck.precheck.settings import PrecheckSettings
from cardcheck.report.excel import Writer
from cardcheck.report.spec import SheetSpec

HOLD_SHEET = SheetSpec("暂缓清单", "代发报盘暂缓清单", (
    ("run_key", "预审编号"), ("line", "行号"), ("account_name", "户名"), ("card_no", "卡号"),
    ("id_number", "证件号码"), ("amount", "金额(元)"), ("memo", "摘要"),
    ("reason", "暂缓原因"), ("evidence", "证据"), ("earlier", "以往审批"),
    ("release", "放行"), ("note", "审批意见"),
))
SUMMARY_SHEET = SheetSpec("汇总", "代发报盘预审汇总", (
    ("item", "项目"), ("lines", "笔数"), ("paid", "金额(元)"),
))


def hold_rows(lines: pl.DataFrame, holds: pl.DataFrame, names: dict[str, str],
              earlier: pl.DataFrame, run_key: str, unmask: bool) -> pl.DataFrame:
    """One row per held line (HOLD_SHEET's columns), in line order."""
    label = pl.concat_str([pl.col("rule"), pl.lit(" "),
                           pl.col("rule").replace_strict(names, default=pl.col("rule"))])
    per = holds.sort("line", "rule").group_by("line", maintain_order=True).agg(
        label.unique(maintain_order=True).str.join("；").alias("reason"),
        pl.concat_str([pl.col("rule"), pl.lit("："), pl.col("evidence")])
        .str.join("\n").alias("evidence"))
    rows = per.join(lines, on="line", how="left").join(earlier, on="card_no", how="left")
    return masked(rows.select(
        pl.lit(run_key).alias("run_key"), "line", "account_name", "card_no", "id_number",
        "amount", "memo", "reason", "evidence", pl.col("earlier").fill_null(""),
        pl.lit("").alias("release"), pl.lit("").alias("note"),
    ).sort("line"), unmask)


def write_holdlist(path: Path, rows: pl.DataFrame, summary: pl.DataFrame, subtitle: str,
                   settings: PrecheckSettings) -> None:
    w = Writer(path, rows=rows.height)
    names = w.table(HOLD_SHEET, rows, subtitle,
                    note=f"在“放行”列填 {settings.release_words[0]} 放行，填 "
                         f"{settings.hold_words[0]} 继续暂缓；然后运行 cardcheck precheck "
                         "--release 本文件 --ledger 台账")
    col = [c for c, _ in HOLD_SHEET.columns].index("release")
    words = [*settings.release_words, *settings.hold_words]
    for name in names:
        ws = w.wb.get_worksheet_by_name(name)
        ws.data_validation(4, col, 4 + max(rows.height, 1000), col, {
            "validate": "list", "source": words, "error_title": "放行",
            "error_message": "请选择：" + "、".join(words)})
    w.table(SUMMARY_SHEET, summary, subtitle)
    w.close()


@dataclass
class Decisions:
    """What the approver filled in: (run_key, sheet row, line, release word, note)."""

    rows: pl.DataFrame
    problems: list[str] = field(default_factory=list)


def read_holdlist(path: Path) -> Decisions:
    """Every row of the hold list's sheets with a line number; InputError when it is not one."""
    try:
        reader = fastexcel.read_excel(str(path))
    except (fastexcel.FastExcelError, OSError) as exc:
        raise InputError(f"--release {path}: cannot be read as a workbook ({exc})") from None
    headers = {h: f for f, h in HOLD_SHEET.columns}
    wanted = ("run_key", "line", "release", "note")
    sheets = [n for n in reader.sheet_names if n == HOLD_SHEET.name
              or n.startswith(HOLD_SHEET.name[:24] + "（续")]
    if not sheets:
        raise InputError(f"--release {path.name}: no sheet “{HOLD_SHEET.name}” (the hold list "
                         "cardcheck precheck writes)")
    parts = []
    for name in sheets:
        df = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
        at = next((i for i, row in enumerate(df.head(10).iter_rows())
                   if HOLD_SHEET.header("line") in row and HOLD_SHEET.header("release") in row),
                  None)
        if at is None:
            raise InputError(f"--release {path.name}: sheet “{name}” has no columns "
                             f"“{HOLD_SHEET.header('line')}” and “{HOLD_SHEET.header('release')}”")
        cols = {c: headers[v] for c, v in zip(df.columns, df.row(at), strict=True)
                if v in headers and headers[v] in wanted}
        body = df.slice(at + 1).with_row_index("row", offset=at + 2).rename(cols)
        parts.append(body.select(
            pl.lit(name).alias("sheet"), pl.col("row").cast(pl.Int64),
            *[(pl.col(c) if c in body.columns else pl.lit(None, pl.String)).str.strip_chars()
              .alias(c) for c in wanted]))
    rows = pl.concat(parts).filter(pl.col("line").is_not_null() & (pl.col("line") != ""))
    return Decisions(rows)
