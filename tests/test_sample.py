"""重点抽查's draw: reproducible with a seed, stratified by township, weighted by the findings
(count, severity, money) and their claimed status unless --uniform, with a floor for clean
places; the weights of configs/sampling.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.errors import ConfigError
from cardcheck.example import example_run
from cardcheck.ledger.sampling import (
    SampleSpec,
    Weights,
    draw,
    frame,
    frame_of,
    household_risk,
    weights_of,
)
from cardcheck.ledger.store import STATUSES, Ledger
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
NO_CLAIMS = pl.DataFrame(schema={"finding_id": pl.String, "at": pl.String, "source": pl.String})


def state(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Ledger findings: household_id plus what differs from a high, 1,000 元, 未整改 finding."""
    base = {"rule": "C04", "rule_name": "代管代取", "severity": "high", "amount": 100_000,
            "status": "未整改", "owner": "柳林镇民政办", "present": True, "card_no": None}
    full = [{**base, "finding_id": f"F{i:04d}", **r} for i, r in enumerate(rows)]
    return pl.DataFrame(full, schema_overrides={"amount": pl.Int64, "card_no": pl.String})


def test_same_seed_same_sample() -> None:
    risk = household_risk(state([{"household_id": f"H{i:03d}"} for i in range(0, 120, 7)]),
                          NO_CLAIMS, Weights())
    a = draw(HH, risk, SampleSpec(seed=11, villages=2, households=3))
    b = draw(HH.reverse(), risk.reverse(), SampleSpec(seed=11, villages=2, households=3))
    c = draw(HH, risk, SampleSpec(seed=12, villages=2, households=3))
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


def test_a_findings_weight() -> None:
    """(severity + money points) × status, in thousandths; money capped at max_points."""
    rows = [{"household_id": "A", "amount": 200_000},  # high 20 + 2,000 元 / 500 = 4
            {"household_id": "A", "severity": "low", "amount": 0, "status": "不属实"},  # 6 × 3
            {"household_id": "B", "severity": "medium", "amount": 10**9,  # 12 + 20 (cap)
             "status": "已整改", "present": False},  # × 2
            {"household_id": "C", "severity": None, "amount": None, "status": "整改中"}]
    risk = household_risk(state(rows), NO_CLAIMS, Weights()).sort("household_id")
    assert risk["risk"].to_list() == [24_000 + 18_000, 64_000, 0]
    assert risk["findings"].to_list() == [2, 1, 1]
    assert risk["claimed"].to_list() == [1, 1, 0]
    hh = frame(HH.with_columns(pl.col("household_id").replace({"H000": "A", "H001": "B"})),
               risk, SampleSpec(seed=1))
    assert hh["weight"].head(3).to_list() == [43.0, 65.0, 1.0]  # household 1 + risk


def test_weighted_prefers_risky_households() -> None:
    risky = household_risk(state([{"household_id": h} for h in
                                  HH.filter(pl.col("village") == "村0")["household_id"]]),
                           NO_CLAIMS, Weights())
    hits = {True: 0, False: 0}
    for weighted in (True, False):
        for seed in range(40):
            s = draw(HH, risky, SampleSpec(seed=seed, townships=1, villages=1, households=1,
                                           weighted=weighted))
            hits[weighted] += int(s["village"].to_list() == ["村0"])
    # 村0 is the only village with findings: drawn nearly always, against 1 in 10 uniformly
    assert hits[True] >= 30 and hits[False] <= 10, hits


def test_uniform_ignores_the_risk() -> None:
    risky = household_risk(state([{"household_id": f"H{i:03d}"} for i in range(0, 120, 3)]),
                           NO_CLAIMS, Weights())
    for seed in range(5):
        spec = SampleSpec(seed=seed, townships=2, villages=1, households=2, weighted=False)
        assert draw(HH, risky, spec)["household_id"].equals(
            draw(HH, NO_RISK, spec)["household_id"])
        assert set(draw(HH, risky, spec)["weight"]) == {1.0}


def floor_frame(levels: str) -> pl.DataFrame:
    """Four places of 30 households; three with 3 risky households, 镇3 (or 村3) with none."""
    n = 120
    return pl.DataFrame({
        "household_id": [f"H{i:03d}" for i in range(n)],
        "township": [f"镇{i // 30}" if levels == "township" else "镇0" for i in range(n)],
        "village": [f"村{i // 30}" for i in range(n)],
        "name": ["某"] * n, "persons": [1] * n})


