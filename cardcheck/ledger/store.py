"""The campaign ledger: every finding across runs and stages, in one SQLite file.

A finding keeps its stable id (engine.finding_ids). Each run stamps its stage; a problem found
again keeps its id, status and owner; one no longer in the data is marked gone (never deleted);
one judged 不属实 stays suppressed in later runs unless its evidence (amount, months, evidence
text) changes. Every change is written to `history`. A run is one transaction: a killed run
leaves the ledger as it was. The schema has a version; a ledger from a newer cardcheck is
refused with a message saying so.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import polars as pl

from cardcheck.errors import CardcheckError, EnvironmentProblem

SCHEMA_VERSION = 1
STAGES = ("自查自纠", "全面检查", "重点抽查", "整改深化")
STATUSES = ("未整改", "整改中", "已整改", "不属实")
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
}
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
]


@dataclass
class RunRecord:
    run_id: int
    found: int
    new: int
    gone: int
    reopened: int
    suppressed: list[str]


def evidence_hash(df: pl.DataFrame) -> pl.Series:
    """sha1 of amount|months|evidence (hashlib: stable across polars versions)."""
    keys = df.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                                    ("amount", "months", "evidence")], separator="|")).to_series()
    return pl.Series("evidence_hash", [hashlib.sha1(k.encode()).hexdigest()[:16]
                                       for k in keys.to_list()], dtype=pl.String)


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


class Ledger:
    """An open ledger. Use as a context manager; every write method is one transaction."""

    def __init__(self, path: Path, statuses: tuple[str, ...] = STATUSES) -> None:
        self.path = Path(path)
        self.statuses = statuses
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

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    # ------------------------------------------------------------------ runs
    def record_run(self, findings: pl.DataFrame, stage: str, ran_rules: Iterable[str],
                   defaults: pl.DataFrame | None = None, households: pl.DataFrame | None = None,
                   options: dict[str, Any] | None = None, at: str | None = None) -> RunRecord:
        """Record one run's findings. `defaults` (finding_id, owner, measure, deadline, county,
        persons, basis) fills what a new finding starts with."""
        if stage not in STAGES:
            raise CardcheckError(f"--stage {stage!r}: expected one of {', '.join(STAGES)}")
        at = at or now_text()
        new, _doing, done, unfounded = self.statuses
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
                 "unfounded": unfounded}
            # rows seen before (before the new ones are inserted, so only old rows match)
            seen = "FROM findings f JOIN incoming i USING (finding_id) WHERE 1"
            changed = "i.evidence_hash IS NOT f.evidence_hash"
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'evidence', f.evidence, i.evidence "
                      f"{seen} AND {changed}", p)
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'status', f.status, :new "
                      f"{seen} AND f.status = :unfounded AND {changed}", p)
            reopened = c.execute(
                "UPDATE findings SET status = :new, suppressed = 0, note = '不属实后证据变化，重新核查' "
                "FROM incoming i WHERE findings.finding_id = i.finding_id AND findings.status = "
                ":unfounded AND i.evidence_hash IS NOT findings.evidence_hash", p).rowcount
            c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                      f"SELECT f.finding_id, :at, :run, 'run', 'present', 'gone', 'present' {seen} "
                      "AND f.present = 0", p)
            c.execute("UPDATE findings SET note = '已整改，但' || :stage || '数据中仍存在' FROM incoming i "
                      "WHERE findings.finding_id = i.finding_id AND findings.status = :done", p)
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
            suppressed = [r[0] for r in c.execute(
                "SELECT finding_id FROM findings WHERE suppressed = 1 AND finding_id IN "
                "(SELECT finding_id FROM incoming) ORDER BY finding_id")]
            if households is not None:
                c.execute("DELETE FROM households")
                _insert(c, "households", households.select(
                    [pl.col(k).cast(t) if k in households.columns else pl.lit(None, t).alias(k)
                     for k, t in HOUSEHOLD_COLS.items()]).sort("household_id"))  # key order
            c.execute("UPDATE runs SET found = ?, new = ?, gone = ?, suppressed = ? WHERE "
                      "run_id = ?", (df.height, n_new, n_gone, len(suppressed), run_id))
            c.execute("DROP TABLE temp.incoming")
        return RunRecord(run_id, df.height, n_new, n_gone, reopened, suppressed)

    # ------------------------------------------------------------------ edits
    def apply_updates(self, updates: pl.DataFrame, source: str = "import",
                      at: str | None = None) -> list[str]:
        """Set status / measure / recovered (fen) of findings by id (null = leave as is), with
        history; returns the ids that are not in the ledger."""
        at = at or now_text()
        cols = {"finding_id": pl.String, "status": pl.String, "measure": pl.String,
                "recovered": pl.Int64}
        upd = updates.select([pl.col(k).cast(t) if k in updates.columns else
                              pl.lit(None, t).alias(k) for k, t in cols.items()])
        c = self.conn
        with self.transaction():
            _load_temp(c, "upd", upd.unique("finding_id", keep="last"), cols)
            for col in ("status", "measure", "recovered"):
                c.execute("INSERT INTO history (finding_id, at, run_id, source, field, old, new) "
                          f"SELECT f.finding_id, ?, NULL, ?, '{col}', f.{col}, u.{col} FROM "
                          "findings f JOIN upd u USING (finding_id) "
                          f"WHERE u.{col} IS NOT NULL AND u.{col} IS NOT f.{col}", (at, source))
            c.execute("UPDATE findings SET status = coalesce(u.status, findings.status), "
                      "measure = coalesce(u.measure, findings.measure), "
                      "recovered = coalesce(u.recovered, findings.recovered) FROM upd u "
                      "WHERE findings.finding_id = u.finding_id")
            c.execute("UPDATE findings SET suppressed = (status = ?) WHERE finding_id IN "
                      "(SELECT finding_id FROM upd)", (self.statuses[3],))
            missing = [r[0] for r in c.execute(
                "SELECT finding_id FROM upd WHERE finding_id NOT IN (SELECT finding_id FROM "
                "findings)")]
            c.execute("DROP TABLE temp.upd")
        return missing

    # ------------------------------------------------------------------ reading
    def state(self, ids: Iterable[str] | None = None) -> pl.DataFrame:
        """The ledger's findings with their state (all, or those `ids`)."""
        rows = self.conn.execute(f"SELECT {', '.join(LEDGER_COLS)} FROM findings "
                                 "ORDER BY finding_id").fetchall()
        df = pl.DataFrame(rows, schema=LEDGER_COLS, orient="row")
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
