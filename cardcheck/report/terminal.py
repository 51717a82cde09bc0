"""The run's summary on the terminal (rich): the headline, inputs, rules, townships, hubs, the
largest sums, the files written and a closing recap.

It fits the terminal: every table is measured before it is drawn, and when it is too wide its
free-text column (a name, the evidence) is cut to one line with an ellipsis and, past that, its
least needed columns are left out; no cell wraps, so an amount is never split over two lines.
The 乡镇 × 规则 matrix is drawn only where it fits; otherwise each township's rules are listed
in one cell and the matrix is left to the workbook (表1 by problem category, 汇总 by township).
By default the output is bounded (SHOWN townships, hubs and findings; rules without findings
named on one line, inputs in one line unless a file lost rows); `--verbose` shows everything.
The headline comes first and a one-line recap last, so neither scrolls away.

ID, card and phone numbers are masked unless --unmask. Money in 元 with two decimals. Every text
from an input (file names, townships, names, hubs, evidence) is shown as rich `Text` through
`terminal_text`: never read as markup, its control characters made visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cardcheck.graph.hubs import hub_label
from cardcheck.ingest import rows as skip
from cardcheck.masking import masked, terminal_text
from cardcheck.report import summary as S
from cardcheck.report.tables import TABLE_NAMES

STATUS = {"ran": "已运行", "skipped": "未运行", "disabled": "已停用"}
SKIPPED = {skip.BLANK: "空行", skip.TOTAL: "合计行", skip.FOOTER: "表尾（制表人等）",
           skip.REPEATED: "重复的表头", skip.NOTE: "说明行", skip.PAGE: "页码行",
           skip.COLUMN_NUMBERS: "栏次行"}
SHOWN = {"townships": 8, "hubs": 5, "top": 5, "notes": 6}  # rows shown without --verbose
ALL = 10_000  # "all" when verbose
DEFAULT_SHEETS = {"summary": "汇总", "t1": "表1", "t5": "表5"}


@dataclass
class SummaryInput:
    findings: pl.DataFrame  # reported findings (不属实 ones left out)
    frames: Mapping[str, pl.DataFrame]
    counts: list[Any]
    runs: list[Any]
    stage: str
    stages: list[Any] = field(default_factory=list)
    outputs: dict[str, Path | str] = field(default_factory=dict)
    suppressed: int = 0
    ledger_line: str = ""
    county: str = ""
    unmask: bool = False
    profile: bool = False
    info: dict[str, Any] | None = None  # summary.scope(frames), when the caller has it
    verbose: bool = False  # every row of every table, not SHOWN
    sheets: dict[str, str] = field(default_factory=dict)  # the workbook's sheet names (spec)


@dataclass
class Col:
    """A column of a fitted table. `flex`: free text, cut to one line to fit (never below
    `least` cells); `keep`: the higher, the longer it stays when the table is too wide (9:
    never left out)."""

    header: str
    right: bool = False
    flex: bool = False
    keep: int = 9
    least: int = 8


def _line(console: Console, *parts: object) -> None:
    """A line of text pieces, (text, style) pairs for ours: nothing in it read as markup. A
    line wider than the terminal wraps at its spaces (numbers are never cut)."""
    console.print(Text.assemble(*(p if isinstance(p, tuple) else terminal_text(p) for p in parts)))


def packed(console: Console, head: str, parts: Sequence[str], style: str | None = None,
           indent: str = "  ") -> None:
    """`head` and `parts` on as few lines as the terminal's width allows, a line broken only
    between two parts (a number or a file name is never cut); each part carries its own
    separator."""
    lines, cur = [], head
    for part in parts:
        if cur.strip() and cell_len(terminal_text(cur + part)) > console.width:
            lines.append(cur)
            cur = indent + part
        else:
            cur += part
    lines.append(cur)
    for line in lines:
        console.print(Text(terminal_text(line), style=style or ""))


def _joined(parts: Sequence[str], sep: str = "、") -> list[str]:
    """`parts` each with `sep` after it but the last."""
    return [p + (sep if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def _title(console: Console, text: str) -> None:
    console.print(Text(text, style="bold"))


def fitted(width: int, cols: Sequence[Col], rows: Sequence[Sequence[object]],
           styles: Sequence[str | None] = ()) -> Table:
    """A table of `rows` no wider than `width`: its flex columns cut, then its least kept
    columns dropped, until it fits; every cell on one line."""
    cols = list(cols)
    texts = [[terminal_text(v) for v in r] for r in rows]
    keep = list(range(len(cols)))
    while True:
        natural = [max([cell_len(cols[i].header), *(cell_len(r[i]) for r in texts)])
                   for i in keep]
        least = [max(cell_len(cols[i].header), min(cols[i].least, natural[k]))
                 if cols[i].flex else natural[k] for k, i in enumerate(keep)]
        overhead = 3 * len(keep) - 3  # a space either side of every column and a divider
        if sum(least) + overhead <= width or all(cols[i].keep >= 9 for i in keep):
            break
        drop = min((cols[i].keep, -k) for k, i in enumerate(keep) if cols[i].keep < 9)
        keep.pop(-drop[1])
    widths = _shrink(natural, least, width - overhead)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold",
                  padding=(0, 1))
    for k, i in enumerate(keep):
        table.add_column(cols[i].header, justify="right" if cols[i].right else "left",
                         no_wrap=True, overflow="ellipsis", min_width=widths[k],
                         max_width=widths[k])
    for r, values in enumerate(texts):
        row = []
        for k, i in enumerate(keep):
            text = Text(values[i])
            if cell_len(values[i]) > widths[k]:
                text.truncate(widths[k], overflow="ellipsis")
            row.append(text)
        table.add_row(*row, style=styles[r] if r < len(styles) else None)
    return table


def _shrink(natural: list[int], least: list[int], room: int) -> list[int]:
    """Column widths within `room`: the widest shrinkable column cut first, none below its
    least."""
    widths = list(natural)
    while sum(widths) > room:
        k = max(range(len(widths)), key=lambda j: (widths[j] - least[j], widths[j]))
        if widths[k] <= least[k]:
            break
        widths[k] -= 1
    return widths


def file_notes(counts: list[Any]) -> list[str]:
    """What a file's reading left out or changed, a line per file that has any: the sheets read
    and not read, headers not used because a better-ranked one was, rows loaded without a
    damaged field."""
    out = []
    for c in counts:
        parts = []
        sheets = getattr(c, "sheets", None) or []
        if len(sheets) > 1:
            parts.append(f"读取 {len(sheets)} 个工作表（{'、'.join(sheets[:6])}"
                         f"{' 等' if len(sheets) > 6 else ''}）")
        for sheet, why in getattr(c, "ignored_sheets", None) or []:
            parts.append(f"未读工作表“{sheet}”：{why}")
        for header, why in getattr(c, "ignored_headers", None) or []:
            if "已用" in why or "同名" in why:
                parts.append(f"未用列“{header}”：{why}")
        if getattr(c, "dropped", 0):
            parts.append(f"{c.dropped} 行有损坏的字段已置空、行已载入（见 rejects.csv）")
        if parts:
            out.append(f"  {Path(c.file).name}：" + "；".join(parts))
    return out


def skipped_text(reasons: Mapping[str, int] | None) -> str:
    return "、".join(f"{SKIPPED.get(k, k)} {v:,}" for k, v in (reasons or {}).items())


def render(console: Console, s: SummaryInput) -> None:
    info = s.info or S.scope(s.frames)
    f = s.findings
    total = int(f.get_column("amount").fill_null(0).sum()) if f.height else 0
    limit = {k: (ALL if s.verbose else n) for k, n in SHOWN.items()}
    more: list[str] = []  # what was left out, for the recap
    _line(console, ("cardcheck 核查结果", "bold"), f"　地区 {S.region_label(info, s.county)}　"
          f"期间 {S.period_label(info)}　阶段 {s.stage}")
    checked = f"核查 {info['households']:,} 户 {info['persons']:,} 人 {info['cards']:,} 张卡，"
    packed(console, "", [checked, f"发放 {info['payments']:,} 笔 {S.yuan_text(info['paid'])} 元"])
    packed(console, "", [f"发现问题 {f.height:,} 个，", f"涉及 {S.yuan_text(total)} 元",
                         *severities(f)], style="bold")
    inputs(console, s, limit, more)
    rules(console, s, total)
    if f.height:
        townships(console, s, limit, more)
        hubs(console, s, limit, more)
        top(console, s, limit, more)
    if s.profile:
        render_profile(console, s)
    closing(console, s, total, more)


def severities(f: pl.DataFrame) -> list[str]:
    """（高 48，中 28，低 3）as parts for `packed`."""
    words = {"high": "高", "medium": "中", "low": "低", "warning": "提示"}
    got = dict(f.group_by("severity").len().iter_rows()) if f.height else {}
    parts = [f"{w} {got[k]:,}" for k, w in words.items() if got.get(k)]
    if not parts:
        return []
    parts = _joined(parts, "，")
    parts[0] = "（" + parts[0]
    parts[-1] += "）"
    return parts


def inputs(console: Console, s: SummaryInput, limit: dict[str, int], more: list[str]) -> None:
    """One line for the inputs; a table of the files that rejected or skipped rows (of every
    file with --verbose) and the notes on how files were read."""
    counts = s.counts
    read = sum(c.read for c in counts)
    rejected = sum(c.rejected for c in counts)
    skipped = sum(c.skipped for c in counts)
    reasons: dict[str, int] = {}
    for c in counts:
        for k, v in (c.skipped_reasons or {}).items():
            reasons[k] = reasons.get(k, 0) + v
    why = _joined([f"{SKIPPED.get(k, k)} {v:,}" for k, v in reasons.items()])
    if why:
        why[0] = "（" + why[0]
        why[-1] += "）"
    packed(console, f"输入 {len(counts)} 个文件，", [
        f"读取 {read:,} 行：", f"载入 {sum(c.loaded for c in counts):,}，",
        f"拒收 {rejected:,}{'（见 rejects.csv）' if rejected else ''}，", f"跳过 {skipped:,}",
        *why])
    listed = counts if s.verbose else [c for c in counts if c.rejected]
    if listed:
        _title(console, "输入文件")
        cols = [Col("文件", flex=True, least=10), Col("类型", flex=True, keep=3, least=6),
                Col("读取", True), Col("载入", True), Col("拒收", True), Col("跳过", True),
                Col("跳过原因", flex=True, keep=2, least=8)]
        console.print(fitted(console.width, cols, [
            [Path(c.file).name, TABLE_NAMES.get(c.kind, c.kind), f"{c.read:,}", f"{c.loaded:,}",
             f"{c.rejected:,}", f"{c.skipped:,}", skipped_text(c.skipped_reasons)]
            for c in listed]))
    notes = file_notes(counts)
    for line in notes[:limit["notes"]]:
        _line(console, line)
    if len(notes) > limit["notes"]:
        more.append(f"另 {len(notes) - limit['notes']} 个文件的读取说明")


def rules(console: Console, s: SummaryInput, total: int) -> None:
    """The rules that found something (every rule with --verbose), a 合计 row, and a line each
    for the rules without findings, the rules not run, and the notes of rules that ran."""
    f = s.findings
    table = S.by_rule(f, s.runs)
    shown = table if s.verbose else table.filter(pl.col("count") > 0)
    _title(console, "规则")
    cols = [Col("规则"), Col("名称", flex=True, least=8), Col("问题数", True),
            Col("涉及户数", True, keep=5), Col("涉及人数", True, keep=4),
            Col("涉及金额(元)", True)]
    rows = [[r["rule"], r["name"], f"{r['count']:,}", f"{r['households']:,}",
             f"{r['persons']:,}", S.yuan_text(r["amount"])] for r in shown.iter_rows(named=True)]
    styles: list[str | None] = [None if r["status"] == "ran" else "dim"
                                for r in shown.iter_rows(named=True)]
    rows.append([S.TOTAL, "", f"{f.height:,}", "", "", S.yuan_text(total)])
    styles.append("bold")
    console.print(fitted(console.width, cols, rows, styles))
    if not s.verbose:
        clean = table.filter((pl.col("count") == 0) & (pl.col("status") == "ran"))
        if clean.height:
            packed(console, "无问题：", _joined(clean.get_column("rule").to_list()))
    for r in table.filter(pl.col("reason") != "").iter_rows(named=True):
        what = "说明" if r["status"] == "ran" else STATUS.get(r["status"], r["status"])
        _line(console, f"{what}：{r['rule']} {r['name']}（{r['reason']}）")


def townships(console: Console, s: SummaryInput, limit: dict[str, int], more: list[str]) -> None:
    """The 乡镇 × 规则 matrix where it fits the terminal; else one row per township with its
    rules in one cell, and the matrix left to the workbook. Townships with the most money
    first, SHOWN of them unless --verbose."""
    f = s.findings
    towns = S.by_township(f)
    names = towns.get_column("township").to_list()
    shown = names[:limit["townships"]]
    cross = S.township_by_rule(f)
    codes = cross.columns[1:-1]
    by_town = {r[0]: r[1:] for r in cross.iter_rows()}
    cols = [Col("乡镇", flex=True, least=6), *(Col(c, True) for c in codes), Col(S.TOTAL, True)]
    rows = [[t, *(f"{v:,}" if v else "-" for v in by_town[t])] for t in [*shown, S.TOTAL]]
    matrix_width = sum(max(cell_len(c.header), *(cell_len(terminal_text(r[i])) for r in rows))
                       for i, c in enumerate(cols)) + 3 * len(cols) - 3
    sheets = {**DEFAULT_SHEETS, **s.sheets}
    book = _workbook(s)
    where = [f"见工作簿 {book} 的", f"「{sheets['t1']}」（按问题类型）和「{sheets['summary']}」"] \
        if book else ["见工作簿（本次未写：去掉 --no-excel 即写出）"]
    styles = [None] * len(shown) + ["bold"]
    if matrix_width <= console.width:
        _title(console, "乡镇 × 规则（问题数）")
        console.print(fitted(console.width, cols, rows, styles))
    else:
        _title(console, "各乡镇问题")
        per = {t: "、".join(f"{c} {v}" for c, v in sorted(
            zip(codes, by_town[t][:-1]), key=lambda p: (-p[1], p[0])) if v) for t in shown}
        town_rows = {r["township"]: r for r in towns.iter_rows(named=True)}
        table_rows = [[t, f"{town_rows[t]['count']:,}", f"{town_rows[t]['households']:,}",
                       S.yuan_text(town_rows[t]["amount"]), per[t]] for t in shown]
        table_rows.append([S.TOTAL, f"{f.height:,}", "", S.yuan_text(
            int(f.get_column("amount").fill_null(0).sum())), ""])
        console.print(fitted(console.width, [
            Col("乡镇", flex=True, least=6), Col("问题数", True), Col("涉及户数", True, keep=4),
            Col("涉及金额(元)", True), Col("规则（问题数）", flex=True, keep=5, least=10)],
            table_rows, styles))
        packed(console, "乡镇 × 规则全表此处放不下：", where)
    if len(names) > len(shown):
        more.append(f"另 {len(names) - len(shown)} 个乡镇")


def hubs(console: Console, s: SummaryInput, limit: dict[str, int], more: list[str]) -> None:
    # ranked on the full values (two phones masked alike stay two hubs), then masked
    found = S.hubs(s.findings, n=limit["hubs"] + 1)
    if not found.height:
        return
    _title(console, "牵连户数最多的关联标识")
    cols = [Col("关联标识", flex=True, least=14), Col("规则", keep=3), Col("户数", True),
            Col("卡数", True, keep=4), Col("涉及金额(元)", True)]
    rows = [[hub_label(h["hub"], s.unmask), h["rules"], f"{h['households']:,}",
             f"{h['cards']:,}", S.yuan_text(h["amount"])]
            for h in found.head(limit["hubs"]).iter_rows(named=True)]
    console.print(fitted(console.width, cols, rows))
    if found.height > limit["hubs"]:
        more.append("更多关联标识")


def top(console: Console, s: SummaryInput, limit: dict[str, int], more: list[str]) -> None:
    found = masked(S.top_amounts(s.findings, n=limit["top"] + 1), s.unmask)
    if not found.height:
        return
    _title(console, "涉及金额最大的问题（优先追回；cardcheck explain 问题编号 查看详情）")
    cols = [Col("问题编号"), Col("规则"), Col("乡镇", keep=5), Col("姓名", keep=6),
            Col("身份证号", keep=1), Col("卡号", keep=2), Col("涉及金额(元)", True),
            Col("证据", flex=True, keep=4, least=16)]
    rows = [[r["finding_id"], r["rule"], r["township"] or "", r["name"] or "",
             r["id_number"] or "", r["card_no"] or "", S.yuan_text(r["amount"]),
             " ".join(str(r["evidence"] or "").split())]
            for r in found.head(limit["top"]).iter_rows(named=True)]
    console.print(fitted(console.width, cols, rows))
    if found.height > limit["top"]:
        more.append("更多问题")


def _workbook(s: SummaryInput) -> str:
    path = s.outputs.get("workbook")
    return Path(str(path)).name if path else ""


def closing(console: Console, s: SummaryInput, total: int, more: list[str]) -> None:
    """The ledger line, the files written (one line), and the recap."""
    if s.suppressed:
        _line(console, f"{s.suppressed} 个问题此前已核实为不属实且证据未变，未再列出")
    if s.ledger_line:
        head, sep, rest = s.ledger_line.partition("：")
        packed(console, head + sep, _joined(rest.split("，"), "，"))
    files = {k: p for k, p in s.outputs.items() if k != "ledger"}
    local = [Path(str(p)) for p in files.values() if "://" not in str(p)]
    folders = {p.parent for p in local}
    if len(folders) == 1:
        packed(console, f"写出 {folders.pop()}：", _joined([p.name for p in local]))
    else:
        for path in local:
            _line(console, f"写出 {path}")
    for p in files.values():
        if "://" in str(p):
            _line(console, f"写出 {p}")
    f = s.findings
    book = _workbook(s)
    recap = [f"小结：发现问题 {f.height:,} 个，", f"涉及 {S.yuan_text(total)} 元"]
    if book:
        recap[-1] += "；"
        recap.append(f"明细见 {book}")
    if more and not s.verbose:
        left = _joined(more)
        recap += [f"（{left[0]}", *left[1:], "：加 --verbose 显示）"]
    packed(console, "", recap, style="bold")


def render_profile(console: Console, s: SummaryInput) -> None:
    _title(console, "各阶段耗时")
    console.print(fitted(console.width, [Col("阶段", flex=True), Col("秒", True),
                                         Col("内存峰值(MB)", True)],
                         [[st.name, f"{st.seconds:.2f}", f"{st.peak_mb:.0f}"] for st in s.stages]))
    slow = sorted((r for r in s.runs if r.status == "ran"), key=lambda r: -r.seconds)[:10]
    if slow:
        _title(console, "最慢的规则")
        console.print(fitted(console.width, [Col("规则"), Col("名称", flex=True), Col("秒", True)],
                             [[r.code, r.name, f"{r.seconds:.2f}"] for r in slow]))
