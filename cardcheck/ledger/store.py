"""The campaign ledger: every finding across runs and stages, in one SQLite file.

A finding keeps its stable id (engine.finding_ids). Each run stamps its stage; a problem found
again keeps its id, status and owner; one no longer in the data is marked gone (never deleted);
one judged 不属实 stays suppressed in later runs unless its evidence (amount, months, evidence
text) changes. One 已整改 and no longer in the data is 销号 (closed), with the date and who
(the run, or whoever confirmed it on import). Every change is written to `history`. A run is
one transaction: a killed run leaves the ledger as it was.

What each run's workbook and each `ledger export` issued is kept (`issues`, `issued`: per
finding the 整改状态, 整改措施, 追回金额 and 备注 as issued), so that an import applies only
what a clerk changed relative to the copy they were given.

`note` is the clerk's 备注; what cardcheck itself says about a finding (gone, closed, still in
the data after 已整改, reopened) is `auto_note` and the dates, and `state()` shows both, the
generated parts in 【】 (which an import strips again).

The schema has a version; a ledger from a newer cardcheck is refused with a message saying
so, an older one is brought up to date when opened (see `_migrate`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import polars as pl

from cardcheck.errors import CardcheckError, EnvironmentProblem

SCHEMA_VERSION = 2
STAGES = ("自查自纠", "全面检查", "重点抽查", "整改深化")
STATUSES = ("未整改", "整改中", "已整改", "不属实", "销号")
CLOSED = "销号"
FINDING_COLS = {
    "finding_id": pl.String, "rule": pl.String, "rule_name": pl.String, "severity": pl.String,
    "region_code": pl.String, "county": pl.String, "township": pl.String, "village": pl.String,
    "household_id": pl.String, "id_number": pl.String, "name": pl.String, "card_no": pl.String,
    "fund": pl.String, "hub": pl.String, "first_month": pl.Int32, "last_month": pl.Int32,
    "months": pl.Int32, "amount": pl.Int64, "evidence": pl.String, "persons": pl.Int64,
    "basis": pl.String,
}
STATE_COLS = {
    "evidence_hash": pl.String, "stage_found": pl.String, "last_stage": pl.String,
    "first_seen": pl.String, "last_seen": pl.String, "present": pl.Boolean,
    "gone_since": pl.String, "owner": pl.String, "status": pl.String, "measure": pl.String,
    "deadline": pl.String, "recovered": pl.Int64, "note": pl.String, "suppressed": pl.Boolean,
    "auto_note": pl.String, "closed_at": pl.String, "closed_by": pl.String,
}
ADDED_V2 = ("auto_note", "closed_at", "closed_by")  # findings columns schema 2 added
ISSUED_COLS = {"issue_id": pl.Int64, "finding_id": pl.String, "status": pl.String,
               "measure": pl.String, "recovered": pl.Int64, "note": pl.String}
EDITABLE = ("status", "measure", "recovered", "note")  # what a clerk fills in on 表4
LEDGER_COLS = {**FINDING_COLS, **STATE_COLS}
HOUSEHOLD_COLS = {"household_id": pl.String, "township": pl.String, "village": pl.String,
                  "name": pl.String, "persons": pl.Int64,
                  # for the visit list (added later: a ledger from before gets them empty)
                  "address": pl.String, "phone": pl.String, "cards": pl.String}
SQL_TYPES = {pl.String: "TEXT", pl.Int32: "INTEGER", pl.Int64: "INTEGER", pl.Boolean: "INTEGER"}
UPDATABLE = [c for c in FINDING_COLS if c != "finding_id"]


def _ddl(name: str, cols: dict[str, Any], key: str | None = None, temp: bool = False) -> str:
    body = ", ".join(f"{c} {SQL_TYPES[t]}{' PRIMARY KEY' if c == key else ''}"
                     for c, t in cols.items())
    return f"CREATE {'TEMP ' if temp else ''}TABLE IF NOT EXISTS {name} ({body})"


SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    _ddl("findings", LEDGER_COLS, key="finding_id"),
    ("CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, finding_id TEXT, at TEXT, "
    "run_id INTEGER, source TEXT, field TEXT, old TEXT, new TEXT)"),
    "CREATE INDEX IF NOT EXISTS history_finding ON history (finding_id)",
    ("CREATE TABLE IF NOT EXISTS runs (run_id INTEGER PRIMARY KEY, at TEXT, stage TEXT, "
    "rules TEXT, options TEXT, found INTEGER, new INTEGER, gone INTEGER, suppressed INTEGER)"),
    _ddl("households", HOUSEHOLD_COLS, key="household_id"),
    ("CREATE TABLE IF NOT EXISTS samples (sample_id INTEGER PRIMARY KEY, at TEXT, stage TEXT, "
    "seed INTEGER, params TEXT, households INTEGER)"),
    ("CREATE TABLE IF NOT EXISTS sample_items (sample_id INTEGER, seq INTEGER, township TEXT, "
    "village TEXT, household_id TEXT, weight REAL)"),
    # what a run's workbook or an export issued (kind 'run', 'export', or 'rebuilt' from the
    # history when a schema-1 ledger was brought up to date), per finding the values issued
    ("CREATE TABLE IF NOT EXISTS issues (issue_id INTEGER PRIMARY KEY, at TEXT, kind TEXT, "
    "run_id INTEGER, file TEXT, rows INTEGER)"),
    ("CREATE TABLE IF NOT EXISTS issued (issue_id INTEGER, finding_id TEXT, status TEXT, "
    "measure TEXT, recovered INTEGER, note TEXT, PRIMARY KEY (issue_id, finding_id))"),
    "CREATE INDEX IF NOT EXISTS issued_finding ON issued (finding_id)",
    ("CREATE TABLE IF NOT EXISTS imports (import_id INTEGER PRIMARY KEY, at TEXT, file TEXT, "
    "by TEXT, issue_id INTEGER, rows INTEGER, changed INTEGER, refused INTEGER)"),
]


@dataclass
class RunRecord:
    run_id: int
    found: int
    new: int
    gone: int
    reopened: int
    suppressed: list[str]
    closed: int = 0  # 已整改 and gone from the data: 销号 by this run
    issue_id: int = 0  # what this run's workbook issued (issues / issued)


def evidence_hash(df: pl.DataFrame) -> pl.Series:
    """sha1 of amount|months|evidence (hashlib: stable across polars versions)."""
    keys = df.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                                    ("amount", "months", "evidence")], separator="|")).to_series()
    return pl.Series("evidence_hash", [hashlib.sha1(k.encode()).hexdigest()[:16]
                                       for k in keys.to_list()], dtype=pl.String)


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


GENERATED = (r"【[^】]*】|数据中已不存在（[^）]*）|已整改，但\S*?数据中仍存在|"
             r"不属实后证据变化，重新核查")  # what cardcheck writes in 备注 (also before schema 2)


def date_text(col: str) -> pl.Expr:
    """'2026-12-04T03:17:50' as '2026年12月4日'."""
    return (pl.col(col).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
            .dt.strftime("%Y年%-m月%-d日"))


def own_note(text: pl.Expr) -> pl.Expr:
    """A 备注 as shown, without what cardcheck wrote there itself: the clerk's own note."""
    return text.cast(pl.String).fill_null("").str.replace_all(GENERATED, "").str.strip_chars()