@pytest.mark.parametrize("level", ["township", "village"])
def test_a_clean_place_is_drawn_rarely(level: str) -> None:
    hh = floor_frame(level)
    risky = [f"H{i:03d}" for i in range(90) if i % 30 < 3]
    risk = household_risk(state([{"household_id": h} for h in risky]), NO_CLAIMS, Weights())
    clean = "镇3" if level == "township" else "村3"
    drawn = {True: 0, False: 0}
    for weighted in (True, False):
        for seed in range(400):
            spec = SampleSpec(seed=seed, townships=1, villages=1, households=1,
                              weighted=weighted)
            drawn[weighted] += int(draw(hh, risk, spec)[level].to_list() == [clean])
    # floor 0.1 of the mean: 0.1 × 0.75 / (3 + 0.075), about 1 seed in 40; uniformly 1 in 4
    assert 0 < drawn[True] <= 20 and drawn[False] >= 70, drawn


def test_no_findings_anywhere_draws_uniformly() -> None:
    spec = SampleSpec(seed=5, townships=2, villages=1, households=2)
    assert draw(HH, NO_RISK, spec)["household_id"].equals(
        draw(HH, NO_RISK, SampleSpec(seed=5, townships=2, villages=1, households=2,
                                     weighted=False))["household_id"])


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


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "本县设置.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_weights_come_from_the_config(tmp_path: Path) -> None:
    assert weights_of(load_config(), STATUSES) == Weights()  # the YAML says what the code does
    mine = weights_of(load_config(config_file(tmp_path, (
        "sampling:\n  status:\n    已整改: 5\n  floor:\n    township: 0\n"))), STATUSES)
    assert mine.status == {**Weights().status, "已整改": 5.0}
    assert mine.township_floor == 0.0 and mine.village_floor == 0.1
    assert mine.severity == Weights().severity


@pytest.mark.parametrize(("text", "message"), [
    ("sampling:\n  status:\n    已整该: 2\n",
     "sampling.status.已整该: expected a status of report.statuses (未整改、整改中、已整改、不属实、销号)"),
    ("sampling:\n  severity:\n    high: -1\n",
     "sampling.severity.high: expected a number from 0, got -1"),
    ("sampling:\n  money:\n    yuan_per_point: .nan\n",
     "sampling.money.yuan_per_point: expected a number above 0, got nan"),
    ("sampling:\n  money:\n    yuan_per_point: 0\n",
     "sampling.money.yuan_per_point: expected a number above 0, got 0"),
    ("sampling:\n  floor:\n    town: 1\n", "sampling.floor.town: expected one of"),
    ("sampling:\n  weights: 1\n", "sampling.weights: expected one of household"),
    ("sampling: [1]\n", "sampling: expected a mapping"),
])
def test_bad_weights_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        weights_of(load_config(config_file(tmp_path, text)), STATUSES)
    assert message in str(err.value)


def test_sample_command(tmp_path: Path) -> None:
    ledger = tmp_path / "l.db"
    run = example_run(tmp_path / "r", quiet=True, ledger=ledger)
    write_outputs(run, Timer(), Progress(quiet=True))
    args = ["sample", "--stage", "重点抽查", "--ledger", str(ledger), "--out", str(tmp_path / "s"),
            "--seed", "42", "--villages", "1", "--households", "1"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert re.match(r"随机种子 42（按风险加权）：抽取 2 个乡镇 2 个村 2 户，其中台账有问题 2 户"
                    r"（标为已整改、不属实或销号 0 户）\n走访名单：.*抽查名单_重点抽查_seed42\.xlsx",
                    first.output), first.output
    sheet = fastexcel.read_excel(str(tmp_path / "s" / "抽查名单_重点抽查_seed42.xlsx")).load_sheet(
        "走访名单", header_row=3, dtypes="string").to_polars().filter(pl.col("户号").is_not_null())
    second = CliRunner().invoke(app, args)
    assert second.output == first.output
    assert sheet["乡镇（街道）"].to_list() == ["柳林镇", "穆村镇"]
    with Ledger(ledger) as book:
        rows = book.conn.execute("SELECT seed, stage, households, params FROM samples").fetchall()
        items = book.conn.execute("SELECT household_id FROM sample_items WHERE sample_id = 1 "
                                  "ORDER BY seq").fetchall()
    assert [r[:3] for r in rows] == [(42, "重点抽查", 2), (42, "重点抽查", 2)]
    assert '"status": {"未整改": 1.0, "整改中": 1.0, "已整改": 2.0, "不属实": 3.0, "销号": 2.0}' in rows[0][3]
    assert [i[0] for i in items] == sheet["户号"].to_list()
    uniform = CliRunner().invoke(app, [*args, "--uniform"])
    assert uniform.exit_code == 0 and uniform.output.startswith("随机种子 42（等概率）")
    bad = CliRunner().invoke(app, ["sample", "--stage", "抽查", "--ledger", str(ledger), "--out",
                                   str(tmp_path)])
    assert bad.exit_code == 2 and "--stage '抽查': expected one of" in bad.output
    config = config_file(tmp_path, "sampling:\n  household: yes\n")
    bad = CliRunner().invoke(app, [*args, "--config", str(config)])
    assert bad.exit_code == 2 and "sampling.household: expected a number from 0" in bad.output
