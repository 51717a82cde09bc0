"""`cardcheck precheck` on the demo's batch: every planted line held for its reason, every
look-alike released, nothing else held; 可发 and 暂缓 the input's bytes minus the other part's
lines; lines and money in = released + held; exit 0 / 1 / 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.demo.batch import BATCH, HISTORY

SIZES = [(300, 5, False), (420, 13, True)]


def check_run(demo: Path, out: Path) -> Path:
    """The check's ledger of the demo (C04/C07 findings the precheck holds cards by)."""
    if not (out / "cardcheck.db").exists():
        result = CliRunner().invoke(app, ["check", "--inputs", str(demo), "--out", str(out),
                                          "--no-excel", "-q"])
        assert result.exit_code == 0, result.output
    return out / "cardcheck.db"


def precheck(demo: Path, out: Path, ledger: Path, *extra: str, batch: Path | None = None
             ) -> tuple[int, str]:
    result = CliRunner().invoke(app, [
        "precheck", "--inputs", str(demo), "--batch", str(batch or demo / f"{BATCH}.csv"),
        "--payments", str(demo / f"{HISTORY}.csv"), "--month", "2023-12", "--ledger",
        str(ledger), "--out", str(out), *extra])
    return result.exit_code, result.output


def holds(out: Path, name: str = BATCH) -> dict[int, str]:
    """Held line -> its reasons, from the hold list."""
    sheet = fastexcel.read_excel(str(out / f"暂缓清单_{name}.xlsx")).load_sheet(
        "暂缓清单", header_row=3, dtypes="string").to_polars()
    return {int(float(line)): why for line, why in
            zip(sheet["行号"].to_list(), sheet["暂缓原因"].to_list(), strict=True)}


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module", params=SIZES, ids=lambda p: f"{p[0]}-{p[1]}-{'clean' if p[2] else 'messy'}")
def screened(request, demo_county, tmp_path_factory) -> tuple[Path, Path, int, str]:
    households, seed, clean = request.param
    demo = demo_county(households, seed, clean)
    work = tmp_path_factory.mktemp("precheck")
    ledger = work / "cardcheck.db"
    shutil.copy(check_run(demo, work / "run"), ledger)
    code, output = precheck(demo, work / "out", ledger)
    return demo, work, code, output


def test_every_planted_line_is_held_and_every_lookalike_released(screened) -> None:
    demo, work, code, output = screened
    assert code == 1, output
    truth = pl.read_csv(demo / f"{BATCH}_truth.csv")
    held = holds(work / "out")
    planted = truth.filter(pl.col("kind") == "planted")
    # one planted line of each kind, as the demo promises
    assert set(planted["rule"]) >= {"P01", "P03", "P04", "P06", "E01", "E02", "E03", "E04",
                                    "E05", "E06", "C03", "C04", "C05", "C07", "读取"}
    for row in planted.iter_rows(named=True):
        assert row["line"] in held, row
        assert held[row["line"]].startswith(row["rule"]) or f"；{row['rule']}" in held[row["line"]], (row, held[row["line"]])
    looks = truth.filter(pl.col("kind") == "lookalike")
    notes = " ".join(looks["note"])
    for kind in ("after the month", "released before the month", "guardian's card",
                 "allowed together", "starts 2023-12-01"):
        assert kind in notes
    for row in looks.iter_rows(named=True):
        assert row["line"] not in held, (row, held.get(row["line"]))
    assert set(held) == set(planted["line"]), "a line held that no plant explains"


def test_the_two_parts_are_the_input_split_byte_for_byte(screened) -> None:
    demo, work, _, _ = screened
    source = lines_of(demo / f"{BATCH}.csv")
    held = holds(work / "out")
    record = [ln[:1].isdigit() for ln in source]  # a payment line starts with its 序号
    assert not all(record) and sum(record) > len(held)
    released = lines_of(work / "out" / f"可发_{BATCH}.csv")
    kept = lines_of(work / "out" / f"暂缓_{BATCH}.csv")
    assert released == [ln for i, ln in enumerate(source, 1) if i not in held]
    assert kept == [ln for i, ln in enumerate(source, 1) if i in held or not record[i - 1]]


