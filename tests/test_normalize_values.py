"""Money to fen, dates, card numbers and fund names, exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.config import load_config
from cardcheck.normalize.cards import card_problem, clean_card, luhn_ok
from cardcheck.normalize.dates import parse_date, parse_datetime
from cardcheck.normalize.funds import canonical_fund
from cardcheck.normalize.money import parse_money, range_problem, to_fen


def col(values: list, expr_fn) -> list:
    df = pl.DataFrame({"x": values}, schema={"x": pl.String})
    return df.select(expr_fn(pl.col("x"))).to_series().to_list()


def test_money_shapes_to_fen() -> None:
    assert col(["1,234.50", "1234.5元", "￥300", "¥300", "300.00 元", "RMB 12.3", "(300.00)", "１２３",
                ".5", "1234.5600000001", "1234.5599999999", None, ""], to_fen) == [
        123450, 123450, 30000, 30000, 30000, 1230, -30000, 12300, 50, 123456, 123456, None, None]


def test_money_problems() -> None:
    assert col(["abc", "1.234", "1.5E+3", "99999999999999", "300"],
               lambda e: parse_money(e)[1]) == [
        "不是金额", "金额超过两位小数", "不是金额", "金额位数过多", None]
    assert col(["30000", "30000.00", "300.5"], lambda e: parse_money(e, "fen")[0]) == [
        30000, 30000, None]


def test_money_ranges() -> None:
    df = pl.DataFrame({"f": [-1, 0, 10_000_000, 10_000_001]})
    got = df.select(range_problem(pl.col("f"), 100_000)).to_series().to_list()
    assert got == ["金额为负数", None, None, "金额超过 100,000 元，不合常理"]
    got = df.select(range_problem(pl.col("f"), 100_000, allow_negative=True)).to_series().to_list()
    assert got == [None, None, None, "金额超过 100,000 元，不合常理"]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999_999), st.booleans(), st.booleans(),
       st.sampled_from(["", "元", " 元", "￥", "¥"]))
def test_money_text_round_trips_to_fen(fen: int, commas: bool, short: bool, mark: str) -> None:
    yuan = Decimal(fen) / 100
    text = f"{yuan:,.2f}" if commas else f"{yuan:.2f}"
    if short:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    text = mark + text if mark in ("￥", "¥") else text + mark
    assert col([text], to_fen) == [fen]


def test_dates() -> None:
    values = ["2019-04-15", "2019/4/15", "20190415", "2019年4月15日", "2019.04.15", "2019年4月",
              "2019-04", "43570", "２０１９－０４－１５"]
    assert col(values, lambda e: parse_date(e)[0]) == [dt.date(2019, 4, 15)] * 5 + [
        dt.date(2019, 4, 1)] * 2 + [dt.date(2019, 4, 15)] * 2
    assert col(["1899-12-31", "2999-01-01", "2019-02-30", "不详", None],
               lambda e: parse_date(e)[1]) == [
        "日期早于1900年或晚于一年之后，不合常理", "日期早于1900年或晚于一年之后，不合常理",
        "无法识别的日期", "无法识别的日期", None]


def test_datetimes() -> None:
    assert col(["2023-04-15 10:30:00", "2023/4/15 9:05", "2023-04-15T10:30:00", "20230415103000",
                "43570.4375", "2023-04-15"], lambda e: parse_datetime(e)[0]) == [
        dt.datetime(2023, 4, 15, 10, 30), dt.datetime(2023, 4, 15, 9, 5),
        dt.datetime(2023, 4, 15, 10, 30), dt.datetime(2023, 4, 15, 10, 30),
        dt.datetime(2019, 4, 15, 10, 30), dt.datetime(2023, 4, 15)]


def test_cards() -> None:
    assert col(["6217 0000-0000 0001", "６２１７０００", '="6217000000000001"', "6217000000000001.0",
                "'6217000000000001"], clean_card) == [
        "6217000000000001", "6217000", "6217000000000001", "6217000000000001", "6217000000000001"]
    assert col(["6.217E+15", "6217000000000001"], card_problem) == [
        "卡号以科学计数法存储（如 6.217E+15），位数已丢失，无法使用", None]
    assert col(["4111 1111 1111 1111", "4111111111111112", "12345"], luhn_ok) == [True, False, False]


def test_funds() -> None:
    config = load_config()
    assert col(["农村低保", " 农村 低保金 ", "五保", "城市居民最低生活保障", "低保", None],
               lambda e: canonical_fund(e, config)) == [
        "农村低保", "农村低保", "特困供养", "城市低保", None, None]
