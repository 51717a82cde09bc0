"""Canonical tables on disk: `normalise` once, then `check --canonical` read by the engine itself.

On the demo county (300 households): the findings equal a direct check's, on polars and DuckDB;
the counts add up; a missing table or column, or a wrong type, stops with a message naming the
table, the file and the column; Parquet outputs read back equal to findings.csv and rejects.csv;
past --report-rows the workbook is left out and the manifest says why. (Spark:
test_engines_canonical.py.)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.engines.runner import FINDINGS_OUT
from cardcheck.model import REJECTS, rejects_csv
from cardcheck.outputs.findings import FINDINGS_CSV
from cardcheck.report.files import escape_formulas

RUNNER = CliRunner()


def cli(*args: str | Path) -> str:
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: str | Path) -> str:
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def findings(out: Path) -> pl.DataFrame:
    return pl.read_csv(out / "findings.csv", schema=FINDINGS_CSV)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory, demo_county) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("canonical")
    demo = demo_county(300, 5)
    cli("normalise", "--inputs", demo, "--out", root / "canon", "--quiet")
    cli("check", "--inputs", demo, "--out", root / "direct", "--quiet", "--no-excel",
        "--parquet")
    return {"root": root, "demo": demo, "canon": root / "canon",
            "direct": root / "direct"}


def copy_canon(county: dict[str, Path], name: str) -> Path:
    dest = county["root"] / name
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(county["canon"], dest)
    return dest


def test_normalise_writes_a_part_per_table_and_a_manifest(county) -> None:
    canon = county["canon"]
    manifest = json.loads((canon / "manifests" / "141125.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "cardcheck-canonical" and manifest["cardcheck"]
    assert sorted(p.name for p in canon.iterdir()) == sorted([
        "accounts", "business", "deaths", "manifests", "officials", "other_roll", "payments",
        "payroll", "pensions", "prisoners", "rejects", "relatives", "roll", "transactions"])
    for table in manifest["tables"].values():
        df = pl.read_parquet(canon / table["path"])
        assert df.height == table["rows"]
        assert {c: str(t) for c, t in df.schema.items()} == table["schema"]
    direct = json.loads((county["direct"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == direct["counts"]  # the same reading as a direct check
    for c in manifest["counts"]:
        assert c["read"] == c["loaded"] + c["rejected"] + c["skipped"]
    assert manifest["tables"]["payments"]["rows"] == 4034  # the demo of 400 households, seed 11
    assert (canon / "roll" / "141125.parquet").stat().st_mode & 0o077 == 0  # owner-only


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_check_canonical_gives_the_direct_findings(county, engine: str) -> None:
    out = county["root"] / f"from_canon_{engine}"
    cli("check", "--canonical", county["canon"], "--out", out, "--engine", engine, "--quiet",
        "--no-excel", "--parquet")
    expected = findings(county["direct"])
    assert expected.height == 76
    assert_frame_equal(findings(out), expected)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "check --canonical"
    assert manifest["canonical"]["parts"] == ["141125"]
    assert manifest["canonical"]["rows"]["payments"] == 4034
    assert manifest["counts"][0]["file"] == "141125/救助对象名册.csv"
    assert manifest["written"]["parquet"] == ["findings_parquet", "rejects_parquet"]
    # Parquet written by the engine reads back as findings.csv and rejects.csv
    parquet = pl.read_parquet(out / "findings.parquet")
    assert parquet.schema == pl.Schema(FINDINGS_OUT)
    assert_frame_equal(escape_formulas(parquet), findings(out).select(list(FINDINGS_OUT)))
    # rejects.csv writes a workbook's line as sheet!row (rejects_csv), the Parquet keeps both
    assert_frame_equal(rejects_csv(pl.read_parquet(out / "rejects.parquet")),
                       pl.read_csv(out / "rejects.csv", infer_schema=False))


def test_past_report_rows_findings_and_ledger_only(county) -> None:
    out = county["root"] / "big"
    text = cli("check", "--canonical", county["canon"], "--out", out, "--report-rows", "1000")
    assert "发现问题 76 个" in text and "--report-rows 1,000" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "cardcheck.db", "findings.csv", "manifest.json"]
    assert_frame_equal(findings(out), findings(county["direct"]))
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["written"]
    assert written["workbook"] is False and written["rejects.csv"] is False
    assert "5,119 rows" in written["not_written"]


def test_two_counties_merge_by_copying_parts(county) -> None:
    merged = copy_canon(county, "merged")
    for kind in [p for p in merged.iterdir() if p.is_dir() and p.name != "manifests"]:
        shutil.copy(kind / "141125.parquet", kind / "141126.parquet")
    manifest = json.loads((merged / "manifests" / "141125.json").read_text(encoding="utf-8"))
    manifest["part"] = "141126"
    (merged / "manifests" / "141126.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = county["root"] / "merged_out"
    cli("check", "--canonical", merged, "--out", out, "--quiet", "--no-excel",
        "--rules", "P04")
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data["canonical"]["rows"]["payments"] == 2 * 4034
    assert data["canonical"]["warnings"] == []
    assert len(data["counts"]) == 2 * len(manifest["counts"])
    # every payment twice: each is now a duplicate payment (P04)
    assert findings(out).filter(pl.col("rule") == "P04").height > 2


def test_csv_canonical_tables_give_the_same_findings(county) -> None:
    folder = county["root"] / "as_csv"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for kind in ("roll", "accounts", "payments", "deaths"):
        pl.read_parquet(county["canon"] / kind).write_csv(folder / f"{kind}.csv")
    out = county["root"] / "from_csv"
    cli("check", "--canonical", folder, "--out", out, "--quiet", "--no-excel",
        "--rules", "C01,C03,E01,P03")
    expected = findings(county["direct"]).filter(pl.col("rule").is_in(["C01", "C03", "E01",
                                                                       "P03"]))
    assert expected.height == 13
    assert_frame_equal(findings(out), expected)


def test_missing_column_names_table_file_and_column(county) -> None:
    bad = copy_canon(county, "no_amount")
    path = bad / "payments" / "141125.parquet"
    pl.read_parquet(path).drop("amount", "memo_fund").write_parquet(path)
    text = fails("check", "--canonical", bad, "--out", county["root"] / "x1")
    assert (f"cardcheck: error: canonical table payments ({path}): no column amount, memo_fund "
            "(expected amount: Int64 (money in integer fen); memo_fund: String (text))"
            ) in text


def test_wrong_type_names_the_expected_type(county) -> None:
    bad = copy_canon(county, "float_amount")
    path = bad / "payments" / "141125.parquet"
    pl.read_parquet(path).with_columns(pl.col("amount") / 100,
                                       pl.col("pay_date").cast(pl.String)).write_parquet(path)
    for engine in ("polars", "duckdb"):
        text = fails("check", "--canonical", bad, "--out", county["root"] / "x2",
                     "--engine", engine)
        assert (f"canonical table payments ({path}): column pay_date is String, expected "
                "Date (a date, not text); column amount is Float64, expected Int64 (money in "
                "integer fen)") in text


def test_missing_table_and_url_without_spark(county) -> None:
    bad = copy_canon(county, "no_accounts")
    shutil.rmtree(bad / "accounts")
    text = fails("check", "--canonical", bad, "--out", county["root"] / "x3")
    assert (f"--canonical {bad}: no accounts table (expected accounts/ with Parquet files, "
            "as `cardcheck normalise` writes)") in text
    text = fails("check", "--canonical", "hdfs://nn:8020/canon", "--out", county["root"] / "x4")
    assert ("--canonical hdfs://nn:8020/canon: only --engine spark reads and writes URLs like "
            "hdfs://; with --engine polars give a local folder") in text
    text = fails("check", "--canonical", county["canon"], "--inputs", county["demo"],
                 "--out", county["root"] / "x5")
    assert "--inputs cannot be given with it" in text


def test_damaged_file_is_named(county) -> None:
    bad = copy_canon(county, "damaged")
    path = bad / "deaths" / "141125.parquet"
    path.write_bytes(b"not parquet at all")
    text = fails("check", "--canonical", bad, "--out", county["root"] / "x6")
    assert f"canonical table deaths: {path} cannot be read as PARQUET" in text


def test_explain_reads_the_canonical_tables_of_the_run(county) -> None:
    out = county["root"] / "from_canon_polars"
    if not (out / "manifest.json").exists():
        cli("check", "--canonical", county["canon"], "--out", out, "--quiet", "--no-excel")
    finding = findings(out).filter(pl.col("rule") == "C04").row(0, named=True)["finding_id"]
    via_canonical = cli("explain", finding, "--out", out)
    assert "(该发现涉及的人、户、卡在本次输入中找不到)" not in via_canonical
    via_direct = cli("explain", finding, "--out", county["direct"])

    def evidence(text: str) -> str:  # the ledger's section names its file and run times
        return re.sub(r"台账（.*?）.*?(?=\n\S|\Z)", "", text, flags=re.DOTALL)

    assert evidence(via_canonical) == evidence(via_direct)
    assert "台账" in via_canonical and "台账" in via_direct


def test_parquet_on_a_direct_check(county) -> None:
    direct = county["direct"]
    assert_frame_equal(escape_formulas(pl.read_parquet(direct / "findings.parquet")),
                       findings(direct).select(list(FINDINGS_OUT)))
    assert pl.read_parquet(direct / "rejects.parquet").schema == pl.Schema(REJECTS)
    outputs = json.loads((direct / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert outputs["findings_parquet"] == str(direct / "findings.parquet")


def test_another_config_than_normalise_used_is_a_warning(county) -> None:
    config = county["root"] / "mine.yaml"
    config.write_text("rules:\n  C05:\n    severity: medium\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["check", "--canonical", str(county["canon"]), "--out",
                                 str(county["root"] / "x7"), "--config", str(config),
                                 "--rules", "C05", "--no-excel", "--quiet"])
    assert result.exit_code == 0, result.output
    assert ("cardcheck: warning: canonical part 141125 was normalised with another "
            "configuration") in " ".join(result.output.split())
