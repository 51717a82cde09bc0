"""Personal data protected in what a run writes: no cell a spreadsheet would run as a formula
(CSV formula injection), owner-only files and folder, no temporary files left behind; and the
acceptance test of masking: a demo county with IDs and cards written into memos and addresses,
a township named with rich markup and escape sequences and a file name holding them, through a
default check, graph, explain, sample, ledger export, tokenize and inspect — no output but
findings.csv and the ledger (the evidence files) holds a 15–19 digit run or an input's ID or
card number, no output and no stream holds a raw escape character, and --unmask shows the full
values where it promises to."""

from __future__ import annotations

import csv
import io
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.ingest import load_inputs
from cardcheck.pipeline.options import read_inputs_file

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



# ------------------------------------------------------------------ acceptance: a hostile county

ESC_TOWN = "[/]{town}\x1b]0;pwn\x07\x1b[31m"  # rich markup, an OSC title and a colour
ESC_FILE = "服刑[red]\x1b[2J名单.csv"  # a file name with markup and a clear-screen sequence
BAD_ID = "90817263"  # a bad 8-digit ID on the roll (E09)
RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{15,19}[Xx]?(?![0-9A-Za-z])")
FULL = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")  # full-width digits count too
LONG = re.compile(r"[0-9Xx]{12,}")
ID_COLUMNS = ("id_number", "payee_id", "holder_id", "agent_id", "official_id", "relative_id",
              "head_id")
CARD_COLUMNS = ("card_no", "counterparty_account")
EVIDENCE = {"findings.csv", "cardcheck.db"}  # the evidence files: full values, documented


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    raise AssertionError("demo file in an unknown encoding")


def _csv_rows(path: Path) -> tuple[list[list[str]], str]:
    text, encoding = _decode(path.read_bytes())
    return list(csv.reader(io.StringIO(text))), encoding


def _write_rows(path: Path, rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def hostile_county(demo: Path, folder: Path) -> dict[str, object]:
    """A copy of the demo county with IDs and cards written into the payments' memos and the
    accounts' addresses, a township renamed with markup and escape sequences, a bad 8-digit ID,
    rejected rows quoting an ID, and a list file named with markup and an escape sequence."""
    shutil.copytree(demo, folder)
    names = yaml.safe_load((folder / "inputs.yaml").read_text(encoding="utf-8"))
    roll_path = folder / names["roll"]
    rows, encoding = _csv_rows(roll_path)
    header = next(i for i, r in enumerate(rows) if "身份证号码" in r)
    col = {name: rows[header].index(name) for name in ("乡镇", "身份证号码", "银行卡号")}
    data = [r for r in rows[header + 1:] if len(r) == len(rows[header]) and r[0].isdigit()]
    town = data[0][col["乡镇"]]
    ids = [r[col["身份证号码"]].upper() for r in data
           if re.fullmatch(r"[0-9]{17}[0-9Xx]", r[col["身份证号码"]])]
    cards = sorted({r[col["银行卡号"]] for r in data if len(r[col["银行卡号"]]) >= 16})
    for r in data:
        if r[col["乡镇"]] == town:
            r[col["乡镇"]] = ESC_TOWN.format(town=town)
    next(r for r in data if r[col["身份证号码"]].upper() == ids[7])[col["身份证号码"]] = BAD_ID
    ids = ids[:7] + ids[8:]  # the IDs still on the roll
    _write_rows(roll_path, rows, encoding)

    pay_path = folder / names["payments"][0]
    rows, encoding = _csv_rows(pay_path)
    memo, name = rows[0].index("摘要"), rows[0].index("户名")
    for i, r in enumerate(rows[1:], start=1):
        if i % 10 == 0:
            r[memo] += f"（代领人身份证{ids[i % len(ids)]}，转卡{cards[i % len(cards)]}）"
        elif i % 10 == 5:  # written in full-width digits
            r[memo] += f"代领{ids[i % len(ids)].translate(str.maketrans('0123456789', '０１２３４５６７８９'))}"
    nul, huge = list(rows[1]), list(rows[1])
    nul[name] = f"张三\x00{ids[0]}"  # rejected: the cell quoted in rejects.csv
    huge[memo] = ids[1] + "备注" * 6000
    _write_rows(pay_path, [*rows, nul, huge], encoding)

    accounts = pl.read_excel(folder / names["accounts"], infer_schema_length=0)
    (folder / names["accounts"]).unlink()
    # the same words on every address: addresses shared by households stay shared (C04)
    accounts.with_columns(pl.col("联系地址") + f"(户主身份证{ids[2]},卡{cards[3]})").write_csv(
        folder / "账户信息.csv")
    names["accounts"] = "账户信息.csv"
    (folder / names["refs"]["prisoners"]).rename(folder / ESC_FILE)
    names["refs"]["prisoners"] = ESC_FILE
    (folder / "inputs.yaml").write_text(yaml.safe_dump(names, allow_unicode=True), encoding="utf-8")

    frames = load_inputs(read_inputs_file(folder), load_config()).frames
    values = {BAD_ID}
    households: set[str] = set()
    for df in frames.values():
        for c in (*ID_COLUMNS, *CARD_COLUMNS):
            if c in df.columns:
                values |= {v for v in df.get_column(c).drop_nulls().to_list() if len(v) >= 12}
        if "household_id" in df.columns:
            households |= set(df.get_column("household_id").drop_nulls().to_list())
    return {"folder": folder, "values": values, "households": households, "ids": ids,
            "cards": cards, "town": town}


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist()
                             if n.endswith(".xml"))
    return _decode(path.read_bytes())[0]


