"""The campaign workbook: 汇总, 表1–表5 and one sheet per rule, from one run (or the ledger).

`build_and_write` takes what a run produced (findings to report, frames, rule runs, file
counts, the ledger's state) and writes OUT/cardcheck_<region>_<period>.xlsx. 表2 in the
workbook lists the cards with a finding; every card's row is in 表2_全部卡片.csv beside it
(a county has tens of thousands of cards, a prefecture hundreds of thousands).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.report import summary as S
from cardcheck.report import tables as T
from cardcheck.report.excel import (
    MAX_ROWS,
    Writer,
    columns_of,
    lines_of,
    sheet_values,
    write_row,
)
from cardcheck.report.files import write_csv
from cardcheck.report.spec import ReportSpec, SheetSpec

CARDS_CSV_SUFFIX = "_全部卡片.csv"
FUNDS_NOTE = ("问题数按案计（一人多卡按人、一户多卡按户、代管代取等按卡，见 report.case_units），"
              "明细条数为表4行数；资金项目数的合计为全县不重复的资金项目数，不是各乡镇之和")
T5_NOTE = ("发现问题数和整改状态按案计（一案有多条明细时，取整改进度最慢的一条的状态）；销户或变更账户数、"
           "移交问题线索数、处理人数和完善制度数只统计台账中填报的数，未填报时为空")


@dataclass
class BookInput:
    findings: pl.DataFrame  # the findings to report (不属实 ones already left out)
    frames: Mapping[str, pl.DataFrame]
    runs: list[Any]
    counts: list[Any]
    spec: ReportSpec
    stage: str
    state: pl.DataFrame | None = None  # ledger state of these findings
    ledger_state: pl.DataFrame | None = None  # every finding the ledger holds, for 表5
    basis: dict[str, str] = field(default_factory=dict)
    suppressed: int = 0
    unmask: bool = False
    created: datetime = field(default_factory=datetime.now)
    info: dict[str, Any] | None = None  # summary.scope(frames), when the caller has it


def workbook_name(frames: Mapping[str, pl.DataFrame], county: str = "",
                  info: dict[str, Any] | None = None) -> str:
    info = info or S.scope(frames)
    region = re.sub(r"[\\/:*?\"<>|\s]+", "_", S.region_label(info, county))
    return f"cardcheck_{region}_{S.period_label(info)}.xlsx"


def rule_sheet_name(code: str, name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", f"{code} {name}")[:28]


def cards_csv_path(workbook: Path, spec: ReportSpec) -> Path:
    """Every card's 表2 row, beside the workbook: 表2_全部卡片.csv."""
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", spec.sheets["t2"].name)
    return workbook.parent / f"{name}{CARDS_CSV_SUFFIX}"


def cards_note(cards: int, shown: int, csv_name: str) -> str:
    return (f"本次共核查 {cards} 张卡，本表只列出发现问题的 {shown} 张卡；"
            f"每张卡的核对情况见工作簿同一文件夹中的 {csv_name}")


def write_cards_csv(cards: pl.DataFrame, sheet: SheetSpec, path: Path) -> Path:
    """表2 for every card as CSV: the sheet's columns and headers, money in 元 with two
    decimals, formula-escaped, owner-only; with a BOM so that Excel reads the Chinese."""

    cols = columns_of(sheet, cards)
    seen: dict[str, int] = {}
    headers = []
    for _, header in cols:  # a header the config gives twice is told apart: (2), (3) …
        seen[header] = seen.get(header, 0) + 1
        headers.append(header if seen[header] == 1 else f"{header}({seen[header]})")
    data = sheet_values(cards, cols).rename(dict(zip([c for c, _ in cols], headers)))
    return write_csv(data, path, float_precision=2, include_bom=True)


def issuer_of(counts: list[Any]) -> str:
    """The 填报单位 the roll's title lines name (柳林县民政局), '' when none does."""
    return next((c.issuer for c in counts if getattr(c, "kind", "") == "roll"
                 and getattr(c, "issuer", "")), "")


