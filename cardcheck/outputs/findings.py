"""findings.csv (and, on request, findings.xlsx): every finding of the run, the evidence file.

findings.csv keeps the machine's form (English headers, amounts in fen, as the Parquet output
and `explain` read it) and adds what a person opening it needs: `amount_yuan` (元, two
decimals) and `status`, the finding's 整改状态 in the ledger after this run — a finding marked
不属实 earlier is in findings.csv with that status but not in the workbook, which reports only
what is open to act on. findings.xlsx (`--findings-xlsx`) is the same table for Excel: Chinese
headers (configs/tables.yaml, sheets.findings), amounts in 元, ID and card numbers as text so no
digit is lost; like findings.csv it holds full numbers."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cardcheck.engines.runner import FINDINGS_OUT
from cardcheck.report.excel import Writer
from cardcheck.report.files import write_csv
from cardcheck.report.spec import ReportSpec

# findings.csv's columns and types (for reading it back)
FINDINGS_CSV = {**FINDINGS_OUT, "amount_yuan": pl.String, "status": pl.String}


def yuan(col: str) -> pl.Expr:
    """Fen as a text in 元 with two decimals (879600 -> "8796.00", -5 -> "-0.05")."""
    fen = pl.col(col).cast(pl.Int64)
    whole = (fen.abs() // 100).cast(pl.String)
    cents = (fen.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(fen.is_null()).then(None).otherwise(
        pl.concat_str([sign, whole, pl.lit("."), cents]))


def with_status(findings: pl.DataFrame, state: pl.DataFrame | None,
                open_status: str) -> pl.DataFrame:
    """The findings with amount_yuan and the ledger's status (a new finding: `open_status`)."""
    out = findings.with_columns(yuan("amount").alias("amount_yuan"))
    if state is not None and state.height and "status" in state.columns:
        out = out.join(state.select("finding_id", "status").unique("finding_id"),
                       on="finding_id", how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias("status"))
    return out.with_columns(pl.col("status").fill_null(open_status))


def write_findings(findings: pl.DataFrame, state: pl.DataFrame | None, spec: ReportSpec,
                   folder: Path, xlsx: bool) -> dict[str, Path]:
    """findings.csv, and findings.xlsx when asked; returns what was written, by output key."""
    table = with_status(findings, state, spec.open_status)
    out = {"findings": write_csv(table, folder / "findings.csv")}
    if xlsx:
        sheet = spec.sheets["findings"]
        writer = Writer(folder / "findings.xlsx", rows=table.height)
        writer.table(sheet, table.drop("amount_yuan"),
                     f"共 {table.height} 个问题；身份证号、卡号未脱敏（证据文件，请妥善保管）")
        writer.close()
        out["findings_xlsx"] = folder / "findings.xlsx"
    return out