def test_lines_and_money_in_are_released_plus_held(screened) -> None:
    demo, work, _, _ = screened
    summary = json.loads((work / "out" / "precheck.json").read_text(encoding="utf-8"))["summary"]
    assert summary["lines"] == summary["released"]["lines"] + summary["held"]["lines"]
    assert summary["amount_fen"] == (summary["released"]["amount_fen"]
                                     + summary["held"]["amount_fen"])
    truth = pl.read_csv(demo / f"{BATCH}_truth.csv")
    assert summary["held"]["lines"] == truth.filter(pl.col("kind") == "planted").height
    body = [ln for ln in lines_of(demo / f"{BATCH}.csv") if ln[:1].isdigit()]
    assert summary["lines"] == len(body)
    by_reason = {r["rule"]: r["lines"] for r in summary["held_by_reason"]}
    assert by_reason["P04"] == 2 and by_reason["读取"] == 1
    assert next(r for r in summary["held_by_reason"] if r["rule"] == "读取")["amount_fen"] is None


def test_the_hold_list_is_masked_unless_unmask(screened, tmp_path) -> None:
    demo, work, _, _ = screened
    sheet = fastexcel.read_excel(str(work / "out" / f"暂缓清单_{BATCH}.xlsx")).load_sheet(
        "暂缓清单", header_row=3, dtypes="string").to_polars()
    cards = sheet["卡号"].drop_nulls()
    assert cards.len() and cards.str.contains(r"\*{4}").all()
    assert sheet["放行"].fill_null("").eq("").all()
    ledger = tmp_path / "l.db"
    code, _ = precheck(demo, tmp_path / "out", ledger, "--unmask", "-q")
    assert code == 1
    sheet = fastexcel.read_excel(str(tmp_path / "out" / f"暂缓清单_{BATCH}.xlsx")).load_sheet(
        "暂缓清单", header_row=3, dtypes="string").to_polars()
    assert not sheet["卡号"].drop_nulls().str.contains(r"\*").any()


def test_without_the_checks_ledger_c04_and_c07_lines_pass(screened, tmp_path) -> None:
    demo, _, _, _ = screened
    code, output = precheck(demo, tmp_path / "out", tmp_path / "fresh.db")
    assert code == 1
    truth = pl.read_csv(demo / f"{BATCH}_truth.csv")
    held = holds(tmp_path / "out")
    for row in truth.filter(pl.col("kind") == "planted").iter_rows(named=True):
        assert (row["line"] in held) == (row["rule"] not in ("C04", "C07")), row
    assert "还没有检查结果" in output


def test_a_batch_with_nothing_to_hold_exits_0(screened, tmp_path) -> None:
    demo, work, _, _ = screened
    clean = tmp_path / "报盘_复核.csv"
    shutil.copy(work / "out" / f"可发_{BATCH}.csv", clean)
    ledger = tmp_path / "cardcheck.db"
    shutil.copy(work / "run" / "cardcheck.db", ledger)  # the check's: C04/C07 cards known
    code, output = precheck(demo, tmp_path / "out", ledger, batch=clean)
    assert code == 0, output
    assert (tmp_path / "out" / "可发_报盘_复核.csv").read_bytes() == clean.read_bytes()
    assert lines_of(tmp_path / "out" / "暂缓_报盘_复核.csv") == [
        ln for ln in lines_of(clean) if not ln[:1].isdigit()]


@pytest.mark.parametrize("args, message", [
    (["--month", "2023-13"], "--month"),
    (["--month", "十二月"], "--month"),
])
def test_bad_input_exits_2(demo_county, tmp_path, args, message) -> None:
    demo = demo_county(300, 5, False)
    result = CliRunner().invoke(app, [
        "precheck", "--inputs", str(demo), "--batch", str(demo / f"{BATCH}.csv"),
        "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_batch_that_is_no_payments_file_exits_2(demo_county, tmp_path) -> None:
    demo = demo_county(300, 5, False)
    result = CliRunner().invoke(app, [
        "precheck", "--inputs", str(demo), "--batch", str(demo / "服刑人员名单.csv"),
        "--month", "2023-12", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "服刑人员名单.csv" in result.output
    assert not (tmp_path / "out" / "可发_服刑人员名单.csv").exists()


def test_missing_options_exit_2(tmp_path) -> None:
    result = CliRunner().invoke(app, ["precheck", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--batch" in result.output and "--month" in result.output


def test_a_roll_without_a_usable_row_exits_2(demo_county, tmp_path) -> None:
    demo = demo_county(300, 5, False)
    roll = tmp_path / "名册.csv"
    roll.write_text("户编号,姓名,身份证号码,救助类别,月保障金额,银行卡号\n"
                    "1,张三,110101199003071234,不存在的类别,300,6217000000000001\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, [
        "precheck", "--batch", str(demo / f"{BATCH}.csv"), "--roll", str(roll),
        "--month", "2023-12", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--roll" in result.output and "名册.csv" in result.output
    assert not (tmp_path / "out" / f"可发_{BATCH}.csv").exists()
