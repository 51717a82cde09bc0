"""Precheck and check agree: a line precheck holds for a reason is a finding of the same rule
when that month's payments are checked afterwards — a full `cardcheck check` of the year with
the batch as December's payments (the months before from the demo's 代发明细1-11月)."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from test_precheck import check_run, precheck
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.demo.batch import BATCH, HISTORY


def december_payments(demo: Path, path: Path) -> None:
    """The batch's payment lines as a bank's payment file of December (paid on the 10th)."""
    data = (demo / f"{BATCH}.csv").read_bytes()
    text = data.decode("gbk") if not data.startswith(b"\xe5\xba\x8f") else data.decode()
    rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0].isdigit()]
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["交易日期", "账号", "户名", "证件号码", "金额", "摘要"])
    out.writerows(["20231210", r[2], r[1], r[3], r[4], r[5]] for r in rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("size", [(300, 5, False), (420, 13, True)], ids=["300-5", "420-13"])
def test_every_hold_is_a_finding_of_its_rule_in_the_check_afterwards(size, demo_county,
                                                                     tmp_path) -> None:
    demo = demo_county(*size)
    ledger = tmp_path / "cardcheck.db"
    shutil.copy(check_run(demo, tmp_path / "run"), ledger)
    code, output = precheck(demo, tmp_path / "pre", ledger, "-q")
    assert code == 1, output
    with sqlite3.connect(ledger) as c:
        held = pl.DataFrame(c.execute(
            "SELECT line, rules, finding_ids FROM precheck_lines WHERE state = '暂缓'").fetchall(),
            schema=["line", "rules", "finding_ids"], orient="row")
    assert held.height > 10
    december_payments(demo, tmp_path / "12月代发.csv")
    result = CliRunner().invoke(app, [
        "check", "--inputs", str(demo), "--payments", str(demo / f"{HISTORY}.csv"),
        "--payments", str(tmp_path / "12月代发.csv"), "--out", str(tmp_path / "after"),
        "--no-excel", "-q"])
    assert result.exit_code == 0, result.output
    found = pl.read_csv(tmp_path / "after" / "findings.csv", infer_schema=False)
    rule_of = dict(zip(found["finding_id"], found["rule"], strict=True))
    rejected = set(pl.read_csv(tmp_path / "after" / "rejects.csv", infer_schema=False)
                   .filter(pl.col("file") == "12月代发.csv")["line"].cast(pl.Int64))
    first = 3 if not size[2] else 2  # the batch's first payment line (after title and header)
    for line, rules, ids in held.iter_rows():
        for rule in rules.split(","):
            if rule == "读取":  # unreadable: the check rejects it too (its line in 12月代发)
                assert line - first + 2 in rejected
                continue
            mine = [i for i in (ids or "").split(",") if rule_of.get(i) == rule]
            assert mine, f"line {line} held for {rule}, but the check has no such finding ({ids})"