def leaks(text: str, county: dict[str, object]) -> dict[str, list[str]]:
    """The 15–19 digit runs (户编号 aside) and the inputs' ID and card values in `text`."""
    values, households = county["values"], county["households"]
    assert isinstance(values, set) and isinstance(households, set)
    text = text.translate(FULL)
    runs = sorted({m.group(0) for m in RUN.finditer(text)} - households)
    found = sorted(({m.group(0).upper() for m in LONG.finditer(text)} & values)
                   | ({BAD_ID} if BAD_ID in text else set()))
    return {k: v for k, v in (("runs", runs), ("values", found)) if v}


def invoke_all(county: dict[str, object], work: Path, *unmask: str) -> dict[str, object]:
    """check, graph, explain (a finding of each rule family and one on a hostile address),
    sample, ledger export, tokenize, inspect and a failing check: their results and the folders
    they wrote; with --unmask only the commands that take it."""
    folder = county["folder"]
    assert isinstance(folder, Path)
    run = work / "run"
    # --verbose: the summary in full, every township and input file shown (as text)
    results = {"check": invoke("check", "--inputs", str(folder), "--out", str(run), "--verbose",
                               *unmask)}
    assert results["check"].exit_code == 0, results["check"].output
    found = pl.read_csv(run / "findings.csv", infer_schema=False)
    hostile = found.filter(pl.col("hub").str.starts_with("address:"))
    assert hostile.height, "no finding on a shared address: the county lost its C04 case"
    picks = [found.filter(pl.col("rule").str.starts_with(f)).sort("finding_id").item(0, "finding_id")
             for f in "CPE"] + [hostile.sort("finding_id").item(0, "finding_id")]
    for fid in picks:
        results[f"explain {fid}"] = invoke("explain", fid, "--out", str(run), *unmask)
    results["graph"] = invoke("graph", "--run", str(run), "--out", str(work / "graph" / "g.graphml"),
                              *unmask)
    ledger = str(run / "cardcheck.db")
    results["export"] = invoke("ledger", "export", "--ledger", ledger, "--out",
                               str(work / "export"), *unmask)
    if unmask:
        return {"results": results, "dirs": [run, work / "graph", work / "export"]}
    results["sample"] = invoke("sample", "--ledger", ledger, "--out", str(work / "sample"),
                               "--seed", "3")
    (work / "key.txt").write_text("k" * 32, encoding="utf-8")
    results["tokenize"] = invoke("tokenize", "--key-file", str(work / "key.txt"), str(folder),
                                 str(work / "tok"))
    names = yaml.safe_load((folder / "inputs.yaml").read_text(encoding="utf-8"))
    results["inspect"] = invoke("inspect", str(folder / names["payments"][0]),
                                str(folder / names["accounts"]), str(folder / ESC_FILE))
    results["error"] = invoke("check", "--roll", str(folder / ("不存在" + ESC_FILE)),
                              "--accounts", str(folder / names["accounts"]),
                              "--payments", str(folder / names["payments"][0]),
                              "--out", str(work / "none"))
    for name, result in results.items():
        assert result.exit_code == (2 if name == "error" else 0), (name, result.output)
    return {"results": results, "dirs": [run, work / "graph", work / "export", work / "sample",
                                         work / "tok"]}


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture(scope="module", params=[(300, 5), (340, 12)], ids=["300-5", "340-12"])
def hostile(request, demo_county, tmp_path_factory) -> dict[str, object]:
    households, seed = request.param
    work = tmp_path_factory.mktemp(f"hostile-{households}-{seed}")
    county = hostile_county(demo_county(households, seed), work / "county")
    return {**county, **invoke_all(county, work / "masked")}


