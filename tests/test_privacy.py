"""Personal data protected in what a run writes: no cell a spreadsheet would run as a formula
(CSV formula injection), owner-only files and folder, no temporary files left behind."""

from __future__ import annotations

import csv
import re
import stat
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from cardcheck.cli import app

HYPERLINK = '=HYPERLINK("http://x","点")'
ROLL = f"""户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,保障起始日期,银行卡号,乡镇,村
H001,"{HYPERLINK.replace('"', '""')}",110101195001010017,户主,农村低保,300,2020-01-01,6217000000000001,=镇,+村
H002,@SUM(A1),110101195002020013,户主,农村低保,300,2020-01-01,6217000000000002,-镇,@村
"""
ACCOUNTS = f"""卡号,户名,身份证号,开户日期
6217000000000001,"{HYPERLINK.replace('"', '""')}",110101195001010017,2019-01-01
6217000000000002,+1+1,110101195002020013,2019-01-01
"""
PAYMENTS = """卡号,户名,金额,摘要,发放日期
6217000000000001,=cmd|' /C calc'!A0,500.00,=1+1,2023-04-10
6217000000000002,@SUM(A1),300.00,2023年04月农村低保,2023-04-10
6217000000000002,@SUM(A1),300.00,2023年04月农村低保,2023-04-11
6217000000000003,-2+3,=2+2,2023年04月农村低保,2023-04-10
"""
PAYLOADS = (HYPERLINK, "@SUM(A1)", "+1+1", "=1+1", "=2+2", "=镇", "+村", "-镇", "@村")
FORMULA = re.compile(r"^[=+\-@]")


def run(folder: Path, *extra: str):
    for name, text in (("roll", ROLL), ("accounts", ACCOUNTS), ("payments", PAYMENTS)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, [
        "check", "--roll", str(folder / "roll.csv"), "--accounts", str(folder / "accounts.csv"),
        "--payments", str(folder / "payments.csv"), "--out", str(folder / "out"), "-q", *extra])
    assert result.exit_code == 0, result.output
    return folder / "out"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return run(tmp_path_factory.mktemp("hostile"))


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_findings_csv_escapes_every_formula_start(out: Path) -> None:
    found = rows(out / "findings.csv")
    cells = [v for row in found for v in row.values()]
    assert [v for v in cells if FORMULA.match(v)] == []
    assert sorted((r["rule"], r["name"], r["township"], r["village"]) for r in found) == [
        ("C03", "'@SUM(A1)", "'-镇", "'@村"),
        ("C05", "'" + HYPERLINK, "'=镇", "'+村"),
        ("E09", "'+1+1", "'-镇", "'@村"),
        ("P03", "'" + HYPERLINK, "'=镇", "'+村"),
        ("P04", "'@SUM(A1)", "'-镇", "'@村"),
    ]
    # evidence beginning with a hostile name is escaped too; inside a sentence it is harmless
    assert sorted(r["evidence"][:10] for r in found if r["evidence"].startswith("'")) == [
        "'=HYPERLIN", "'@SUM(A1)户", "'@SUM(A1)户"]


def test_rejects_csv_escapes_every_formula_start(out: Path) -> None:
    assert rows(out / "rejects.csv") == [
        {"file": "payments.csv", "line": "5", "column": "金额", "value": "'=2+2",
         "reason": "不是金额"}]


def test_cards_csv_escapes_every_formula_start(out: Path) -> None:
    with open(out / "表2_全部卡片.csv", encoding="utf-8-sig") as fh:
        cards = list(csv.DictReader(fh))
    assert [v for row in cards for v in row.values() if FORMULA.match(v)] == []
    assert [(r["乡镇（街道）"], r["村（社区）"], r["持卡人"], r["享受对象"]) for r in cards] == [
        ("'-镇", "'@村", "'+1+1", "'@SUM(A1)"),
        ("'=镇", "'+村", "'" + HYPERLINK, "'" + HYPERLINK),
    ]


def test_workbook_holds_hostile_text_as_text_never_as_formula(out: Path) -> None:
    [book] = out.glob("*.xlsx")
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    texts: list[str] = []
    formulas: list[str] = []
    with zipfile.ZipFile(book) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
                      for si in root.findall("m:si", ns)]
        for name in z.namelist():
            if not re.match(r"xl/worksheets/sheet\d+\.xml$", name):
                continue
            for cell in ElementTree.fromstring(z.read(name)).iter(f"{{{ns['m']}}}c"):
                f = cell.find("m:f", ns)
                if f is not None:
                    formulas.append(f.text or "")
                if cell.get("t") == "inlineStr":
                    texts.append("".join(t.text or "" for t in cell.iter(f"{{{ns['m']}}}t")))
                elif cell.get("t") == "s":
                    texts.append(shared[int(cell.find("m:v", ns).text)])
    assert not [f for f in formulas if any(p.lstrip("=+-@") in f for p in PAYLOADS)]
    for payload in (HYPERLINK, "@SUM(A1)", "=镇", "+村"):
        assert payload in texts or "'" + payload in texts, payload


def test_outputs_owner_only_and_no_temporary_files(tmp_path: Path, monkeypatch) -> None:
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    monkeypatch.chdir(cwd)
    ledger = tmp_path / "ledgers" / "county.db"
    ledger.parent.mkdir()
    out = run(tmp_path, "--ledger", str(ledger))
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"findings.csv": 0o600, "rejects.csv": 0o600, "manifest.json": 0o600,
                     "cardcheck_未知地区_202304.xlsx": 0o600, "表2_全部卡片.csv": 0o600}
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["county.db"]  # no journal left
    assert list(scratch.iterdir()) == [] and list(cwd.iterdir()) == []


def test_default_ledger_in_out_is_owner_only(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert stat.S_IMODE((out / "cardcheck.db").stat().st_mode) == 0o600
    assert sorted(p.name for p in out.iterdir()) == [
        "cardcheck.db", "cardcheck_未知地区_202304.xlsx", "findings.csv", "manifest.json",
        "rejects.csv", "表2_全部卡片.csv"]