def resolved_spec(spec: ReportSpec, info: dict[str, Any], counts: list[Any]) -> ReportSpec:
    """`spec` with the county's name (config, its regions, or the roll's 填报单位) and the
    tables' 填报单位 (config, the roll's 填报单位, or the county's name + 民政局) filled in."""
    issuer = issuer_of(counts)
    county = S.county_name(info, spec.county, spec.regions, issuer)
    named = county != S.region_label(info)  # a name, not the bare region code
    reporter = spec.furniture.reporter or issuer or (f"{county}民政局" if named else "")
    return dataclasses.replace(spec, county=county if named else spec.county,
                               furniture=dataclasses.replace(spec.furniture, reporter=reporter))


def build_and_write(path: Path, inp: BookInput, max_rows: int = MAX_ROWS) -> Path:
    """Write the workbook at `path` and 表2_全部卡片.csv beside it (cards_csv_path)."""
    info = inp.info or S.scope(inp.frames)
    spec = resolved_spec(inp.spec, info, inp.counts)
    inp = dataclasses.replace(inp, spec=spec, findings=T.locate(inp.findings, inp.frames))
    sub = (f"地区：{S.region_label(info, spec.county)}　期间：{S.period_label(info)}　"
           f"阶段：{inp.stage}　制表时间：{inp.created:%Y-%m-%d %H:%M}"
           + ("" if inp.unmask else "　身份证号、卡号已脱敏"))
    enriched = T.enrich(inp.findings, inp.frames, spec, inp.stage, inp.state, inp.basis,
                        inp.created.date())
    ledger = inp.ledger_state
    if ledger is None:
        ledger = enriched.with_columns(pl.lit(True).alias("present"))
    elif "category" not in ledger.columns:
        ledger = ledger.with_columns(pl.col("rule").replace_strict(
            spec.categories, default=pl.col("rule_name"), return_dtype=pl.String).alias("category"))
    ledger = T.locate(ledger, inp.frames)
    w = Writer(path, max_rows=max_rows, rows=inp.findings.height, furniture=spec.furniture,
               date=f"{inp.created:%Y年%m月%d日}")
    summary_ws = w.sheet(spec.sheets["summary"].name)
    sheets = spec.sheets
    paid_by_card = T.card_payments(inp.frames)
    w.table(sheets["t1"], T.table1(inp.frames, enriched, spec, paid_by_card), sub,
            note=FUNDS_NOTE)
    cards = T.table2(inp.frames, inp.findings, inp.unmask, paid_by_card)
    csv_path = write_cards_csv(cards, sheets["t2"], cards_csv_path(path, spec))
    with_problems = T.numbered(cards.filter(pl.col("problems") != ""))
    w.table(sheets["t2"], T.with_total(with_problems, "township", ["paid"]), sub,
            note=cards_note(cards.height, with_problems.height, csv_path.name))
    w.table(sheets["t3"], T.table3(enriched, spec, inp.unmask), sub, spec.statuses)
    w.table(sheets["t4"], T.table4(enriched, inp.unmask), sub, spec.statuses)
    w.table(sheets["t5"], T.table5(ledger, spec), sub, note=T5_NOTE)
    rules = S.by_rule(inp.findings, inp.runs, spec.case_units)
    per_rule = T.rule_sheets(inp.findings, inp.unmask)
    for row in rules.filter(pl.col("count") > 0).iter_rows(named=True):
        title = sheets["rule"].title.format(code=row["rule"], name=row["name"])
        w.table(sheets["rule"], per_rule[row["rule"]], sub,
                name=rule_sheet_name(row["rule"], row["name"]), title=title)
    write_summary(w, summary_ws, sheets["summary"], inp, info, rules, sub,
                  T.progress(ledger, spec))
    w.close()
    return path