def test_no_output_holds_an_id_or_card_but_the_evidence_files(hostile) -> None:
    written = [p for d in hostile["dirs"] for p in sorted(d.rglob("*")) if p.is_file()]
    assert {p.suffix for p in written} >= {".csv", ".xlsx", ".graphml", ".json", ".yaml"}
    assert len(written) >= 20
    found = {str(p): got for p in written if p.name not in EVIDENCE
             if (got := leaks(_text(p), hostile))}
    for name, result in hostile["results"].items():
        for stream in ("stdout", "stderr"):
            if got := leaks(getattr(result, stream), hostile):
                found[f"{name} {stream}"] = got
    assert found == {}
    # the evidence file does hold them: the scan would see a leak
    run = hostile["dirs"][0]
    assert leaks(_text(run / "findings.csv"), hostile)["values"]


def test_ids_in_free_text_are_masked_and_tokenised_where_they_stand(hostile) -> None:
    run, tok = hostile["dirs"][0], hostile["dirs"][-1]
    ids, cards = hostile["ids"], hostile["cards"]
    book = _text(next(p for p in run.iterdir() if p.suffix == ".xlsx"))
    assert f"(户主身份证{ids[2][:6]}********{ids[2][-4:]},卡{cards[3][:4]}****" in book  # a hub
    pay = pl.read_csv(tok / "代发明细.tokenised.csv", infer_schema=False)
    memos = pay.filter(pl.col("memo").str.contains("代领人"))
    assert memos.height > 20
    tokens = set(memos.get_column("memo").str.extract_all(r"(?:T|BAD)[0-9A-F]{24}").explode()
                 .to_list())
    columns: set[str] = set()
    for path in tok.glob("*.tokenised.csv"):
        df = pl.read_csv(path.read_bytes(), infer_schema=False)
        for c in (*ID_COLUMNS, *CARD_COLUMNS):
            if c in df.columns:
                columns |= set(df.get_column(c).drop_nulls().to_list())
    # each ID and card written in a memo got the token its column value gets
    assert len(tokens) > 20 and tokens <= columns
    assert not [v for v in (*ids, *cards) if v in (tok / "账户信息.tokenised.csv").read_text()]


def test_no_escape_character_reaches_a_file_or_the_terminal(hostile) -> None:
    written = [p for d in hostile["dirs"] for p in d.rglob("*")
               if p.is_file() and p.name != "cardcheck.db"]
    raw = [str(p) for p in written if "\x1b" in _text(p) or "\x9b" in _text(p)]
    raw += [f"{name} {stream}" for name, result in hostile["results"].items()
            for stream in ("stdout", "stderr") if "\x1b" in getattr(result, stream)]
    raw += [str(p) for p in written if "\x1b" in p.name]
    assert raw == []
    town = ESC_TOWN.format(town=hostile["town"])
    shown = town.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    check = hostile["results"]["check"]
    assert shown in check.stdout  # the summary shows the markup and the sequences as text
    assert "服刑[red]\\x1b[2J名单.csv" in check.stdout and "服刑[red]\\x1b[2J名单.csv" in check.stderr
    assert "服刑[red]\\x1b[2J名单.csv" in hostile["results"]["inspect"].stdout
    assert "不存在服刑[red]\\x1b[2J名单.csv" in hostile["results"]["error"].stderr
    findings = pl.read_csv(hostile["dirs"][0] / "findings.csv", infer_schema=False)
    assert shown in findings.get_column("township").to_list()


def test_unmask_shows_the_full_values_where_promised(demo_county, tmp_path: Path) -> None:
    hostile = hostile_county(demo_county(300, 5), tmp_path / "county")
    full = invoke_all(hostile, tmp_path, "--unmask")
    run = full["dirs"][0]
    ids = hostile["ids"]
    rejects = (run / "rejects.csv").read_text(encoding="utf-8")
    assert ids[0] in rejects and ids[1] in rejects  # the cells quoted, in full
    book = _text(next(p for p in run.iterdir() if p.suffix == ".xlsx"))
    graph = (tmp_path / "graph" / "g.graphml").read_text(encoding="utf-8")
    export = _text(next((tmp_path / "export").iterdir()))
    for text in (book, graph, export, full["results"]["check"].stdout):
        assert leaks(text, hostile).get("values"), text[:200]
    assert [f"person:{i}" in graph for i in ids[:3]] == [True] * 3
    assert f"(户主身份证{ids[2]},卡{hostile['cards'][3]})" in book  # the hub address in full
    for name, result in full["results"].items():
        if name.startswith("explain"):
            assert leaks(result.stdout, hostile).get("values"), result.stdout
