"""The helpers the card rules share: payment attribution by card, household heads, card owners,
phone masking and ID-like columns, on polars and DuckDB alike."""

from __future__ import annotations

import narwhals.stable.v2 as nw
import polars as pl
import pytest

from cardcheck.config import load_config
from cardcheck.engines import DuckDBEngine, Engine
from cardcheck.masking import mask_phone
from cardcheck.rules.card.common import (
    attribute,
    card_owners,
    households,
    id_like,
)
from cardcheck.rules.cases import frame

CONFIG = load_config()
ROLL = [
    {"household_id": "H1", "name": "王芳", "relation": "配偶", "id_number": "110101195203040021",
     "fund": "农村低保", "card_no": "C1", "village": "东关村"},
    {"household_id": "H1", "name": "张三", "relation": "户主", "id_number": "110101195001010016",
     "fund": "农村低保", "card_no": "C1", "village": "东关村"},
    {"household_id": "H2", "name": "李四", "id_number": "110101196001010012",
     "fund": "特困供养", "card_no": "C2"},
    {"household_id": "H2", "name": "李四", "id_number": "110101196001010012",
     "fund": "困难残疾人生活补贴", "card_no": "C2"},
    {"household_id": "H3", "name": "赵六", "id_number": "110101195501010019", "fund": "城市低保",
     "card_no": "C3"},
    {"household_id": "H3", "name": "赵六", "id_number": "110101195501010019", "fund": "农村低保",
     "card_no": "C3"},
]
PAYMENTS = [
    ("C1", "2023年04月农村低保"),   # names the fund
    ("C1", "低保金"),              # names the family
    ("C1", "代发"),                # names nothing; the card carries one fund
    ("C1", "特困供养"),            # names another fund
    ("C2", "代发"),                # names nothing; the card carries two funds
    ("C2", "残补"),                # short form
    ("C3", "低保"),                # the family, on a card with both 低保 funds: both
    ("C9", "农村低保"),            # a card not on the roll
]


@pytest.fixture(params=["polars", "duckdb"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return Engine() if request.param == "polars" else DuckDBEngine()


def _collect(engine: Engine, lf: nw.LazyFrame) -> pl.DataFrame:
    return engine.collect(lf)


def test_attribute_by_card_and_memo(engine: Engine) -> None:
    roll = engine.lazy(frame("roll", ROLL, CONFIG))
    pays = engine.lazy(frame("payments", [
        {"pay_date": f"2023-04-{i + 10}", "card_no": c, "amount": 100 + i, "memo": m}
        for i, (c, m) in enumerate(PAYMENTS)], CONFIG))
    got = _collect(engine, attribute(pays, roll, CONFIG).select("amount", "fund", "period"))
    assert set(got.get_column("period")) == {202304}
    pairs = sorted((a, f) for a, f, _ in got.rows() if f)
    assert pairs == [(100, "农村低保"), (101, "农村低保"), (102, "农村低保"),
                     (105, "困难残疾人生活补贴"), (106, "农村低保"), (106, "城市低保")]
    assert sorted(a for a, f, _ in got.rows() if f is None) == [103, 104, 107]


def test_household_heads_and_card_owners(engine: Engine) -> None:
    roll = engine.lazy(frame("roll", ROLL, CONFIG))
    heads = _collect(engine, households(roll)).sort("household_id")
    assert heads.select("household_id", "head_id", "head_name", "village").rows() == [
        ("H1", "110101195001010016", "张三", "东关村"),
        ("H2", "110101196001010012", "李四", None),
        ("H3", "110101195501010019", "赵六", None),
    ]
    owners = _collect(engine, card_owners(roll)).sort("card_no")
    assert owners.select("card_no", "household_id", "id_number").rows() == [
        ("C1", "H1", "110101195001010016"), ("C2", "H2", "110101196001010012"),
        ("C3", "H3", "110101195501010019"),
    ]


def test_mask_phone_and_id_like(engine: Engine) -> None:
    df = pl.DataFrame({"v": ["13812345678", "110101195001010016", "11010119500101001x",
                             "T" + "0A" * 12, "T" + "0a" * 12, "BAD" + "0A" * 12, None]})
    got = _collect(engine, engine.lazy(df).select(mask_phone(nw.col("v")).alias("m"),
                                                  id_like("v").alias("ok")))
    assert got.get_column("ok").to_list() == [False, True, False, True, True, False, False]
    assert got.get_column("m").to_list()[0] == "138****5678"
