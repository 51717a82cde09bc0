"""重点抽查 visit list: reproducible with a seed, stratified by township, optionally weighted."""

from __future__ import annotations

import re
from pathlib import Path

import fastexcel
import polars as pl
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.example import example_run
from cardcheck.ledger.sampling import SampleSpec, draw, frame_of
from cardcheck.ledger.store import Ledger
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import Timer
from cardcheck.progress import Progress

HH = pl.DataFrame({
    "household_id": [f"H{i:03d}" for i in range(120)],
    "township": [f"镇{i % 4}" for i in range(120)],
    "village": [f"村{i % 10}" for i in range(120)],
    "name": ["某"] * 120, "persons": [1] * 120,
})
NO_RISK = pl.DataFrame(schema={"household_id": pl.String, "findings": pl.Int64,
                               "amount": pl.Int64})


def test_same_seed_same_sample() -> None:
    a = draw(HH, NO_RISK, SampleSpec(seed=11, villages=2, households=3))
    b = draw(HH.reverse(), NO_RISK, SampleSpec(seed=11, villages=2, households=3))
    c = draw(HH, NO_RISK, SampleSpec(seed=12, villages=2, households=3))
    assert a.equals(b)
    assert a["household_id"].to_list() != c["household_id"].to_list()


def test_stratified_covers_every_township() -> None:
    s = draw(HH, NO_RISK, SampleSpec(seed=3, villages=2, households=3))
    assert sorted(s["township"].unique()) == ["镇0", "镇1", "镇2", "镇3"]
    per = s.group_by("township", "village").len()
    assert per.group_by("township").len()["len"].to_list() == [2, 2, 2, 2]
    assert set(per["len"]) == {3} and s.height == 24
    assert s["seq"].to_list() == list(range(1, 25))


def test_townships_limit() -> None:
    s = draw(HH, NO_RISK, SampleSpec(seed=3, townships=2, villages=1, households=2))
    assert s["township"].n_unique() == 2 and s.height == 4


def test_weighted_prefers_risky_households() -> None:
    risky = HH.filter(pl.col("village") == "村0").select("household_id").with_columns(
        pl.lit(20, pl.Int64).alias("findings"), pl.lit(1_000_000, pl.Int64).alias("amount"))
    hits = {True: 0, False: 0}
    for weighted in (True, False):
        for seed in range(20):
            s = draw(HH, risky, SampleSpec(seed=seed, townships=1, villages=1, households=1,
                                           weighted=weighted))
            hits[weighted] += int(s["village"].to_list() == ["村0"])
    # 村0's households weigh 22 times the others': drawn in ~70% of seeds against ~10%
    assert hits[True] >= 10 and hits[False] <= 5, hits


def test_frame_of_the_roll_and_accounts() -> None:
    roll = pl.DataFrame({
        "household_id": ["H1", "H1", "H2", "H3", None],
        "relation": ["配偶", "户主", "户主", "户主", "户主"],
        "id_number": ["b", "a", "c", "d", "e"], "township": ["镇"] * 5, "village": ["村"] * 5,
        "name": ["妻", "夫", "丙", "丁", "戊"], "phone": ["13900000002", "13900000001", " ", None, "x"],
        "card_no": ["6217000000000002", "6217000000000001", "6217000000000003", None, "9"]})
    accounts = pl.DataFrame({
        "card_no": ["6217000000000001", "6217000000000003", "6217000000000002"],
        "address": ["东村1号", "东村3号", "东村2号"],
        "phone": ["13800000001", "13800000003", None]})
    f = frame_of(roll, accounts)
    assert f is not None
    assert f.rows() == [
        ("H1", "镇", "村", "夫", 2, "东村1号", "13900000001", "6217000000000001,6217000000000002"),
        ("H2", "镇", "村", "丙", 1, "东村3号", "13800000003", "6217000000000003"),
        ("H3", "镇", "村", "丁", 1, None, None, None)]
    assert frame_of(roll.drop("phone", "card_no"))["address"].to_list() == [None] * 3  # type: ignore[index]


def test_an_old_ledger_gets_the_new_household_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Ledger(path) as book:
        book.record_run(pl.DataFrame(schema={"finding_id": pl.String, "amount": pl.Int64,
                                             "months": pl.Int32, "evidence": pl.String}),
                        "自查自纠", [],
                        households=HH.head(3))
        for col in ("address", "phone", "cards"):  # the households table as it was
            book.conn.execute(f"ALTER TABLE households DROP COLUMN {col}")
    with Ledger(path) as book:
        households = book.households()
    assert households.columns == [*HH.columns, "address", "phone", "cards"]
    assert households.select("household_id", "name").rows() == [("H000", "某"), ("H001", "某"),
                                                               ("H002", "某")]
    assert households.get_column("address").is_null().all()


def test_sample_command(tmp_path: Path) -> None:
    ledger = tmp_path / "l.db"
    run = example_run(tmp_path / "r", quiet=True, ledger=ledger)
    write_outputs(run, Timer(), Progress(quiet=True))
    args = ["sample", "--stage", "重点抽查", "--ledger", str(ledger), "--out", str(tmp_path / "s"),
            "--seed", "42", "--villages", "1", "--households", "1"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert re.match(r"seed 42: 2 households in 2 townships; wrote .*抽查名单_重点抽查_seed42\.xlsx",
                    first.output)
    sheet = fastexcel.read_excel(str(tmp_path / "s" / "抽查名单_重点抽查_seed42.xlsx")).load_sheet(
        "抽查名单", header_row=2, dtypes="string").to_polars()
    second = CliRunner().invoke(app, args)
    assert second.output == first.output
    assert sheet["乡镇（街道）"].to_list() == ["柳林镇", "穆村镇"]
    with Ledger(ledger) as book:
        rows = book.conn.execute("SELECT seed, stage, households FROM samples").fetchall()
        items = book.conn.execute("SELECT household_id FROM sample_items WHERE sample_id = 1 "
                                  "ORDER BY seq").fetchall()
    assert rows == [(42, "重点抽查", 2), (42, "重点抽查", 2)]
    assert [i[0] for i in items] == sheet["户号"].to_list()
    bad = CliRunner().invoke(app, ["sample", "--stage", "抽查", "--ledger", str(ledger), "--out",
                                   str(tmp_path)])
    assert bad.exit_code == 2 and "--stage '抽查': expected one of" in bad.output
