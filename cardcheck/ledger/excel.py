"""The ledger's round trip through Excel: read a filled 表4 back, write 表4/表5 from the ledger.

Import matches rows on 问题编号 (the finding id) and takes 整改状态, 整改措施 and 追回金额(元);
rows it cannot match or whose values are not valid are reported with their Excel row numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import fastexcel
import polars as pl

from cardcheck.errors import InputError
from cardcheck.ledger.precheck import STOPPED_SHEET, stopped
from cardcheck.ledger.store import Ledger
from cardcheck.report import tables as T
from cardcheck.report.excel import Writer
from cardcheck.report.spec import ReportSpec

WANTED = ("finding_id", "status", "measure", "recovered")


@dataclass
class ImportReport:
    rows: int = 0
    updated: int = 0
    unmatched: list[tuple[str, int, str]] = field(default_factory=list)  # sheet, row, id
    invalid: list[tuple[str, int, str]] = field(default_factory=list)  # sheet, row, reason

    def lines(self) -> list[str]:
        out = [f"read {self.rows} rows of 表4, updated {self.updated} problems in the ledger"]
        out += [f"{s} row {r}: 问题编号 {i} is not in the ledger" for s, r, i in self.unmatched]
        out += [f"{s} row {r}: {why}" for s, r, why in self.invalid]
        return out


def yuan_to_fen(text: str) -> int | None:
    """'1,234.50' / '1234.5' / '￥300' as fen; None when it is not a sum of money."""
    clean = text.replace(",", "").replace("，", "").replace("元", "").strip().lstrip("￥¥")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        return None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def _sheet_rows(path: Path, spec: ReportSpec) -> list[tuple[str, int, dict[str, str | None]]]:
    """(sheet, Excel row, {field: text}) of every 表4 sheet (continuations included)."""
    sheet = spec.sheets["t4"]
    headers = {h: f for f, h in sheet.columns if f in WANTED}
    try:
        reader = fastexcel.read_excel(str(path))
    except (fastexcel.FastExcelError, OSError) as exc:
        raise InputError(f"{path}: cannot be read as a workbook ({exc})") from None
    names = [n for n in reader.sheet_names
             if n == sheet.name or n.startswith(sheet.name[:24] + "（续")]
    if not names:
        raise InputError(f"{path}: no sheet named {sheet.name!r} (the filled 表4)")
    out = []
    for name in names:
        df = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars()
        head_at = None
        for i, row in enumerate(df.head(10).iter_rows()):
            if sheet.header("finding_id") in row:
                head_at = i
                break
        if head_at is None:
            raise InputError(f"{path}: sheet {name!r} has no column {sheet.header('finding_id')!r}")
        cols = {j: headers[v] for j, v in enumerate(df.row(head_at)) if v in headers}
        for i, row in enumerate(df.slice(head_at + 1).iter_rows(), start=head_at + 2):
            values = {cols[j]: (v.strip() if isinstance(v, str) else v) for j, v in
                      enumerate(row) if j in cols}
            if values.get("finding_id"):
                out.append((name, i, values))
    return out


def import_t4(ledger: Ledger, path: Path, spec: ReportSpec) -> ImportReport:
    report = ImportReport()
    rows = _sheet_rows(path, spec)
    report.rows = len(rows)
    good = []
    where: dict[str, tuple[str, int]] = {}
    for sheet, line, v in rows:
        status = v.get("status") or None
        if status is not None and status not in spec.statuses:
            report.invalid.append((sheet, line, (f"整改状态 {status!r} is not one of "
                                   f"{'、'.join(spec.statuses)}")))
            continue
        recovered = None
        if v.get("recovered"):
            recovered = yuan_to_fen(str(v["recovered"]))
            if recovered is None:
                report.invalid.append((sheet, line, (f"追回金额 {v['recovered']!r} is not a sum "
                                       "of money in 元")))
                continue
        where[str(v["finding_id"])] = (sheet, line)
        good.append({"finding_id": str(v["finding_id"]), "status": status,
                     "measure": v.get("measure") or None, "recovered": recovered})
    updates = pl.DataFrame(good, schema={"finding_id": pl.String, "status": pl.String,
                                         "measure": pl.String, "recovered": pl.Int64})
    before = ledger.history().height
    missing = ledger.apply_updates(updates, source=f"import {path.name}")
    report.updated = ledger.history().slice(before).get_column("finding_id").n_unique()
    report.unmatched = [(where[i][0], where[i][1], i) for i in missing]
    report.unmatched.sort(key=lambda t: (t[0], t[1]))
    return report


def ledger_findings(ledger: Ledger, spec: ReportSpec) -> pl.DataFrame:
    """The ledger's findings shaped as the tables' enriched findings."""
    state = ledger.state()
    gone = pl.lit("数据中已不存在（") + pl.col("gone_since").fill_null("") + pl.lit("）")
    return state.with_columns(
        pl.col("rule").replace_strict(spec.categories, default=pl.col("rule_name"),
                                      return_dtype=pl.String).alias("category"),
        pl.col("stage_found").alias("stage"),
        pl.when(pl.col("present")).then(pl.col("note"))
        .otherwise(pl.concat_str([gone, pl.col("note")], separator=" ")).alias("note"),
        pl.col("county").fill_null(pl.col("region_code")),
        pl.col("persons").fill_null(1),
        pl.col("basis").fill_null(pl.col("rule")),
    )


def export_tables(ledger: Ledger, out: Path, spec: ReportSpec, unmask: bool = False) -> Path:
    """表4 and 表5 from the ledger's state (every problem recorded, gone ones noted), and the
    batches `cardcheck precheck` screened (预审拦截) when there are any."""
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    path = out / f"cardcheck_ledger_{now:%Y%m%d}.xlsx"
    df = ledger_findings(ledger, spec)
    sub = (f"台账导出：{ledger.path.name}　制表时间：{now:%Y-%m-%d %H:%M}"
           + ("" if unmask else "　身份证号、卡号已脱敏"))
    w = Writer(path, rows=df.height)
    w.table(spec.sheets["t4"], T.table4(df, unmask), sub, spec.statuses)
    w.table(spec.sheets["t5"], T.table5(df, spec), sub)
    screened = stopped(ledger)  # `cardcheck precheck`'s batches, when the ledger has any
    if screened.height:
        w.table(STOPPED_SHEET, screened, sub)
    w.close()
    return path
