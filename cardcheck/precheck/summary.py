"""The run's summary: lines and money in, released, held, and held by reason — for the
terminal, the hold list's 汇总 sheet and precheck.json. Lines in = released + held, money too
(a line the reader could not read has no amount: it counts as a line, with no money)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cardcheck.engines.runner import RuleRun
from cardcheck.precheck.batch import month_text

ITEM = {"item": pl.String, "lines": pl.Int64, "paid": pl.Int64}


@dataclass
class Summary:
    batch: str
    month: int
    lines: int
    amount: int
    released: int
    released_amount: int
    held: int
    held_amount: int
    by_reason: pl.DataFrame  # rule, name, lines, amount
    not_run: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, why
    notes: list[str] = field(default_factory=list)

    def table(self) -> pl.DataFrame:
        """The 汇总 sheet: item, lines, paid (fen)."""
        rows = [("报盘合计", self.lines, self.amount), ("可发", self.released, self.released_amount),
                ("暂缓", self.held, self.held_amount)]
        rows += [(f"暂缓原因：{r} {n}", k, a) for r, n, k, a in
                 self.by_reason.select("rule", "name", "lines", "amount").iter_rows()]
        rows += [(f"未能筛查：{c} {n}（{why}）", None, None) for c, n, why in self.not_run]  # type: ignore[misc]
        return pl.DataFrame(rows, schema=ITEM, orient="row")

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch, "month": month_text(self.month),
            "lines": self.lines, "amount_fen": self.amount,
            "released": {"lines": self.released, "amount_fen": self.released_amount},
            "held": {"lines": self.held, "amount_fen": self.held_amount},
            "held_by_reason": [{"rule": r, "name": n, "lines": k, "amount_fen": a} for r, n, k, a
                               in self.by_reason.select("rule", "name", "lines", "amount")
                               .iter_rows()],
            "not_screened": [{"rule": c, "name": n, "why": w} for c, n, w in self.not_run],
            "notes": self.notes,
        }

    def text(self) -> list[str]:
        out = [(f"报盘 {self.batch}（{month_text(self.month)}）：{self.lines:,} 笔 "
                f"{yuan(self.amount)} 元"),
               f"  可发 {self.released:,} 笔 {yuan(self.released_amount)} 元",
               f"  暂缓 {self.held:,} 笔 {yuan(self.held_amount)} 元"]
        out += [f"    {r} {n}：{k:,} 笔 " + (f"{yuan(a)} 元" if a is not None else "金额无法读取")
                for r, n, k, a in
                self.by_reason.select("rule", "name", "lines", "amount").iter_rows()]
        out += [f"  未能筛查：{c} {n}（{why}）" for c, n, why in self.not_run]
        out += [f"  注意：{note}" for note in self.notes]
        return out


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def summarise(batch: str, month: int, records: pl.Series, lines: pl.DataFrame,
              holds: pl.DataFrame, names: dict[str, str], runs: list[RuleRun],
              notes: list[str]) -> Summary:
    """`records`: every payment line; `lines`: the readable ones with their amount; `holds`:
    (line, rule …) per line and reason."""
    money = pl.DataFrame({"line": records}).join(lines.select("line", "amount"), on="line",
                                                 how="left")
    held_lines = holds.get_column("line").unique().implode()
    is_held = pl.col("line").is_in(held_lines)
    total = money.select(pl.len().alias("n"), pl.col("amount").sum().alias("a"),
                         is_held.sum().alias("hn"),
                         pl.col("amount").filter(is_held).sum().alias("ha")).row(0, named=True)
    per = (
        holds.select("line", "rule").unique()
        .join(money, on="line", how="left")
        .group_by("rule").agg(pl.len().alias("lines"),
                              # null when no line of the reason has an amount (unreadable)
                              pl.when(pl.col("amount").count() > 0)
                              .then(pl.col("amount").sum()).alias("amount"))
        .with_columns(pl.col("rule").replace_strict(names, default=pl.col("rule"))
                      .alias("name"))
        .sort("rule")
    )
    not_run = [(r.code, r.name, r.reason) for r in runs if r.status != "ran"]
    n, a = int(total["n"]), int(total["a"] or 0)
    hn, ha = int(total["hn"] or 0), int(total["ha"] or 0)
    return Summary(batch, month, n, a, n - hn, a - ha, hn, ha, per, not_run, notes)
