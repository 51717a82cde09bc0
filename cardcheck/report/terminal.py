"""The run's summary on the terminal (rich): inputs, rules, townships, hubs, largest sums.

ID, card and phone numbers are masked unless --unmask. Money in 元 with two decimals. Every text
from an input (file names, townships, names, hubs, evidence) is shown as rich `Text` through
`terminal_text`: never read as markup, its control characters made visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cardcheck.masking import masked, terminal_text
from cardcheck.report import summary as S
from cardcheck.report.tables import TABLE_NAMES

STATUS = {"ran": "已运行", "skipped": "未运行", "disabled": "已停用"}


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


def _table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold", header_style="bold")
    for i, col in enumerate(columns):
        t.add_column(col, justify="right" if col in right else "left", overflow="fold",
                     no_wrap=i == 0)
    return t


def cell(value: object) -> Text:
    """A table cell or line from the data: plain text (no markup), controls made visible."""
    return Text(terminal_text(value))


def _row(table: Table, *values: object, style: str | None = None) -> None:
    table.add_row(*(cell(v) for v in values), style=style)


def _line(console: Console, *parts: object, soft_wrap: bool = False) -> None:
    """A line of text pieces, (text, style) pairs for ours: nothing in it read as markup."""
    console.print(Text.assemble(*(p if isinstance(p, tuple) else terminal_text(p) for p in parts)),
                  soft_wrap=soft_wrap)


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


def render(console: Console, s: SummaryInput) -> None:
    info = s.info or S.scope(s.frames)
    f = s.findings
    total = int(f.get_column("amount").fill_null(0).sum()) if f.height else 0
    _line(console, ("cardcheck 核查结果", "bold"), f"　地区 {S.region_label(info, s.county)}　"
          f"期间 {S.period_label(info)}　阶段 {s.stage}")
    _line(console, f"核查 {info['households']} 户 {info['persons']} 人 {info['cards']} 张卡，"
          f"发放 {info['payments']} 笔 {S.yuan_text(info['paid'])} 元；"
          f"发现问题 {f.height} 个，涉及 {S.yuan_text(total)} 元")
    files = _table("输入文件", "文件", "类型", "读取", "载入", "拒收", "跳过", "跳过原因",
                   right=("读取", "载入", "拒收", "跳过"))
    for c in s.counts:
        reasons = "、".join(f"{k} {v}" for k, v in (c.skipped_reasons or {}).items())
        _row(files, Path(c.file).name, TABLE_NAMES.get(c.kind, c.kind), c.read, c.loaded,
             c.rejected, c.skipped, reasons)
    console.print(files)
    for line in file_notes(s.counts):
        _line(console, line, soft_wrap=True)
    rules = _table("规则", "规则", "名称", "问题数", "涉及户数", "涉及人数", "涉及金额(元)", "说明",
                   right=("问题数", "涉及户数", "涉及人数", "涉及金额(元)"))
    for r in S.by_rule(f, s.runs).iter_rows(named=True):
        # a rule that ran may carry a note too (a list used as a standing list)
        note = r["reason"] if r["status"] == "ran" else \
            f"{STATUS.get(r['status'], r['status'])}：{r['reason']}"
        _row(rules, r["rule"], r["name"], r["count"], r["households"], r["persons"],
             S.yuan_text(r["amount"]), note, style=None if r["status"] == "ran" else "dim")
    _row(rules, S.TOTAL, "", f.height, "", "", S.yuan_text(total), "", style="bold")
    console.print(rules)
    if f.height:
        cross = S.township_by_rule(f)
        town = _table("乡镇 × 规则（问题数）", *["乡镇", *cross.columns[1:]],
                      right=tuple(cross.columns[1:]))
        for row in cross.iter_rows():
            _row(town, *row, style="bold" if row[0] == S.TOTAL else None)
        console.print(town)
    # ranked on the full values (two phones masked alike stay two hubs), then masked
    hubs = masked(S.hubs(f), s.unmask)
    if hubs.height:
        t = _table("牵连户数最多的关联标识（手机号、代办人、持卡人、转入账户）", "关联标识", "规则",
                   "户数", "卡数", "涉及金额(元)", right=("户数", "卡数", "涉及金额(元)"))
        for h in hubs.iter_rows(named=True):
            _row(t, h["hub"], h["rules"], h["households"], h["cards"], S.yuan_text(h["amount"]))
        console.print(t)
    top = masked(S.top_amounts(f), s.unmask)
    if top.height:
        t = _table("涉及金额最大的问题（优先追回）", "问题编号", "规则", "乡镇", "姓名", "身份证号", "卡号",
                   "涉及金额(元)", "证据", right=("涉及金额(元)",))
        for r in top.iter_rows(named=True):
            ev = r["evidence"] or ""
            _row(t, r["finding_id"], r["rule"], r["township"] or "", r["name"] or "",
                 r["id_number"] or "", r["card_no"] or "", S.yuan_text(r["amount"]),
                 ev if len(ev) <= 60 else ev[:59] + "…")
        console.print(t)
    if s.suppressed:
        _line(console, f"{s.suppressed} 个问题此前已核实为不属实且证据未变，未再列出")
    if s.ledger_line:
        _line(console, s.ledger_line)
    for name, path in s.outputs.items():
        _line(console, f"写出 {name}: {path}")
    if s.profile:
        render_profile(console, s)


def render_profile(console: Console, s: SummaryInput) -> None:
    t = _table("各阶段耗时", "阶段", "秒", "内存峰值(MB)", right=("秒", "内存峰值(MB)"))
    for st in s.stages:
        _row(t, st.name, f"{st.seconds:.2f}", f"{st.peak_mb:.0f}")
    console.print(t)
    slow = sorted((r for r in s.runs if r.status == "ran"), key=lambda r: -r.seconds)[:10]
    if slow:
        t = _table("最慢的规则", "规则", "名称", "秒", right=("秒",))
        for r in slow:
            _row(t, r.code, r.name, f"{r.seconds:.2f}")
        console.print(t)
