"""findings.csv says each finding's ledger status and its amount in 元; findings.xlsx is the
same table for Excel, with no digit of an ID or card number lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from cardcheck.ledger.store import Ledger
from cardcheck.outputs.findings import yuan
from cardcheck.pipeline.options import CheckOptions
from cardcheck.pipeline.run import run_check


def check(county: Path, out: Path, **kw: object) -> pl.DataFrame:
    run_check(CheckOptions(roll=None, accounts=None, payments=[], out=out, inputs=county,
                           quiet=True, **kw))  # type: ignore[arg-type]
    return pl.read_csv(out / "findings.csv", infer_schema=False)


@pytest.mark.parametrize("fen,text", [(879600, "8796.00"), (5, "0.05"), (0, "0.00"),
                                      (-1234, "-12.34"), (100, "1.00"), (None, None),
                                      (10**12 + 7, "10000000000.07")])
def test_yuan_text_is_exact(fen: int | None, text: str | None) -> None:
    got = pl.DataFrame({"a": [fen]}, schema={"a": pl.Int64}).select(yuan("a")).item()
    assert got == text


@pytest.mark.parametrize("households,seed", [(300, 5), (600, 11)])
def test_a_finding_marked_unfounded_stays_in_findings_csv_with_its_status(
        demo_county, tmp_path: Path, households: int, seed: int) -> None:
    county = demo_county(households, seed)
    out = tmp_path / "out"
    first = check(county, out)
    assert set(first["status"]) == {"未整改"}
    cents = first["amount_yuan"].str.replace(".", "", literal=True).cast(pl.Int64)
    assert (cents == first["amount"].cast(pl.Int64)).all()
    marked = first["finding_id"].sample(3, seed=seed).to_list()
    with Ledger(out / "cardcheck.db") as ledger:
        ledger.apply_updates(pl.DataFrame({"finding_id": marked, "status": ["不属实"] * 3}))
    again = check(county, out)
    assert again.height == first.height  # still found in the data
    status = dict(zip(again["finding_id"], again["status"]))
    assert {status[i] for i in marked} == {"不属实"}
    # the workbook's 表4 shows what is open to act on: all but the three
    book = openpyxl.load_workbook(next(out.glob("cardcheck_*.xlsx")), read_only=True)
    ids = {row[0] for row in book["表4"].iter_rows(values_only=True)
           if isinstance(row[0], str) and len(row[0]) == 12}
    assert ids == set(again["finding_id"]) - set(marked)


def test_findings_xlsx_keeps_every_digit_as_text(demo_county, tmp_path: Path) -> None:
    county = tmp_path / "county"
    shutil.copytree(demo_county(300, 5), county)
    found = check(county, tmp_path / "out", findings_xlsx=True)
    book = openpyxl.load_workbook(tmp_path / "out" / "findings.xlsx")
    ws = book.active
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[2])
    assert header[:3] == ["问题编号", "规则", "规则名称"] and "涉及金额(元)" in header
    body = [r for r in rows[3:] if isinstance(r[0], str) and len(r[0]) == 12]
    assert len(body) == found.height
    cards = {r[header.index("卡号")] for r in body} - {None}
    assert cards and all(isinstance(c, str) for c in cards)  # text cells: no 6.2E+18
    assert cards == set(found["card_no"].drop_nulls())
    ids = {r[header.index("身份证号")] for r in body} - {None}
    assert ids == set(found["id_number"].drop_nulls())
    money = {r[0]: r[header.index("涉及金额(元)")] for r in body}
    for fid, fen in zip(found["finding_id"], found["amount"]):
        assert round(float(money[fid] or 0) * 100) == int(fen or 0)
