"""The demo county: files, shapes, valid numbers, determinism, and the truth it promises.

Small counties (300–400 households) keep these fast; scale is measured outside the suite. The
county, its frames and its files are the shared fixtures of conftest.py; only the tests of the
generator writing files (the same bytes again, `cardcheck demo`) write counties of their own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from cardcheck.cli import app
from cardcheck.config import load_config
from cardcheck.demo import build, write_demo
from cardcheck.demo.files import FILES
from cardcheck.demo.score import score
from cardcheck.errors import CardcheckError
from cardcheck.normalize.cards import luhn_ok
from cardcheck.normalize.ids import id_status

N, SEED = 400, 3
RULES = [f"C0{i}" for i in range(1, 9)] + [f"P0{i}" for i in range(1, 7)] + [
    f"E0{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def demo(demo_build):
    return demo_build(N, SEED)


@pytest.fixture(scope="module")
def frames(demo_frames):
    return demo_frames(N, SEED)[0]


@pytest.fixture(scope="module")
def messy(demo_county) -> Path:
    return demo_county(N, SEED)


@pytest.fixture(scope="module")
def clean(demo_county) -> Path:
    return demo_county(N, SEED, clean=True)


def inputs(folder: Path) -> dict[str, list[Path]]:
    spec = yaml.safe_load((folder / "inputs.yaml").read_text(encoding="utf-8"))
    return {"roll": [folder / spec["roll"]], "accounts": [folder / spec["accounts"]],
            "payments": [folder / p for p in spec["payments"]],
            "transactions": [folder / p for p in spec["transactions"]],
            "other_roll": [folder / p for p in spec["other_rolls"]],
            **{k: [folder / v] for k, v in spec["refs"].items()}}


# ---------------------------------------------------------------- files and counts


def test_inputs_yaml_names_every_file(messy: Path, clean: Path) -> None:
    for folder, suffix in ((messy, {"roll": ".csv", "accounts": ".xlsx", "deaths": ".xlsx"}),
                           (clean, {})):
        paths = inputs(folder)
        assert set(paths) == {"roll", "accounts", "payments", "transactions", "other_roll", "deaths",
                              "prisoners", "payroll", "business", "pensions", "officials",
                              "relatives"}
        for kind, (path,) in paths.items():
            assert path.is_file(), path
            assert path.stem == FILES[kind]
            assert path.suffix == suffix.get(kind, ".csv")
        assert (folder / "truth.csv").is_file()


def test_clean_files_hold_every_row(clean: Path, frames) -> None:
    for kind, (path,) in inputs(clean).items():
        df = pl.read_csv(path, infer_schema=False)
        assert df.height == frames[kind].height, kind
    roll = pl.read_csv(clean / "救助对象名册.csv", infer_schema=False)
    assert roll.columns[:6] == ["行政区划代码", "乡镇", "村", "户编号", "姓名", "身份证号码"]


def test_sizes_follow_the_households(frames) -> None:
    roll = frames["roll"]
    assert roll.get_column("household_id").n_unique() == N
    assert 2.0 < roll.height / N < 3.0
    # every card on the roll has an account row; payments run the whole year
    assert set(roll.get_column("card_no").drop_nulls()) <= set(frames["accounts"]["card_no"])
    months = frames["payments"].get_column("pay_month").unique().sort().to_list()
    assert months == [202300 + m for m in range(1, 13)]
    assert frames["transactions"].height > 2 * frames["payments"].height * 0.9


# ---------------------------------------------------------------- the truth file


def test_truth_plants_every_rule_at_least_twice(demo) -> None:
    truth = demo.truth
    planted = truth.filter(pl.col("kind") == "planted").group_by("rule").len()
    counts = dict(planted.iter_rows())
    assert {r: counts.get(r, 0) for r in RULES if counts.get(r, 0) < 2} == {}
    looks = set(truth.filter(pl.col("kind") == "lookalike")["rule"])
    assert {"C03", "C04", "C05", "C06", "E01", "E02", "E04", "P02", "P04"} <= looks
    # every row names at least one key, keys are canonical (no spaces, upper-case X)
    keys = truth.select(pl.concat_str(["household_id", "id_number", "card_no"], ignore_nulls=True))
    assert keys.to_series().str.len_chars().min() > 0
    assert truth["card_no"].drop_nulls().str.contains(r"^\d{16,19}$").all()
    assert truth["id_number"].drop_nulls().str.contains(r"^\d{17}[\dX]$").all()


def test_rules_find_exactly_the_truth(frames, demo) -> None:
    """Every rule present in the catalogue finds its planted cases, flags no look-alike, and
    finds nothing else in the ordinary households."""
    from cardcheck.engines.runner import run_rules
    from cardcheck.rules import catalogue

    config = load_config()
    present = {r.code for r in catalogue(config)}
    result = run_rules(frames, config)
    truth = demo.truth.filter(pl.col("rule").is_in(sorted(present)))
    scored, extra = score(result.findings, truth)
    wrong = scored.filter(~pl.col("ok")).select("rule", "kind", "note").rows()
    assert wrong == []
    assert extra.select("rule", "evidence").rows() == []


# ---------------------------------------------------------------- valid numbers, sane people


def test_ids_are_valid_except_the_planted_ones(frames, demo) -> None:
    roll = frames["roll"].with_columns(id_status(pl.col("id_number")).alias("checked"))
    bad = roll.filter(pl.col("checked") != "ok")
    e09 = set(demo.truth.filter(pl.col("rule") == "E09")["id_number"].drop_nulls())
    assert set(bad["id_number"]) <= e09
    assert sorted(bad["checked"].unique()) == ["bad_birth_date", "bad_checksum"]
    assert roll["id_number"].n_unique() == roll.select("id_number", "name").unique().height
    others = [frames[k].select("id_number") for k in ("deaths", "payroll", "business", "officials",
                                                      "other_roll")]
    checked = pl.concat(others).select(id_status(pl.col("id_number")).alias("s"))
    assert checked["s"].unique().to_list() == ["ok"]


def test_cards_pass_luhn_and_are_distinct(frames) -> None:
    acc = frames["accounts"]
    assert acc["card_no"].n_unique() == acc.height
    assert acc.select(luhn_ok(pl.col("card_no")).all()).item()
    assert acc["card_no"].str.contains(r"^(6217|6228)\d{12,15}$").all()


def test_households_are_consistent(demo) -> None:
    roll = demo.world.roll
    planted = set(demo.truth.filter(pl.col("rule") == "C02")["household_id"])
    low = roll.filter(pl.col("fund").is_in(["农村低保", "城市低保"]))
    per = low.group_by("household_id").agg(
        (pl.col("relation") == "户主").sum().alias("heads"), pl.col("card_no").n_unique().alias("cards"),
        pl.col("birth").filter(pl.col("relation") == "户主").first().alias("head_birth"),
        pl.col("birth").filter(pl.col("relation").is_in(["子女", "孙子女"])).min().alias("oldest_child"),
        pl.col("birth").filter(pl.col("relation") == "父母").max().alias("youngest_parent"))
    assert per["heads"].unique().to_list() == [1]
    assert set(per.filter(pl.col("cards") > 1)["household_id"]) == planted
    assert per.filter(pl.col("oldest_child") <= pl.col("head_birth")).height == 0
    assert per.filter(pl.col("youngest_parent") >= pl.col("head_birth")).height == 0
    spouses = roll.filter(pl.col("relation") == "配偶")
    assert spouses.filter(pl.col("birth") > pl.date(2005, 6, 30)).height == 0


def test_ordinary_households_are_paid_exactly_once_a_month(demo) -> None:
    pays = demo.payments.filter(pl.col("hid").is_not_null() & ~pl.col("hid").is_in(list(demo.world.used)))
    per = pays.group_by("hid", "pid", "fund", "month").agg(pl.len().alias("n"), pl.col("amount").sum())
    assert per["n"].unique().to_list() == [1]
    approved = (demo.world.roll.filter(pl.col("fund").is_in(["农村低保", "城市低保"]))
                .group_by("hid", "fund").agg(pl.col("monthly_amount").sum().alias("approved")))
    joined = per.filter(pl.col("pid").is_null()).join(approved, on=["hid", "fund"])
    assert joined.filter(pl.col("amount") != pl.col("approved")).height == 0
    days = pays.get_column("pay_date").dt.day()
    assert days.filter(pays["fund"] != "临时救助").is_between(5, 12).all()


# ---------------------------------------------------------------- shapes of the mess


def test_messy_roll_has_title_totals_footer_and_blanks(messy: Path) -> None:
    text = (messy / "救助对象名册.csv").read_bytes().decode("gbk")
    lines = text.splitlines()
    assert lines[0].startswith("柳林县2023年城乡低保等救助对象花名册")
    assert lines[1].startswith("填报单位")
    assert lines[2].startswith("序号,行政区划代码,乡镇,村,户编号,姓名,身份证号码")
    assert any(line.startswith("合计,") for line in lines[-4:])
    assert lines[-2].startswith("制表人：") and lines[-1].startswith("制表时间：")
    assert sum(1 for line in lines if set(line) <= {","}) >= 3
    body = "\n".join(lines[3:-3])
    assert "元," in body and '"1,' in body  # 368元 and "1,200.00"
    for pattern in (r"\d{4}/\d{1,2}/\d{1,2}", r"\d{4}年\d{1,2}月\d{1,2}日", r",\d{8},",
                    r"\d{4}年\d{1,2}月,", r"\d{17}x,", r"[０-９]{6}", r",\d{15},"):
        assert pl.Series([body]).str.contains(pattern).item(), pattern


def test_messy_accounts_are_xlsx_with_spaced_cards_and_a_number_id(messy: Path, demo) -> None:
    df = pl.read_excel(messy / "账户信息.xlsx", engine="calamine", infer_schema_length=0)
    assert df.columns[:3] == ["卡号", "户名", "证件号码"]
    assert df["卡号"].str.contains(" ").any() and df["卡号"].str.contains("-").any()
    lost = demo.world.accounts.filter(pl.col("precision_lost"))
    assert lost.height == 1
    row = df.filter(pl.col("卡号").str.replace_all(r"[ -]", "") == lost["card_no"][0])
    assert row["证件号码"][0] != lost["holder_id"][0]  # Excel kept 15 significant digits
    assert (messy / "死亡人员名单.xlsx").read_bytes()[:2] == b"PK"


def test_readers_load_the_messy_files_to_the_truth(messy: Path, frames) -> None:
    from cardcheck.ingest import load_inputs

    loaded = load_inputs(inputs(messy), load_config())
    assert loaded.rejects.height == 0
    roll_counts = next(c for c in loaded.counts if c.kind == "roll")
    assert roll_counts.skipped_reasons == {"blank": 3, "total (合计)": 1, "footer (制表人)": 2}
    for kind, want in frames.items():
        got = loaded.frames[kind].drop("source_file", "source_line")
        want = want.drop("source_file", "source_line")
        if kind == "other_roll":
            got, want = got.drop("source_region"), want.drop("source_region")
        if "id_status" in want.columns:  # a 15-digit legacy ID is usable, marked upgraded15
            got = got.with_columns(pl.col("id_status").replace("upgraded15", "ok"))
        if kind == "accounts":  # the precision-lost ID reads back as its 15 significant digits
            got = got.with_columns(pl.when(pl.col("holder_id_status") == "precision_lost")
                                   .then(want["holder_id"]).otherwise(pl.col("holder_id"))
                                   .alias("holder_id"))
        assert got.equals(want), kind


# ---------------------------------------------------------------- determinism, errors, CLI


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_the_same_bytes(tmp_path: Path, messy: Path) -> None:
    # writes its own counties: the generator writing the same files again is what is tested
    write_demo(tmp_path / "again", households=N, seed=SEED)
    assert digest(tmp_path / "again") == digest(messy)
    write_demo(tmp_path / "other", households=N, seed=SEED + 1)
    assert digest(tmp_path / "other")["救助对象名册.csv"] != digest(messy)["救助对象名册.csv"]


def test_clean_mode_is_plain_utf8_csv(clean: Path) -> None:
    for path in clean.glob("*.csv"):
        first = path.read_bytes().split(b"\n", 1)[0]
        assert not first.startswith(b"\xef\xbb\xbf")
        first.decode("utf-8")
    assert not list(clean.glob("*.xlsx"))
    head = (clean / "交易流水.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert head[0] == "交易时间,卡号,交易渠道,借贷标志,交易金额,终端号,对方账号,对方户名"


def test_a_county_too_small_to_plant_is_an_error() -> None:
    with pytest.raises(CardcheckError, match="at least 300 households"):
        build(100, 1)


def test_cli_demo_writes_and_summarises(tmp_path: Path) -> None:
    # its own county: `cardcheck demo` writing one is what is tested
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--households", "300",
                                      "--seed", "5", "--clean"])
    assert result.exit_code == 0, result.output
    assert "300 households" in result.output and "planted cases of 23 rules" in result.output
    truth = pl.read_csv(tmp_path / "d" / "truth.csv", infer_schema=False)
    assert truth.columns == ["rule", "kind", "household_id", "id_number", "card_no", "note"]
