"""The readers' fast paths (cells already in machine form) agree with the full parsers, cell by cell,
whether a column is all fast, all slow or mixed."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.config import load_config
from cardcheck.ingest.values import FAST, Fast, Staged, column_reader, read_column
from cardcheck.normalize.cards import clean_card
from cardcheck.normalize.dates import OUT_OF_RANGE, UNREADABLE, parse_date, parse_datetime
from cardcheck.normalize.ids import check_digit, normalise_ids
from cardcheck.normalize.money import PLAIN_YUAN, parse_money, plain_fen

MONEY = Fast(PLAIN_YUAN, plain_fen)


def both(values: list[str | None], parser, fast: Fast) -> tuple[list, list]:
    """(value, problem) per cell via the fast path, and via the full parser alone."""
    df = pl.DataFrame({"x": values}, schema={"x": pl.String})
    got = read_column(df, "x", parser, fast)
    want = read_column(df, "x", parser)
    return (got.select("__v_x", "__p_x").rows(), want.select("__v_x", "__p_x").rows())


@pytest.mark.parametrize("values", [
    ["12", "12.5", "12.34", "-0.5", "0.05", "-12.30", "0", None],  # all plain
    ["1,234.50", "￥300", "(300.00)", "１２３", "abc", "1.234"],  # none plain
    ["12.5", "1,234.50", "-0.5", "１２３", "1.234", None, "7"],  # mixed
])
def test_money_fast_path_equals_full_parse(values) -> None:
    got, want = both(values, parse_money, MONEY)
    assert got == want


def test_plain_fen_exact() -> None:
    df = pl.DataFrame({"x": ["12", "12.5", "12.34", "-0.5", "0.05", "-12.30"]})
    assert df.select(plain_fen(pl.col("x"))).to_series().to_list() == [
        1200, 1250, 1234, -50, 5, -1230]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-10**11, 10**11), min_size=1, max_size=20), st.booleans())
def test_money_fast_path_any_amount(fens: list[int], trim: bool) -> None:
    def text(f: int) -> str:
        s = f"{'-' if f < 0 else ''}{abs(f) // 100}.{abs(f) % 100:02d}"
        return s.rstrip("0").rstrip(".") if trim and "." in s else s
    got, want = both([text(f) for f in fens], parse_money, MONEY)
    assert got == want
    assert [v for v, _ in got] == fens


def test_dates_fast_path_checks_like_the_full_parse() -> None:
    values = ["2023-04-15", "2023-02-30", "1800-01-01", "2999-01-01", "2023/4/15",
              "２０２３-０４-１５", None]
    got, want = both(values, parse_date, FAST["date"])
    assert got == want
    problems = [p for _, p in got]
    assert problems[1] == UNREADABLE and problems[2] == OUT_OF_RANGE == problems[3]
    assert got[4][0] == got[5][0] == got[0][0]  # slashes and full-width digits: the slow path


def test_datetimes_fast_path() -> None:
    values = ["2023-04-15 10:30:00", "2023-04-15 25:30:00", "2023/4/15 10:30",
              "２０２３-０４-１５ 10:30:00", None]
    got, want = both(values, parse_datetime, FAST["datetime"])
    assert got == want
    assert got[1][1] == UNREADABLE and got[0][0] == got[2][0] == got[3][0]


MESSY_DATES = ["2023/4/15", "2023年4月15日", "20230415", "2023.04.15", "2023-4", "202304",
               "43570", "43570.4375", "2023/2/30", "1800/1/1", "2999/1/1", "not a date", " ",
               "２０２３年４月１５日", "2023/4/15 10:30", "20230415103000", "2023-04-15T10:30:00",
               "2023/4/15 25:61", None]


@pytest.mark.parametrize("column", ["start_date", "txn_time"])
def test_staged_readers_equal_the_one_expression_parsers(column: str) -> None:
    """Dates and times are read the slow way in two steps (value, then its problem); the result
    is what parse_date / parse_datetime give as one expression, problem for problem."""
    parser, _, _ = column_reader(column, "roll", load_config(), {}, [column])
    assert isinstance(parser, Staged)
    one = parse_datetime if column == "txn_time" else parse_date
    df = pl.DataFrame({"x": MESSY_DATES}, schema={"x": pl.String})
    got = read_column(df, "x", parser).select("__v_x", "__p_x").rows()
    want = read_column(df, "x", one).select("__v_x", "__p_x").rows()
    assert got == want
    assert {p for _, p in got} >= {None, UNREADABLE, OUT_OF_RANGE}
    assert sum(v is not None for v, _ in got) >= 8


def test_full_width_digits_are_not_taken_as_clean() -> None:
    """`\\d` matches any Unicode digit: the fast patterns must say [0-9]."""
    card = "６２２８４８１２３４５６７８９０１２３"
    got, _ = both([card, "6228481234567890123"],
                  lambda e: (clean_card(e), None), FAST["card"])
    assert got[0][0] == "6228481234567890123"
    ids = pl.DataFrame({"id": ["１４１１２５１９８１０５０９４６４X", "14112519810509464X"]})
    out = normalise_ids(ids, "id", "status")
    assert out["id"].to_list() == ["14112519810509464X"] * 2
    assert out["status"].to_list() == ["ok", "ok"]


def test_check_digit_arithmetic() -> None:
    df = pl.DataFrame({"x": ["11010519491231002", "44052418800101001", "1101051949123100A",
                             "１１０１０５１９４９１２３１００２", None]})
    assert df.select(check_digit(pl.col("x"))).to_series().to_list() == ["X", "4", None, None,
                                                                          None]