def shown_note() -> pl.Expr:
    """备注 as the tables show it: 【销号 date, who】【gone from the data since date】
    【cardcheck's note】 and then the clerk's note."""
    by = pl.col("closed_by").fill_null("")
    gone = date_text("gone_since")
    parts = [
        pl.when(pl.col("closed_at").is_not_null()).then(pl.concat_str([
            pl.lit("【"), date_text("closed_at").fill_null(pl.col("closed_at")), pl.lit("销号"),
            pl.when(by != "").then(pl.lit("，") + by).otherwise(pl.lit("")), pl.lit("】")])),
        pl.when(~pl.col("present").fill_null(True)).then(
            pl.when(gone.is_not_null()).then(pl.lit("【") + gone + pl.lit("起数据中已不存在】"))
            .otherwise(pl.lit("【数据中已不存在】"))),
        pl.when(pl.col("auto_note").fill_null("") != "").then(
            pl.lit("【") + pl.col("auto_note") + pl.lit("】")),
        pl.col("note").fill_null(""),
    ]
    return pl.concat_str(parts, ignore_nulls=True)


class Ledger:
    """An open ledger. Use as a context manager; every write method is one transaction.

    `statuses`: new, in progress, rectified, unfounded, closed (the config's report.statuses;
    four of them get 销号 as the fifth)."""

    def __init__(self, path: Path, statuses: tuple[str, ...] = STATUSES) -> None:
        self.path = Path(path)
        self.statuses = tuple(statuses) if len(statuses) >= 5 else (*statuses, CLOSED)
        if self.path.exists() and self.path.is_dir():
            raise CardcheckError(f"--ledger {self.path}: is a folder, expected a .db file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            if busy(exc):
                raise EnvironmentProblem.ledger_busy(self.path) from None
            raise CardcheckError(f"--ledger {self.path}: not a cardcheck ledger ({exc})") from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _check_version(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise CardcheckError(f"--ledger {self.path}: an SQLite file but not a cardcheck "
                                 "ledger (no meta table); give another path")
        if "meta" in tables:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise CardcheckError(
                    f"--ledger {self.path}: written by a newer cardcheck (ledger schema "
                    f"{version}; this cardcheck reads up to {SCHEMA_VERSION}). Update cardcheck, "
                    "or give another --ledger path.")
        with self.transaction():
            for stmt in SCHEMA:
                self.conn.execute(stmt)
            _add_columns(self.conn, "households", HOUSEHOLD_COLS)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                              (str(SCHEMA_VERSION),))
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (now_text(),))
            self._upgrade()

    def _upgrade(self) -> None:
        """Bring a ledger an older cardcheck wrote up to SCHEMA_VERSION (in the transaction
        that opens it): schema 2's columns, its ledger_id, then _migrate."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(findings)")}
        for col in ADDED_V2:
            if col not in have:
                self.conn.execute(f"ALTER TABLE findings ADD COLUMN {col} TEXT")
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('ledger_id', ?)",
                          (uuid.uuid4().hex,))
        if int(self.meta("schema_version") or 0) < SCHEMA_VERSION:
            self._migrate()
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                              (str(SCHEMA_VERSION),))

    def _migrate(self) -> None:
        """Schema 1 → 2 (the columns and tables were added above): the notes cardcheck wrote
        into 备注 move to auto_note (a clerk's note stays), and what each earlier run's
        workbook issued is rebuilt from the history, so that the workbooks already sent out
        can still be imported safely."""
        self.conn.execute(
            "UPDATE findings SET auto_note = note, note = '' WHERE note = '不属实后证据变化，重新核查' "
            "OR note LIKE '已整改，但%数据中仍存在'")
        if self.conn.execute("SELECT count(*) FROM issues").fetchone()[0] == 0:
            self._rebuild_issues()

    def _rebuild_issues(self) -> None:
        """Per earlier run: each finding's 整改状态, 整改措施, 追回金额 at the run's time (the
        last change before it, else the value before the first change after it, else today's),
        for the findings present then and not 不属实 (those the run's workbook showed)."""
        cur = pl.DataFrame(self.conn.execute(
            "SELECT finding_id, first_seen, status, measure, recovered, present, note FROM "
            "findings").fetchall(), orient="row", schema={
                "finding_id": pl.String, "first_seen": pl.String, "status": pl.String,
                "measure": pl.String, "recovered": pl.Int64, "present": pl.Int64,
                "note": pl.String})
        cur = cur.with_columns(pl.col("recovered").cast(pl.String), pl.when(pl.col("present") == 1)
                               .then(pl.lit("present")).otherwise(pl.lit("gone")).alias("present"))
        hist = self.history().filter(pl.col("field").is_in(["status", "measure", "recovered",
                                                            "present"]))
        for run in self.runs():
            at = str(run["at"])
            now = cur.filter(pl.col("first_seen") <= at)
            for f in ("status", "measure", "recovered", "present"):
                mine = hist.filter(pl.col("field") == f)
                before = mine.filter(pl.col("at") <= at).group_by("finding_id").agg(
                    pl.col("new").last().alias("_before"))
                after = mine.filter(pl.col("at") > at).group_by("finding_id").agg(
                    pl.col("old").first().alias("_after"))
                now = (now.join(before, on="finding_id", how="left")
                       .join(after, on="finding_id", how="left")
                       .with_columns(pl.coalesce("_before", "_after", f).alias(f))
                       .drop("_before", "_after"))
            now = now.filter((pl.col("present") == "present")
                             & (pl.col("status") != self.statuses[3]))
            issue = self.conn.execute(
                "INSERT INTO issues (at, kind, run_id, rows) VALUES (?, 'rebuilt', ?, ?)",
                (at, run["run_id"], now.height)).lastrowid
            _insert(self.conn, "issued", now.select(
                pl.lit(issue, pl.Int64).alias("issue_id"), "finding_id", "status", "measure",
                pl.col("recovered").cast(pl.Int64), pl.col("note").fill_null("")))

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        """Remember settings of the last run the exports need (the county's name, 填报单位)."""
        with self.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    # ------------------------------------------------------------------ runs
    def record_run(self, findings: pl.DataFrame, stage: str, ran_rules: Iterable[str],
                   defaults: pl.DataFrame | None = None, households: pl.DataFrame | None = None,
                   options: dict[str, Any] | None = None, at: str | None = None) -> RunRecord:
        """Record one run's findings. `defaults` (finding_id, owner, measure, deadline, county,
        persons, basis) fills what a new finding starts with. What the run's workbook shows
        of them is recorded as issued (RunRecord.issue_id)."""
        if stage not in STAGES:
            raise CardcheckError(f"--stage {stage!r}: expected one of {', '.join(STAGES)}")
        at = at or now_text()
        new, _doing, done, unfounded, closed = self.statuses[:5]
        df = _incoming(findings, defaults)
        rules = sorted(set(ran_rules))
        c = self.conn
        with self.transaction():
            _load_temp(c, "incoming", df, {**FINDING_COLS, "evidence_hash": pl.String,
                                           "owner": pl.String, "measure": pl.String,
                                           "deadline": pl.String})
            run_id = c.execute("INSERT INTO runs (at, stage, rules, options) VALUES (?,?,?,?)",
                               (at, stage, ",".join(rules), json.dumps(options or {},
                                                                       ensure_ascii=False))).lastrowid
            assert run_id is not None  # an INSERT sets lastrowid
            p = {"at": at, "run": run_id, "stage": stage, "new": new, "done": done,
                 "unfounded": unfounded, "closed": closed, "by": f"第{run_id}次运行（{stage}）"}
            # rows seen before (before the new ones are inserted, so only old rows match)
            seen = "FROM findings f JOIN incoming i USING (finding_id) WHERE 1"
            changed = "i.evidence_hash IS NOT f.evidence_hash"
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'evidence', f.evidence, i.evidence "
                      f"{seen} AND {changed}", p)
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'status', f.status, :new "
                      f"{seen} AND f.status IN (:unfounded, :closed) AND {changed}", p)
            reopen = ("UPDATE findings SET status = :new, suppressed = 0, auto_note = {note}, "
                      "closed_at = NULL, closed_by = NULL FROM incoming i WHERE findings.finding_id "
                      "= i.finding_id AND findings.status = {was} AND i.evidence_hash IS NOT "
                      "findings.evidence_hash")
            reopened = c.execute(reopen.format(note="'不属实后证据变化，重新核查'", was=":unfounded"),
                                 p).rowcount
            c.execute(reopen.format(note="'销号后证据变化，重新核查'", was=":closed"), p)
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'present', 'gone', 'present' {seen} "
                      "AND f.present = 0", p)
            for status, text in ((":done", "已整改"), (":closed", "已销号")):
                c.execute(f"UPDATE findings SET auto_note = '{text}，但' || :stage || '数据中仍存在' "
                          "FROM incoming i WHERE findings.finding_id = i.finding_id AND "
                          f"findings.status = {status}", p)
            sets = ", ".join(f"{col} = i.{col}" for col in UPDATABLE if col not in
                             ("county", "persons", "basis"))
            c.execute(f"UPDATE findings SET {sets}, evidence_hash = i.evidence_hash, "
                      "last_seen = :at, last_stage = :stage, present = 1, gone_since = NULL, "
                      "suppressed = (findings.status = :unfounded) FROM incoming i "
                      "WHERE findings.finding_id = i.finding_id", p)
            is_new = "NOT EXISTS (SELECT 1 FROM findings f WHERE f.finding_id = i.finding_id)"
            c.execute(f"INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT finding_id, :at, :run, 'run', 'found', NULL, :stage FROM incoming i "
                      f"WHERE {is_new}", p)
            n_new = c.execute(
                f"INSERT INTO findings ({', '.join(FINDING_COLS)}, evidence_hash, stage_found, "
                "last_stage, first_seen, last_seen, present, owner, status, measure, deadline, "
                f"recovered, note, suppressed) SELECT {', '.join(FINDING_COLS)}, evidence_hash, "
                ":stage, :stage, :at, :at, 1, owner, :new, measure, deadline, 0, '', 0 "
                f"FROM incoming i WHERE {is_new}", p).rowcount
            marks = ",".join("?" * len(rules))
            gone_where = (f"present = 1 AND rule IN ({marks}) AND finding_id NOT IN "
                          "(SELECT finding_id FROM incoming)")
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT finding_id, ?, ?, 'run', 'present', 'present', 'gone' FROM findings "
                      f"WHERE {gone_where}", (at, run_id, *rules))
            n_gone = c.execute(f"UPDATE findings SET present = 0, gone_since = ? WHERE "
                               f"{gone_where}", (at, *rules)).rowcount
            # 已整改 and no longer in the data: 销号, by this run
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      "SELECT finding_id, :at, :run, 'run', 'status', status, :closed FROM findings "
                      "WHERE status = :done AND present = 0", p)
            n_closed = c.execute(
                "UPDATE findings SET status = :closed, closed_at = :at, closed_by = :by, "
                "auto_note = NULL WHERE status = :done AND present = 0", p).rowcount
            suppressed = [r[0] for r in c.execute(
                "SELECT finding_id FROM findings WHERE suppressed = 1 AND finding_id IN "
                "(SELECT finding_id FROM incoming) ORDER BY finding_id")]
            issue_id = self._record_issue(
                "run", at, run_id, None, "suppressed = 0 AND finding_id IN (SELECT finding_id "
                "FROM incoming)")
            if households is not None:
                c.execute("DELETE FROM households")
                _insert(c, "households", households.select(
                    [pl.col(k).cast(t) if k in households.columns else pl.lit(None, t).alias(k)
                     for k, t in HOUSEHOLD_COLS.items()]).sort("household_id"))  # key order
            c.execute("UPDATE runs SET found = ?, new = ?, gone = ?, suppressed = ? WHERE "
                      "run_id = ?", (df.height, n_new, n_gone, len(suppressed), run_id))
            c.execute("DROP TABLE temp.incoming")
        return RunRecord(run_id, df.height, n_new, n_gone, reopened, suppressed, n_closed,
                         issue_id)

    # ------------------------------------------------------------------ issued and imported
    def _record_issue(self, kind: str, at: str, run_id: int | None, file: str | None,
                      where: str) -> int:
        """Record what is issued: the findings `where` selects, with their values now."""
        c = self.conn
        issue_id = c.execute("INSERT INTO issues (at, kind, run_id, file, rows) VALUES "
                             "(?, ?, ?, ?, 0)", (at, kind, run_id, file)).lastrowid
        assert issue_id is not None
        rows = c.execute("INSERT INTO issued (issue_id, finding_id, status, measure, recovered, "
                         "note) SELECT ?, finding_id, status, measure, recovered, "
                         f"coalesce(note, '') FROM findings WHERE {where}", (issue_id,)).rowcount
        c.execute("UPDATE issues SET rows = ? WHERE issue_id = ?", (rows, issue_id))
        return int(issue_id)

    def record_export(self, ids: Iterable[str], file: str, at: str | None = None) -> int:
        """Record that a workbook `file` issued these findings (their values now); the issue id."""
        with self.transaction():
            _load_temp(self.conn, "exported", pl.DataFrame({"finding_id": list(ids)},
                                                           schema={"finding_id": pl.String}),
                       {"finding_id": pl.String})
            issue_id = self._record_issue("export", at or now_text(), None, file,
                                          "finding_id IN (SELECT finding_id FROM exported)")
            self.conn.execute("DROP TABLE temp.exported")
        return issue_id

    def issues(self) -> pl.DataFrame:
        """Every issue: issue_id, at, kind (run, export, rebuilt), run_id, stage, file, rows."""
        rows = self.conn.execute(
            "SELECT s.issue_id, s.at, s.kind, s.run_id, r.stage, s.file, s.rows FROM issues s "
            "LEFT JOIN runs r USING (run_id) ORDER BY s.issue_id").fetchall()
        return pl.DataFrame(rows, orient="row", schema={
            "issue_id": pl.Int64, "at": pl.String, "kind": pl.String, "run_id": pl.Int64,
            "stage": pl.String, "file": pl.String, "rows": pl.Int64})

    def issued(self, ids: Iterable[str] | None = None, issue_id: int | None = None
               ) -> pl.DataFrame:
        """What was issued (ISSUED_COLS): of these findings, or in that issue, or all."""
        sql = f"SELECT {', '.join(ISSUED_COLS)} FROM issued"
        args: tuple[Any, ...] = ()
        if ids is not None:
            _load_temp(self.conn, "wanted", pl.DataFrame({"finding_id": list(ids)},
                                                         schema={"finding_id": pl.String}).unique(),
                       {"finding_id": pl.String})
            sql += " WHERE finding_id IN (SELECT finding_id FROM temp.wanted)"
        elif issue_id is not None:
            sql, args = sql + " WHERE issue_id = ?", (issue_id,)
        rows = self.conn.execute(sql + " ORDER BY issue_id, finding_id", args).fetchall()
        if ids is not None:
            self.conn.execute("DROP TABLE temp.wanted")
        return pl.DataFrame(rows, schema=ISSUED_COLS, orient="row")

    def apply_import(self, changes: pl.DataFrame, file: str, by: str | None = None,
                     issue_id: int | None = None, rows: int = 0, refused: int = 0,
                     at: str | None = None, source: str | None = None) -> int:
        """Set status / measure / recovered (fen) / note of findings by id (null = leave as
        is), with history (`source`, else 导入 file（by）); one transaction. 销号 records when
        and who (`by`, else the source); any other status on a 销号 finding clears that. The
        import is recorded (imports)."""
        at = at or now_text()
        source = source or f"导入 {file}" + (f"（{by}）" if by else "")
        cols = {"finding_id": pl.String, "status": pl.String, "measure": pl.String,
                "recovered": pl.Int64, "note": pl.String}
        upd = changes.select([pl.col(k).cast(t) if k in changes.columns else
                              pl.lit(None, t).alias(k) for k, t in cols.items()])
        p = {"at": at, "source": source, "who": by or source, "closed": self.statuses[4],
             "unfounded": self.statuses[3]}
        c = self.conn
        with self.transaction():
            _load_temp(c, "upd", upd.unique("finding_id", keep="first"), cols)
            for col in EDITABLE:
                c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                          f"SELECT f.finding_id, :at, NULL, :source, '{col}', f.{col}, u.{col} "
                          "FROM findings f JOIN upd u USING (finding_id) "
                          f"WHERE u.{col} IS NOT NULL AND u.{col} IS NOT f.{col}", p)
            c.execute(
                "UPDATE findings SET status = coalesce(u.status, findings.status), "
                "measure = coalesce(u.measure, findings.measure), "
                "recovered = coalesce(u.recovered, findings.recovered), "
                "note = coalesce(u.note, findings.note), "
                "closed_at = CASE WHEN u.status = :closed AND findings.status IS NOT :closed "
                "THEN :at WHEN u.status IS NOT :closed AND u.status IS NOT NULL THEN NULL "
                "ELSE findings.closed_at END, "
                "closed_by = CASE WHEN u.status = :closed AND findings.status IS NOT :closed "
                "THEN :who WHEN u.status IS NOT :closed AND u.status IS NOT NULL THEN NULL "
                "ELSE findings.closed_by END "
                "FROM upd u WHERE findings.finding_id = u.finding_id", p)
            c.execute("UPDATE findings SET suppressed = (status = :unfounded) WHERE finding_id IN "
                      "(SELECT finding_id FROM upd)", p)
            import_id = c.execute(
                "INSERT INTO imports (at, file, by, issue_id, rows, changed, refused) VALUES "
                "(?,?,?,?,?,?,?)", (at, file, by, issue_id, rows, upd.height, refused)).lastrowid
            c.execute("DROP TABLE temp.upd")
        return int(import_id or 0)

    def apply_updates(self, updates: pl.DataFrame, source: str = "import",
                      at: str | None = None) -> list[str]:
        """Set status / measure / recovered (fen) / note by id as given (null = leave as is),
        without comparing with what was issued (apply_import as one file named `source`);
        returns the ids that are not in the ledger."""
        known = pl.DataFrame(self.conn.execute("SELECT finding_id FROM findings").fetchall(),
                             schema={"finding_id": pl.String}, orient="row")
        ids = updates.select(pl.col("finding_id").cast(pl.String)).unique(maintain_order=True)
        self.apply_import(updates.unique("finding_id", keep="last"), source, at=at,
                          source=source)
        return ids.join(known, on="finding_id", how="anti").get_column("finding_id").to_list()

    # ------------------------------------------------------------------ reading
    def state(self, ids: Iterable[str] | None = None) -> pl.DataFrame:
        """The ledger's findings with their state (all, or those `ids`): `note` is 备注 as the
        tables show it (shown_note), `own_note` the clerk's note alone."""
        rows = self.conn.execute(f"SELECT {', '.join(LEDGER_COLS)} FROM findings "
                                 "ORDER BY finding_id").fetchall()
        df = pl.DataFrame(rows, schema=LEDGER_COLS, orient="row")
        df = df.with_columns(pl.col("note").fill_null("").alias("own_note")).with_columns(
            shown_note().alias("note"))
        return df if ids is None else df.filter(pl.col("finding_id").is_in(list(ids)))

    def history(self, finding_id: str | None = None) -> pl.DataFrame:
        sql = "SELECT finding_id, at, run_id, source, field, old, new FROM history"
        args: tuple[Any, ...] = ()
        if finding_id:
            sql, args = sql + " WHERE finding_id = ?", (finding_id,)
        rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        schema = {"finding_id": pl.String, "at": pl.String, "run_id": pl.Int64,
                  "source": pl.String, "field": pl.String, "old": pl.String, "new": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def runs(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM runs ORDER BY run_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def record_sample(self, stage: str, seed: int, params: dict[str, Any],
                      items: pl.DataFrame) -> int:
        """Store a drawn sample (seed and parameters, and the households drawn)."""
        with self.transaction():
            sample_id = self.conn.execute(
                "INSERT INTO samples (at, stage, seed, params, households) VALUES (?,?,?,?,?)",
                (now_text(), stage, seed, json.dumps(params, ensure_ascii=False), items.height),
            ).lastrowid
            _insert(self.conn, "sample_items", items.select(
                pl.lit(sample_id).alias("sample_id"), "seq", "township", "village",
                "household_id", "weight"))
        return int(sample_id or 0)

    def households(self) -> pl.DataFrame:
        rows = self.conn.execute(f"SELECT {', '.join(HOUSEHOLD_COLS)} FROM households").fetchall()
        return pl.DataFrame(rows, schema=HOUSEHOLD_COLS, orient="row")


def busy(exc: sqlite3.Error) -> bool:
    """Another process holds the ledger's write lock (past SQLite's wait)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _path_of(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row else "?"


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error (the ledger stays as it was)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if busy(exc):
                raise EnvironmentProblem.ledger_busy(_path_of(self.conn)) from None
            raise
        return self.conn

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _incoming(findings: pl.DataFrame, defaults: pl.DataFrame | None) -> pl.DataFrame:
    findings = findings.unique("finding_id", keep="first", maintain_order=True)
    df = findings.with_columns(evidence_hash(findings))
    if defaults is not None:
        df = df.join(defaults, on="finding_id", how="left", suffix="_d")
    cols = {**FINDING_COLS, "evidence_hash": pl.String, "owner": pl.String,
            "measure": pl.String, "deadline": pl.String}
    return df.select([pl.col(k).cast(t) if k in df.columns else pl.lit(None, t).alias(k)
                      for k, t in cols.items()])


def _add_columns(c: sqlite3.Connection, table: str, cols: dict[str, Any]) -> None:
    """Columns added to `table` since a ledger was written: added in place, empty (additive, so
    the schema version stays and an older cardcheck still reads the ledger)."""
    have = {r[1] for r in c.execute(f"PRAGMA table_info({table})")}
    for col, dtype in cols.items():
        if col not in have:
            c.execute(f"ALTER TABLE {table} ADD COLUMN {col} {SQL_TYPES[dtype]}")


def _insert(c: sqlite3.Connection, table: str, df: pl.DataFrame) -> None:
    marks = ",".join("?" * df.width)
    c.executemany(f"INSERT INTO {table} ({', '.join(df.columns)}) VALUES ({marks})",
                  df.iter_rows())


def _load_temp(c: sqlite3.Connection, name: str, df: pl.DataFrame, cols: dict[str, Any]) -> None:
    c.execute(f"DROP TABLE IF EXISTS temp.{name}")
    c.execute(_ddl(name, cols, key="finding_id", temp=True))
    _insert(c, name, df.select(list(cols)))
