"""The visit list a field team carries and signs: per household its place, 户号, 户主, 人数, address
and phone (from the roll and the accounts, kept in the ledger), cards, the problems with their
rule, name and amount, the status claimed in the ledger and by whom, and empty columns to fill
in and sign; masked unless --unmask; A4 landscape, header repeated, fit to width. A ledger
written before the ledger kept addresses still opens and samples."""

from __future__ import annotations

import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.ledger.store import Ledger
from cardcheck.masking import mask_value

BOOK = "抽查名单_重点抽查_seed{seed}.xlsx"
FILL_IN = ("走访人", "走访日期", "核实结果", "签字")


@pytest.fixture(scope="module")
def ledger(demo_county: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo county (300 households) checked, and every finding's status claimed by a
    township's returned 表4 in turn: 已整改, 不属实, or left 未整改."""
    folder = tmp_path_factory.mktemp("visit")
    result = CliRunner().invoke(app, ["check", "--inputs", str(demo_county(300, 5)), "--out",
                                      str(folder), "--quiet", "--no-excel"])
    assert result.exit_code == 0, result.output
    path = folder / "cardcheck.db"
    with Ledger(path) as book:
        ids = book.state().get_column("finding_id")
        claims = pl.DataFrame({"finding_id": ids, "status": [
            ("已整改", "不属实", None)[i % 3] for i in range(ids.len())]})
        book.apply_updates(claims, source="import 表4_柳林镇.xlsx", at="2026-11-02T10:00:00")
    return path


def sample(ledger: Path, out: Path, *extra: str, seed: int = 9) -> pl.DataFrame:
    result = CliRunner().invoke(app, ["sample", "--ledger", str(ledger), "--out", str(out),
                                      "--seed", str(seed), "--villages", "1", *extra])
    assert result.exit_code == 0, result.output
    sheet = fastexcel.read_excel(str(out / BOOK.format(seed=seed))).load_sheet(
        "走访名单", header_row=3, dtypes="string").to_polars()
    return sheet.filter(pl.col("户号").is_not_null())


def test_every_column_a_visit_needs(ledger: Path, tmp_path: Path) -> None:
    sheet = sample(ledger, tmp_path)
    assert sheet.columns == ["序号", "乡镇（街道）", "村（社区）", "户号", "户主", "人数", "住址",
                             "联系电话", "银行卡号", "问题（规则、金额）", "台账状态（认定单位、日期）",
                             *FILL_IN]
    with Ledger(ledger) as book:
        households = book.households()
        state = book.state()
    rows = sheet.join(households, left_on="户号", right_on="household_id", how="left")
    assert rows.height == sheet.height >= 20
    assert rows.get_column("address").is_not_null().all()
    assert rows["住址"].to_list() == rows["address"].to_list()
    assert rows["户主"].to_list() == rows["name"].to_list()
    assert rows["人数"].to_list() == rows["persons"].cast(pl.String).to_list()
    for got, phone, shown, cards in rows.select("联系电话", "phone", "银行卡号", "cards").iter_rows():
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", got) and got == mask_value("phone", phone)
        lines = shown.split("\n")  # a card a line: the roll's and those the findings name
        assert all(re.fullmatch(r"\d{4}\*{4}\d{4}", c) for c in lines), shown
        assert {mask_value("card", c) for c in cards.split(",")} <= set(lines)
    for col in FILL_IN:
        assert sheet.get_column(col).is_null().all(), col
    # the problems and the claims: a line each per finding of the household
    risky = rows.filter(~pl.col("问题（规则、金额）").str.starts_with("（"))
    assert risky.height >= 5
    for household, problems, claims in risky.select(
            "户号", "问题（规则、金额）", "台账状态（认定单位、日期）").iter_rows():
        mine = state.filter(pl.col("household_id") == household).sort("rule", "finding_id")
        lines, said = problems.split("\n"), claims.split("\n")
        assert len(lines) == len(said) == mine.height
        for i, (f, line, claim) in enumerate(zip(mine.iter_rows(named=True), lines, said)):
            assert line == f"{i + 1}. {f['rule']} {f['rule_name']} {f['amount'] / 100:.2f}元"
            if f["status"] == "未整改":
                assert claim.startswith(f"{i + 1}. 未整改（未反馈")
            else:
                assert claim.startswith(f"{i + 1}. {f['status']}（{f['owner']} 2026-11-02 导入 "
                                        "表4_柳林镇.xlsx"), claim
    statuses = "".join(risky["台账状态（认定单位、日期）"])
    assert "不属实（" in statuses and "已整改（" in statuses


def test_unmask_shows_the_numbers(ledger: Path, tmp_path: Path) -> None:
    sheet = sample(ledger, tmp_path, "--unmask")
    with Ledger(ledger) as book:
        households = book.households()
    rows = sheet.join(households, left_on="户号", right_on="household_id")
    assert rows["联系电话"].to_list() == rows["phone"].to_list()
    for shown, cards in rows.select("银行卡号", "cards").iter_rows():
        assert set(cards.split(",")) <= set(shown.split("\n"))
        assert all(re.fullmatch(r"\d{16,19}", c) for c in shown.split("\n"))


def test_it_prints_on_a4_landscape(ledger: Path, tmp_path: Path) -> None:
    sample(ledger, tmp_path)
    with zipfile.ZipFile(tmp_path / BOOK.format(seed=9)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
    setup = re.search(r"<pageSetup [^>]*/>", sheet)
    assert setup, sheet[:500]
    for attr in ('paperSize="9"', 'orientation="landscape"', 'fitToHeight="0"'):
        assert attr in setup.group(0), setup.group(0)
    assert '<pageSetUpPr fitToPage="1"/>' in sheet  # fit to the page's width
    assert "_xlnm.Print_Titles" in book and ">走访名单!$1:$4<" in book  # header on every page
    rows = [float(h) for h in re.findall(r'<row r="(?:[5-9]|\d\d+)"[^>]*\sht="([\d.]+)"', sheet)]
    assert rows and min(rows) >= 30  # room to sign


def test_an_old_ledger_opens_and_samples(ledger: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    shutil.copy(ledger, old)
    conn = sqlite3.connect(old)
    for col in ("address", "phone", "cards"):  # the households table as it was
        conn.execute(f"ALTER TABLE households DROP COLUMN {col}")
    conn.commit()
    conn.close()
    with Ledger(old) as book:
        households = book.households()
    assert households.height == 300 and households.get_column("address").is_null().all()
    result = CliRunner().invoke(app, ["sample", "--ledger", str(old), "--out", str(tmp_path),
                                      "--seed", "3", "--townships", "2"])
    assert result.exit_code == 0, result.output
    note = fastexcel.read_excel(str(tmp_path / BOOK.format(seed=3))).load_sheet(
        "走访名单", header_row=None, dtypes="string").to_polars().row(2)[0]
    assert "台账中无住址和电话" in note
