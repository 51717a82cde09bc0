"""Reversals (冲正, 退回, 撤销): a negative payment and the credit it takes back.

A bank reverses a payment with a negative row of the same card and amount, and often pays it again
later. Read as plain rows, the pair looks like two payments of which one is odd, and the payment
made again looks like a duplicate (P04). Here each negative row is matched with one credit of the
same card and amount within `window_days` (the nearest, an earlier one first), one to one; the
matched pairs leave the table the rules read and are kept apart (`Reversals.netted`). A negative row
with no such credit stays in the table, counted and shown (`Reversals.unmatched`), never rejected.
Transactions are netted the same way: a credit with a negative amount is a reversed credit.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ROUNDS = 3  # matching rounds: a credit claimed by a nearer reversal frees the others for the next


@dataclass
class Reversals:
    kind: str
    netted: pl.DataFrame  # both rows of every matched pair, with __pair (the pair's number)
    unmatched: int  # negative rows kept, with no credit to net

    @property
    def pairs(self) -> int:
        return self.netted.height // 2


def _day(kind: str) -> pl.Expr:
    return pl.col("pay_date") if kind == "payments" else pl.col("txn_time").dt.date()


def net(df: pl.DataFrame, kind: str, window_days: int) -> tuple[pl.DataFrame, Reversals]:
    """(the table without the netted pairs, what was netted). `kind`: payments or
    transactions (only credits are netted there)."""
    empty = Reversals(kind, df.clear().with_columns(pl.lit(0, pl.UInt32).alias("__pair")), 0)
    if df.is_empty() or "amount" not in df.columns:
        return df, empty
    credit = pl.lit(True) if kind == "payments" else pl.col("direction") == "C"
    rows = df.lazy().with_row_index("__r").with_columns(_day(kind).alias("__day"))
    neg = rows.filter(credit & (pl.col("amount") < 0)).select(
        "__r", "card_no", (-pl.col("amount")).alias("__amt"), "__day").collect()
    if neg.is_empty():
        return df, empty
    pos = rows.filter(credit & (pl.col("amount") > 0)).select(
        pl.col("__r").alias("__rp"), "card_no", pl.col("amount").alias("__amt"),
        pl.col("__day").alias("__dayp")).join(
        neg.lazy().select("card_no", "__amt").unique(), on=["card_no", "__amt"], how="semi"
    ).collect()
    cand = neg.join(pos, on=["card_no", "__amt"]).with_columns(
        (pl.col("__day") - pl.col("__dayp")).dt.total_days().alias("__gap")).filter(
        pl.col("__gap").abs() <= window_days).with_columns(
        (pl.col("__gap") < 0).alias("__after"), pl.col("__gap").abs().alias("__dist"))
    pairs = []
    for _ in range(ROUNDS):  # a few rounds of best-first one-to-one matching, not a row loop
        if cand.is_empty():
            break
        best = cand.sort("__r", "__after", "__dist", "__rp").unique("__r", keep="first")
        won = best.sort("__rp", "__after", "__dist", "__r").unique("__rp", keep="first")
        pairs.append(won.select("__r", "__rp"))
        cand = cand.join(won.select("__r"), on="__r", how="anti").join(
            won.select("__rp"), on="__rp", how="anti")
    if not pairs:
        return df, Reversals(kind, empty.netted, neg.height)
    matched = pl.concat(pairs).with_row_index("__pair")
    ids = pl.concat([matched.select("__pair", pl.col("__r")),
                     matched.select("__pair", pl.col("__rp").alias("__r"))])
    indexed = df.with_row_index("__r")
    netted = indexed.join(ids, on="__r", how="inner").sort("__pair", "amount").drop("__r")
    kept = indexed.join(ids, on="__r", how="anti").drop("__r")
    return kept, Reversals(kind, netted, neg.height - matched.height)


def summary(reversals: list[Reversals]) -> list[str]:
    """Lines for the run's summary: pairs netted and negative rows left, per table."""
    label = {"payments": "代发明细", "transactions": "交易流水"}
    out = []
    for r in reversals:
        if r.pairs or r.unmatched:
            text = f"{label.get(r.kind, r.kind)}中 {r.pairs} 笔冲正（负数金额）与原入账相抵，均不计入"
            if r.unmatched:
                text += f"；{r.unmatched} 笔负数金额找不到对应的原入账，照常计入"
            out.append(text)
    return out
