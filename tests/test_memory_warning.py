"""Inputs too large for the free memory are announced before they are read, with the way that
fits; inputs that fit run without a word."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.ingest import checks


def sized(tmp_path: Path, name: str, n: int) -> Path:
    path = tmp_path / name
    path.write_bytes(b"x" * n)
    return path


def test_fitting_inputs_give_no_warning(tmp_path: Path) -> None:
    paths = {"payments": [sized(tmp_path, "p.csv", 1000)]}
    assert checks.memory_warning(paths, available=1000 * 7) is None


def test_inputs_past_free_memory_are_announced_with_the_canonical_way(tmp_path: Path) -> None:
    paths = {"payments": [sized(tmp_path, "p.csv", 1000)], "roll": [sized(tmp_path, "r.csv", 1000)]}
    text = checks.memory_warning(paths, available=2000 * 4)  # needs 2000 × 5
    assert text is not None
    assert "cardcheck normalise" in text and "--canonical" in text


def test_xlsx_counts_as_its_text_size(tmp_path: Path) -> None:
    paths = {"roll": [sized(tmp_path, "r.xlsx", 1000)]}
    assert checks.memory_warning(paths, available=1000 * 7) is not None  # 5000 bytes of text
    assert checks.memory_warning(paths, available=1000 * 34) is None


def test_a_missing_file_is_left_to_the_reader(tmp_path: Path) -> None:
    assert checks.memory_warning({"roll": [tmp_path / "gone.csv"]}, available=1) is None


def test_check_prints_the_warning_even_when_quiet_and_still_runs(tmp_path: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(checks, "available_memory", lambda: 100)
    f = {"roll": tmp_path / "roll.csv", "accounts": tmp_path / "accounts.csv",
         "payments": tmp_path / "payments.csv"}
    f["roll"].write_text("户编号,姓名,身份证号,与户主关系,救助类别,月保障金额,银行卡号\n"
                         "H001,张三,110101195001010019,户主,农村低保,300,6217000000000001\n",
                         encoding="utf-8")
    f["accounts"].write_text("卡号,户名,身份证号\n6217000000000001,张三,110101195001010019\n",
                             encoding="utf-8")
    f["payments"].write_text("卡号,户名,金额,摘要,发放日期\n"
                             "6217000000000001,张三,300.00,2023年04月农村低保,2023-04-10\n",
                             encoding="utf-8")
    result = CliRunner().invoke(app, [
        "check", "--roll", str(f["roll"]), "--accounts", str(f["accounts"]),
        "--payments", str(f["payments"]), "--out", str(tmp_path / "out"), "--no-excel", "-q",
        "--rules", "C01"])
    assert result.exit_code == 0, result.output
    assert "warning: the input files" in result.stderr
    assert "cardcheck normalise" in result.stderr
    assert (tmp_path / "out" / "findings.csv").exists()