def _block(w: Writer, ws: Any, row: int, label: str, headers: list[str],
           rows: list[list[Any]], kinds: list[str]) -> int:
    """A labelled small table on the summary sheet; returns the next free row."""

    ws.write_string(row, 0, label, w.f["label"])
    lines = 1
    for c, h in enumerate(headers):
        ws.write_string(row + 1, c, h, w.f["head"])
        lines = max(lines, lines_of(h, SUMMARY_WIDTHS[c] if c < len(SUMMARY_WIDTHS) else 8))
    ws.set_row(row + 1, 13.5 * lines + 4)
    for r, values in enumerate(rows, start=row + 2):
        fmt = w.f_total if values and values[0] == S.TOTAL else w.f
        write_row(ws, r, tuple(values), kinds, fmt)
    return row + 2 + len(rows) + 1


SUMMARY_WIDTHS = (20, 22, 20, 10, 12, 14, 10, 14, 14, 30)


def write_summary(w: Writer, ws: Any, sheet: SheetSpec, inp: BookInput, info: dict[str, Any],
                  rules: pl.DataFrame, sub: str, progress: pl.DataFrame) -> None:
    f = inp.findings
    units = inp.spec.case_units
    last_col = len(SUMMARY_WIDTHS) - 1
    ws.merge_range(0, 0, 0, last_col, sheet.title, w.f["title"])
    ws.set_row(0, 24)
    w.official_line(ws, 1, last_col, sub)
    for col, width in enumerate(SUMMARY_WIDTHS):
        ws.set_column(col, col, width)
    total = int(f.get_column("amount").fill_null(0).sum()) if f.height else 0
    cases = int(rules.get_column("cases").sum()) if rules.height else 0
    scope_rows = [
        ["地区", S.region_label(info, inp.spec.county)], ["核查期间", S.period_label(info)],
        ["检查阶段", inp.stage], ["核查户数", info["households"]], ["核查人数", info["persons"]],
        ["核查卡数", info["cards"]], ["资金项目数", info["funds"]],
        ["发放笔数", info["payments"]], ["发放金额(元)", info["paid"] / 100],
        ["发现问题数（按案计）", cases], ["明细条数（表4行数）", f.height],
        ["涉及金额(元)", total / 100], ["不属实已排除", inp.suppressed],
    ]
    row = 3
    ws.write_string(row, 0, "核查范围", w.f["label"])
    for r, (k, v) in enumerate(scope_rows, start=row + 1):
        ws.write_string(r, 0, k, w.f["head"])
        if isinstance(v, str):
            ws.write_string(r, 1, v, w.f["text"])
        else:
            ws.write_number(r, 1, v, w.f["money" if k.endswith("(元)") else "int"])
    row += len(scope_rows) + 2
    files = [[c.file, T.TABLE_NAMES.get(c.kind, c.kind), c.format, c.encoding or "", c.read,
              c.loaded, c.rejected, c.skipped,
              "、".join(f"{k} {v}" for k, v in (c.skipped_reasons or {}).items())]
             for c in inp.counts]
    row = _block(w, ws, row, "输入文件", ["文件", "类型", "格式", "编码", "读取行", "载入",
                                       "拒收", "跳过", "跳过原因"], files,
                 ["text"] * 4 + ["int"] * 4 + ["text"])
    cat = {r: inp.spec.category(r, n) for r, n in zip(rules["rule"], rules["name"])}
    rule_rows = [[r["rule"], r["name"], cat[r["rule"]], {"ran": "已运行", "skipped": "未运行",
                  "disabled": "已停用"}.get(r["status"], r["status"]), r["cases"], r["count"],
                  r["households"], r["persons"], r["amount"] / 100, r["reason"]]
                 for r in rules.iter_rows(named=True)]
    rule_rows.append([S.TOTAL, "", "", "", cases, f.height, None, None, total / 100, ""])
    rule_top = row + 2
    row = _block(w, ws, row, "按规则", ["规则", "名称", "问题类型", "状态", "问题数（按案）",
                                     "明细条数", "涉及户数", "涉及人数", "涉及金额(元)", "说明"],
                 rule_rows, ["text"] * 4 + ["int"] * 4 + ["money", "text"])
    towns = S.by_township(f, units)
    town_rows = [[t["township"], t["cases"], t["count"], t["households"], t["persons"],
                  t["amount"] / 100] for t in towns.iter_rows(named=True)]
    town_rows.append([S.TOTAL, cases, f.height, None, None, total / 100])
    town_top = row + 2
    row = _block(w, ws, row, "按乡镇", ["乡镇", "问题数（按案）", "明细条数", "涉及户数",
                                     "涉及人数", "涉及金额(元)"],
                 town_rows, ["text", "int", "int", "int", "int", "money"])
    new, doing, done, unfounded = inp.spec.statuses[:4]
    steps = [[p["township"], p["found"], p["rectified"], p["in_progress"], p["open"],
              p["unfounded"], p["rate"], p["due"] / 100, p["recovered"] / 100]
             for p in progress.iter_rows(named=True)]
    progress_top = row + 2
    row = _block(w, ws, row, f"整改进度（台账中的全部问题，按案计；{inp.stage}）",
                 ["乡镇", "发现问题数", done, doing, new, unfounded, "整改率", "应追回金额(元)",
                  "追回金额(元)"], steps, ["text"] + ["int"] * 5 + ["pct", "money", "money"])
    notes = list(w.notes)
    if inp.suppressed:
        notes.append(f"{inp.suppressed} 个问题此前已核实为不属实且证据未变，本表不再列出")
    if notes:
        ws.write_string(row, 0, "说明", w.f["label"])
        for i, note in enumerate(notes, start=row + 1):
            ws.write_string(i, 0, note, w.f["note"])
        row += len(notes) + 2
    if w.signature_line():
        ws.write_string(row, 0, w.signature_line(), w.f["plain"])
        row += 2
    ws.set_h_pagebreaks([row])
    name = sheet.name
    _chart(w, ws, name, "问题数（按规则，按案计）", rule_top, rule_top + len(rule_rows) - 2, 0,
           [(4, "")], (row, 0))
    _chart(w, ws, name, "问题数（按乡镇，按案计）", town_top, town_top + len(town_rows) - 2, 0,
           [(1, "")], (row, 5))
    _chart(w, ws, name, "整改进度（按乡镇）", progress_top, progress_top + len(steps) - 2, 0,
           [(2, "#70AD47"), (3, "#FFC000"), (4, "#C00000")], (row + 17, 0), stacked=True,
           names_row=progress_top - 1)
    ws.repeat_rows(0, 1)


