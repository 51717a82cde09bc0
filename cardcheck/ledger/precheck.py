"""What precheck keeps in the campaign ledger: every batch screened, every line of it and
what became of it — 可发 (released by the screening), 暂缓 (held, not yet decided), 放行
(released by the approver), 不放行 (held by the approver).

Two tables of their own, added to a ledger when precheck first writes to it (an older ledger
opens as before; a ledger with them opens in an older cardcheck, which does not read them):

- `precheck_runs`: one row per run (its key, the month, the batch's name and SHA-256, lines
  and money in, released and held). A later run of the same month and batch name supersedes
  it (a corrected batch screened again).
- `precheck_lines`: one row per line: card, name, ID, amount, memo, the period and fund it
  pays, its state, the rules that held it, the finding ids, and the approver's decision
  (when, by whom, the note).

So the next month knows what went to the bank: the lines released (可发, 放行) of runs not
superseded are payments made, for the months the payment files given do not cover (P04
"already paid"), and the hold list shows a card's earlier decisions. The campaign tables do
too: `cardcheck ledger export` adds a sheet 预审拦截 (`stopped`): per batch screened, the lines
and money sent, released by the approver, still held and refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from cardcheck.config import Config
from cardcheck.ledger.store import Ledger, now_text
from cardcheck.normalize.derive import derive
from cardcheck.report.spec import SheetSpec

RELEASED, HELD, APPROVED, REFUSED = "可发", "暂缓", "放行", "不放行"
SENT = (RELEASED, APPROVED)
RUN_COLS = {"run_key": "TEXT PRIMARY KEY", "at": "TEXT", "month": "INTEGER", "batch": "TEXT",
            "digest": "TEXT", "format": "TEXT", "lines": "INTEGER", "amount": "INTEGER",
            "released": "INTEGER", "released_amount": "INTEGER", "held": "INTEGER",
            "held_amount": "INTEGER", "superseded_by": "TEXT"}
LINE_COLS = {"run_key": pl.String, "line": pl.Int64, "card_no": pl.String,
             "account_name": pl.String, "id_number": pl.String, "amount": pl.Int64,
             "memo": pl.String, "period": pl.Int32, "fund": pl.String, "state": pl.String,
             "rules": pl.String, "finding_ids": pl.String, "decided_at": pl.String,
             "decided_by": pl.String, "note": pl.String}
SQL = {pl.String: "TEXT", pl.Int64: "INTEGER", pl.Int32: "INTEGER"}
SCHEMA = [
    f"CREATE TABLE IF NOT EXISTS precheck_runs ({', '.join(f'{c} {t}' for c, t in RUN_COLS.items())})",
    (f"CREATE TABLE IF NOT EXISTS precheck_lines ("
     f"{', '.join(f'{c} {SQL[t]}' for c, t in LINE_COLS.items())}, PRIMARY KEY (run_key, line))"),
    "CREATE INDEX IF NOT EXISTS precheck_lines_card ON precheck_lines (card_no)",
]


def ensure_tables(ledger: Ledger) -> None:
    """The precheck tables, created in the ledger when absent (additive)."""
    with ledger.transaction() as c:
        for stmt in SCHEMA:
            c.execute(stmt)


def _has_tables(ledger: Ledger) -> bool:
    names = {r[0] for r in ledger.conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    return "precheck_runs" in names and "precheck_lines" in names


def record_run(ledger: Ledger, run: dict[str, object], lines: pl.DataFrame) -> None:
    """One run and its lines (LINE_COLS without run_key, decided_*), in one transaction; earlier
    runs of the same month and batch name are marked superseded by it."""
    ensure_tables(ledger)
    cols = [c for c in LINE_COLS if c != "run_key"]
    df = lines.select([pl.col(c).cast(t) if c in lines.columns else pl.lit(None, t).alias(c)
                       for c, t in LINE_COLS.items() if c != "run_key"])
    with ledger.transaction() as c:
        c.execute("UPDATE precheck_runs SET superseded_by = ? WHERE month = ? AND batch = ? AND "
                  "superseded_by IS NULL", (run["run_key"], run["month"], run["batch"]))
        names = [k for k in RUN_COLS if k in run]
        c.execute(f"INSERT INTO precheck_runs ({', '.join(names)}) VALUES "
                  f"({', '.join('?' * len(names))})", [run[k] for k in names])
        c.executemany(
            f"INSERT INTO precheck_lines (run_key, {', '.join(cols)}) VALUES "
            f"(?, {', '.join('?' * len(cols))})",
            ((run["run_key"], *row) for row in df.iter_rows()))


def sent_payments(ledger: Ledger | None, config: Config, skip_months: Iterable[int],
                  month: int, batch: str) -> pl.DataFrame:
    """The lines earlier runs released (可发, 放行) as canonical payments of their month, for
    the months not in `skip_months` (those the payment files given cover); not those of runs
    superseded, nor of this month's runs of this batch (this run supersedes them)."""
    if ledger is None or not _has_tables(ledger):
        return derive("payments", pl.DataFrame(), config)
    skip = sorted(set(skip_months))
    marks = ",".join("?" * len(skip)) or "NULL"
    rows = ledger.conn.execute(
        "SELECT r.month, r.batch, l.line, l.card_no, l.account_name, l.id_number, l.amount, "
        "l.memo FROM precheck_lines l JOIN precheck_runs r USING (run_key) WHERE "
        "r.superseded_by IS NULL AND l.state IN (?, ?) AND NOT (r.month = ? AND r.batch = ?) "
        f"AND r.month NOT IN ({marks})", (*SENT, month, batch, *skip)).fetchall()
    raw = pl.DataFrame(rows, orient="row", schema={
        "month": pl.Int64, "batch": pl.String, "source_line": pl.Int64, "card_no": pl.String,
        "account_name": pl.String, "id_number": pl.String, "amount": pl.Int64,
        "memo": pl.String})
    df = raw.with_columns(
        pl.date(pl.col("month") // 100, pl.col("month") % 100, 1).alias("pay_date"),
        pl.concat_str([pl.lit("台账："), pl.col("batch")]).alias("source_file"),
    )
    return derive("payments", df, config)


def open_card_findings(ledger: Ledger | None, rules: tuple[str, ...],
                       statuses: tuple[str, ...]) -> pl.DataFrame:
    """(rule, finding_id, card_no, evidence) of the ledger's findings of `rules` whose status
    is one of `statuses` and that name a card."""
    schema = {"rule": pl.String, "finding_id": pl.String, "card_no": pl.String,
              "evidence": pl.String}
    if ledger is None or not rules or not statuses:
        return pl.DataFrame(schema=schema)
    rows = ledger.conn.execute(
        f"SELECT rule, finding_id, card_no, evidence FROM findings WHERE rule IN "
        f"({','.join('?' * len(rules))}) AND status IN ({','.join('?' * len(statuses))}) AND "
        "card_no IS NOT NULL", (*rules, *statuses)).fetchall()
    return pl.DataFrame(rows, orient="row", schema=schema)


def earlier_decisions(ledger: Ledger | None, cards: pl.Series) -> pl.DataFrame:
    """(card_no, earlier): each card's latest approver decision in earlier runs, as text
    ('2024-04 放行：…')."""
    schema = {"card_no": pl.String, "earlier": pl.String}
    if ledger is None or not _has_tables(ledger) or cards.len() == 0:
        return pl.DataFrame(schema=schema)
    rows = ledger.conn.execute(
        "SELECT l.card_no, r.month, l.state, l.note, l.decided_at FROM precheck_lines l JOIN "
        "precheck_runs r USING (run_key) WHERE l.decided_at IS NOT NULL").fetchall()
    got = pl.DataFrame(rows, orient="row", schema={
        "card_no": pl.String, "month": pl.Int64, "state": pl.String, "note": pl.String,
        "decided_at": pl.String})
    wanted = cards.unique().implode()
    return (
        got.filter(pl.col("card_no").is_in(wanted)).sort("decided_at")
        .group_by("card_no").agg(pl.all().last())
        .select("card_no", pl.format(
            "{}-{} {}{}", pl.col("month") // 100,
            (pl.col("month") % 100).cast(pl.String).str.zfill(2), pl.col("state"),
            pl.when(pl.col("note").fill_null("") == "").then(pl.lit(""))
            .otherwise(pl.lit("：") + pl.col("note"))).alias("earlier"))
    )


def run_of(ledger: Ledger, run_key: str) -> dict[str, object] | None:
    if not _has_tables(ledger):
        return None
    cur = ledger.conn.execute("SELECT * FROM precheck_runs WHERE run_key = ?", (run_key,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def run_lines(ledger: Ledger, run_key: str) -> pl.DataFrame:
    rows = ledger.conn.execute(
        f"SELECT {', '.join(LINE_COLS)} FROM precheck_lines WHERE run_key = ? ORDER BY line",
        (run_key,)).fetchall()
    return pl.DataFrame(rows, orient="row", schema=LINE_COLS)


def decide(ledger: Ledger, run_key: str, decisions: pl.DataFrame, by: str | None,
           at: str | None = None) -> None:
    """Record the approver's decisions (line, state 放行/不放行, note) on held lines."""
    at = at or now_text()
    with ledger.transaction() as c:
        c.executemany(
            "UPDATE precheck_lines SET state = ?, note = ?, decided_at = ?, decided_by = ? "
            "WHERE run_key = ? AND line = ?",
            ((state, note, at, by, run_key, line) for line, state, note in
             decisions.select("line", "state", "note").iter_rows()))
        c.execute(
            "UPDATE precheck_runs SET released = (SELECT count(*) FROM precheck_lines l WHERE "
            "l.run_key = precheck_runs.run_key AND l.state IN (?, ?)), released_amount = "
            "(SELECT coalesce(sum(amount), 0) FROM precheck_lines l WHERE l.run_key = "
            "precheck_runs.run_key AND l.state IN (?, ?)), held = (SELECT count(*) FROM "
            "precheck_lines l WHERE l.run_key = precheck_runs.run_key AND l.state IN (?, ?)), "
            "held_amount = (SELECT coalesce(sum(amount), 0) FROM precheck_lines l WHERE "
            "l.run_key = precheck_runs.run_key AND l.state IN (?, ?)) WHERE run_key = ?",
            (*SENT, *SENT, HELD, REFUSED, HELD, REFUSED, run_key))



STOPPED_SHEET = SheetSpec("预审拦截", "代发报盘预审拦截情况", (
    ("month", "所属月份"), ("batch", "报盘"), ("run_key", "预审编号"), ("state", "处理结果"),
    ("lines", "笔数"), ("amount", "金额(元)"),
))
STATE_ORDER = {RELEASED: 0, APPROVED: 1, HELD: 2, REFUSED: 3}


def stopped(ledger: Ledger) -> pl.DataFrame:
    """Per batch screened (runs not superseded) and state: lines and money (STOPPED_SHEET)."""
    schema = {"month": pl.String, "batch": pl.String, "run_key": pl.String, "state": pl.String,
              "lines": pl.Int64, "amount": pl.Int64}
    if not _has_tables(ledger):
        return pl.DataFrame(schema=schema)
    rows = ledger.conn.execute(
        "SELECT r.month, r.batch, r.run_key, l.state, count(*), coalesce(sum(l.amount), 0) FROM "
        "precheck_lines l JOIN precheck_runs r USING (run_key) WHERE r.superseded_by IS NULL "
        "GROUP BY r.run_key, l.state").fetchall()
    df = pl.DataFrame(rows, orient="row", schema={**schema, "month": pl.Int64})
    return df.with_columns(
        pl.format("{}-{}", pl.col("month") // 100,
                  (pl.col("month") % 100).cast(pl.String).str.zfill(2)).alias("month"),
        pl.col("state").replace_strict(STATE_ORDER, default=9).alias("_o"),
    ).sort("month", "batch", "run_key", "_o").drop("_o")