def _chart(w: Writer, ws: Any, sheet: str, title: str, first: int, last: int, cat_col: int,
           series: list[tuple[int, str]], where: tuple[int, int], stacked: bool = False,
           names_row: int | None = None) -> None:
    """A column chart of rows first..last: one series per (value column, colour); stacked
    with a legend when the series are parts of one whole (names from `names_row`)."""
    if last < first:
        return
    chart = w.wb.add_chart({"type": "column", **({"subtype": "stacked"} if stacked else {})})
    for col, colour in series:
        chart.add_series({
            **({"name": [sheet, names_row, col]} if names_row is not None else {"name": title}),
            "categories": [sheet, first, cat_col, last, cat_col],
            "values": [sheet, first, col, last, col],
            **({} if stacked else {"data_labels": {"value": True}}),
            **({"fill": {"color": colour}} if colour else {})})
    chart.set_title({"name": title, "name_font": {"name": "宋体", "size": 11}})
    if stacked:
        chart.set_legend({"position": "top", "font": {"name": "宋体", "size": 9}})
    else:
        chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0, "num_format": "0", "major_gridlines": {"visible": True}})
    chart.set_x_axis({"num_font": {"name": "宋体", "size": 9}})
    chart.set_size({"width": 620 if stacked else 520, "height": 320 if stacked else 300})
    ws.insert_chart(where[0], where[1], chart)
