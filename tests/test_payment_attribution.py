"""The attribution of payments to roll entries and the helpers P01–P06 and E01–E08 share, on
polars and DuckDB: exact rows, reasons, periods, approved amounts, covered months, receipts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.casefile import frames
from cardcheck.config import load_config
from cardcheck.engines import make_engine
from cardcheck.rules.base import Context
from cardcheck.rules.payment.attribution import (
    approved_for,
    attribute,
    covered_months,
    per_period,
    prepare,
    roll_rows,
)
from cardcheck.rules.payment.periods import add_months, with_days_late
from cardcheck.rules.payment.receipts import people, shared_receipts

CONFIG = load_config()
ENGINES = ["polars", "duckdb"]

A, B, C, D = "110101195001010016", "110101195201010028", "110101194001010013", "110101201001010015"
E = "110101201201010012"


def run(engine: str, tables: dict[str, list[dict[str, Any]]],
        fn: Callable[[Context], nw.LazyFrame]) -> pl.DataFrame:
    eng = make_engine(engine)
    try:
        lazies = {k: eng.lazy(v) for k, v in frames(tables, CONFIG).items()}
        ctx = Context(tables=lazies, config=CONFIG, materialize=eng.materialize,
                      reuse=eng.keep)
        return eng.collect(fn(ctx))
    finally:
        eng.close()


def rows(df: pl.DataFrame, cols: list[str]) -> list[tuple[Any, ...]]:
    return sorted(df.select(cols).rows(), key=lambda r: tuple(str(v) for v in r))


ROLL = [
    {"household_id": "H1", "name": "张三", "id_number": A, "relation": "户主", "fund": "农村低保",
     "monthly_amount": 30000, "card_no": "C1"},
    {"household_id": "H1", "name": "李梅", "id_number": B, "relation": "配偶", "fund": "农村低保",
     "monthly_amount": 20000, "card_no": "C1"},
    {"household_id": "H2", "name": "王五", "id_number": C, "fund": "特困供养",
     "monthly_amount": 80000, "card_no": "C2"},
    {"household_id": "H2", "name": "王五", "id_number": C, "fund": "困难残疾人生活补贴",
     "monthly_amount": 10000, "card_no": "C2"},
    # a guardian's card carrying two orphans' allowances
    {"household_id": "H3", "name": "孙小", "id_number": D, "fund": "孤儿基本生活费",
     "monthly_amount": 120000, "card_no": "C3", "payee_name": "孙七"},
    {"household_id": "H3", "name": "孙二", "id_number": E, "fund": "孤儿基本生活费",
     "monthly_amount": 120000, "card_no": "C3", "payee_name": "孙七"},
]


def pay(card: str, memo: str | None, amount: int = 100, day: str = "2023-04-10",
        id_number: str | None = None) -> dict[str, Any]:
    return {"pay_date": day, "card_no": card, "memo": memo, "amount": amount,
            "id_number": id_number}


def with_entry_key(fn: Callable[[Context], nw.LazyFrame]) -> Callable[[Context], nw.LazyFrame]:
    """fn's rows with the string key of the entry their number stands for (entry_key)."""
    def keyed(ctx: Context) -> nw.LazyFrame:
        keys = roll_rows(ctx.table("roll"), ctx.config).select("entry", "entry_key").unique()
        return fn(ctx).join(keys, on="entry", how="left")
    return keyed


def test_entry_numbers_stand_for_one_entry_each() -> None:
    got = run("polars", {"roll": ROLL}, lambda ctx: roll_rows(ctx.table("roll"), ctx.config))
    pairs = got.select("entry", "entry_type", "entry_key", "fund").unique()
    # H1's two members share an entry; 王五's two funds are two; the two orphans two
    assert pairs.height == 5 == pairs["entry"].n_unique()
    assert got.group_by("member_key").agg(pl.col("member").n_unique())["member"].max() == 1
    assert got["member"].n_unique() == got["member_key"].n_unique() == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_every_way_a_payment_is_matched_or_not(engine: str) -> None:
    payments = [
        pay("C1", "2023年03月农村低保", day="2023-04-02"),  # fund and period from the memo
        pay("C1", "低保金"),  # the family names 农村低保 on this card
        pay("C2", "特困供养"),  # one of the card's two funds
        pay("C2", "代发"),  # a generic memo on a two-fund card: ambiguous
        pay("C3", "孤儿生活费", id_number=E),  # the ID picks one of the two orphans
        pay("C3", "孤儿生活费"),  # no ID: ambiguous between the two
        pay("C9", "特困供养", id_number=C),  # a card off the roll, the ID finds the entry
        pay("C9", "代发"),  # a card off the roll
        pay("C1", "临时救助"),  # a fund the card does not carry
    ]
    got = run(engine, {"roll": ROLL, "payments": payments}, with_entry_key(
              lambda ctx: attribute(ctx.table("roll"), ctx.table("payments"), ctx.config)))
    cols = ["card_no", "memo", "entry_type", "entry_key", "fund", "period", "matched_by",
            "unattributed_reason"]
    assert rows(got, cols) == rows(pl.DataFrame([
        ("C1", "2023年03月农村低保", "household", "H1", "农村低保", 202303, "card", None),
        ("C1", "低保金", "household", "H1", "农村低保", 202304, "card", None),
        ("C2", "特困供养", "person", C, "特困供养", 202304, "card", None),
        ("C2", "代发", None, None, None, 202304, "card", "ambiguous"),
        ("C3", "孤儿生活费", "person", E, "孤儿基本生活费", 202304, "card", None),
        ("C3", "孤儿生活费", None, None, "孤儿基本生活费", 202304, "card", "ambiguous"),
        ("C9", "特困供养", "person", C, "特困供养", 202304, "id", None),
        ("C9", "代发", None, None, None, 202304, None, "card_not_on_roll"),
        ("C1", "临时救助", None, None, "临时救助", 202304, None, "fund_not_on_roll"),
    ], schema=cols, orient="row"), cols)
    assert got.height == len(payments)  # one row per payment, never more


@pytest.mark.parametrize("engine", ENGINES)
def test_approved_is_the_sum_of_active_members_counted_once(engine: str) -> None:
    roll = [
        {"household_id": "H1", "name": "张三", "id_number": A, "fund": "农村低保",
         "monthly_amount": 30000, "card_no": "C1"},
        # listed twice: counted once, at the larger amount
        {"household_id": "H1", "name": "张三", "id_number": A, "fund": "农村低保",
         "monthly_amount": 25000, "card_no": "C1"},
        {"household_id": "H1", "name": "李梅", "id_number": B, "fund": "农村低保",
         "monthly_amount": 20000, "card_no": "C1", "end_date": "2023-04-30"},
        {"household_id": "H2", "name": "王五", "id_number": C, "fund": "特困供养",
         "card_no": "C2", "start_date": "2023-05-01"},
    ]

    def approved(ctx: Context) -> nw.LazyFrame:
        rows = roll_rows(ctx.table("roll"), ctx.config)
        entries = rows.filter(nw.col("entry_key").is_in(["H1", C])).select("entry").unique()
        pairs = entries.join(ctx.table("payments").select(nw.col("pay_month").alias("period")),
                             how="cross")
        return approved_for(pairs, rows)

    payments = [pay("C1", None, day=d) for d in ("2023-04-10", "2023-05-10")]
    got = run(engine, {"roll": roll, "payments": payments}, with_entry_key(approved))
    assert rows(got, ["entry_key", "period", "approved"]) == sorted([
        ("H1", 202304, 50000), ("H1", 202305, 30000), (C, 202305, None),
    ], key=lambda r: tuple(str(v) for v in r))


MONTHS = [202301, 202302, 202303, 202304, 202305, 202306]
member_row = st.tuples(
    st.integers(1, 3),  # entry
    st.integers(1, 3),  # member
    st.one_of(st.none(), st.integers(0, 50_000)),  # monthly_amount
    st.sampled_from([190001, *MONTHS]),  # start_month
    st.sampled_from([*MONTHS, 999912]),  # end_month
)


@settings(max_examples=80, deadline=None)
@given(st.lists(member_row, min_size=1, max_size=12))
def test_approved_for_matches_a_month_by_month_sum(rows_in: list[tuple]) -> None:
    """The whole-entry shortcut and the row-by-row path give what summing each month's active
    rows gives: per member the larger amount, pairs without an active row left out."""
    rows_df = pl.DataFrame(rows_in, schema={"entry": pl.Int64, "member": pl.Int64,
                                            "monthly_amount": pl.Int64, "start_month": pl.Int32,
                                            "end_month": pl.Int32}, orient="row")
    pairs = pl.DataFrame({"entry": [e for e in (1, 2, 3, 4) for _ in MONTHS],
                          "period": [m for _ in (1, 2, 3, 4) for m in MONTHS]},
                         schema={"entry": pl.Int64, "period": pl.Int32})
    expected = set()
    for entry in (1, 2, 3, 4):
        for period in MONTHS:
            active = [r for r in rows_in if r[0] == entry and r[3] <= period <= r[4]]
            if not active:
                continue
            best: dict[int, int] = {}
            for _, member, amount, _, _ in active:
                if amount is not None:
                    best[member] = max(best.get(member, amount), amount)
            amounts = list(best.values())
            expected.add((entry, period, sum(amounts) if amounts else None))
    keep = lambda lf: nw.from_native(lf.to_native().collect().lazy())
    rows_lf = nw.from_native(rows_df.lazy())
    got = approved_for(nw.from_native(pairs.lazy()), rows_lf, keep)
    assert set(got.collect(backend="polars").to_native().rows()) == expected
    # per_period: the same amounts for the pairs paid, null where approved_for leaves one out
    paid = nw.from_native(pairs.lazy().with_columns(amount=pl.lit(100), card_no=pl.lit("C1")))
    per = per_period(paid, rows_lf, keep).select("entry", "period", "approved")
    known = {(e, p): a for e, p, a in expected}
    assert set(per.collect(backend="polars").to_native().rows()) == {
        (e, p, known.get((e, p))) for e, p in pairs.rows()}


@pytest.mark.parametrize("engine", ENGINES)
def test_covered_months_span_the_well_paid_months(engine: str) -> None:
    cards = [f"C{i}" for i in range(10)]
    payments = [pay(c, None, day=f"2023-{m:02d}-10") for m in (2, 3, 5) for c in cards]
    payments += [pay(c, None, day="2023-04-10") for c in cards[:2]]  # a failed batch inside
    payments += [pay("C0", "2022年01月", day="2023-05-10")]  # a stray period
    payments += [pay(c, None, day="2023-06-10") for c in cards[:4]]  # a thin last month
    got = run(engine, {"roll": ROLL, "payments": payments},
              lambda ctx: covered_months(prepare(ctx).payments, 0.5))
    assert sorted(got.get_column("period").to_list()) == [202302, 202303, 202304, 202305]


@pytest.mark.parametrize("engine", ENGINES)
def test_receipts_give_each_member_their_share(engine: str) -> None:
    roll = ROLL[:3] + [
        {"household_id": "H4", "name": "赵六", "id_number": D, "relation": "户主",
         "fund": "城市低保", "monthly_amount": 40000, "card_no": "C4",
         "end_date": "2023-03-31"},
        {"household_id": "H4", "name": "赵七", "id_number": E, "fund": "城市低保",
         "monthly_amount": 10000, "card_no": "C4", "end_date": "2023-02-28"},
    ]
    payments = [
        pay("C1", "农村低保", 50000, "2023-04-10"),
        pay("C1", "农村低保", 15000, "2023-05-10"),  # short-paid: B's share is capped
        pay("C2", "特困供养", 80000, "2023-04-10"),
        pay("C4", "城市低保", 50000, "2023-03-10"),  # only 赵六 is active in March
        pay("C4", "城市低保", 50000, "2023-05-10"),  # after the household ended: both count
    ]
    got = run(engine, {"roll": roll, "payments": payments}, shared_receipts)

    def for_a_and_d(ctx: Context) -> nw.LazyFrame:  # a rule asking about two people only
        return shared_receipts(ctx, ctx.table("roll").filter(nw.col("id_number").is_in([A, D])))

    cols = ["id_number", "household_id", "fund", "period", "paid"]
    some = run(engine, {"roll": roll, "payments": payments}, for_a_and_d)
    assert rows(some, cols) == rows(got.filter(pl.col("id_number").is_in([A, D])), cols)
    assert some.height == 4
    assert rows(got, ["id_number", "household_id", "fund", "period", "paid"]) == sorted([
        (A, "H1", "农村低保", 202304, 30000), (B, "H1", "农村低保", 202304, 20000),
        (A, "H1", "农村低保", 202305, 15000), (B, "H1", "农村低保", 202305, 15000),
        (C, "H2", "特困供养", 202304, 80000),
        (D, "H4", "城市低保", 202303, 40000),
        (D, "H4", "城市低保", 202305, 40000), (E, "H4", "城市低保", 202305, 10000),
    ], key=lambda r: tuple(str(v) for v in r))


@pytest.mark.parametrize("engine", ENGINES)
def test_people_for_some_ids_are_those_rows_of_everyone(engine: str) -> None:
    """people(att, ids) groups only the roll rows of `ids`: the same names and places as the
    whole roll's people for them (C is on the roll under two funds), nobody else."""
    stranger = "110101199901010011"  # on no roll
    payments = [pay("C2", "特困供养", id_number=C), pay("C3", None, id_number=D),
                pay("C2", "特困供养", id_number=C), pay("C9", None, id_number=stranger)]
    tables = {"roll": ROLL, "payments": payments}
    everyone = run(engine, tables, lambda ctx: people(prepare(ctx)))
    some = run(engine, tables, lambda ctx: people(prepare(ctx), ctx.table("payments")))
    cols = everyone.columns
    assert some.height == 2 and everyone.height == 5
    assert rows(some, cols) == rows(everyone.filter(pl.col("id_number").is_in([C, D])), cols)


def test_a_shared_frame_is_built_once_per_run() -> None:
    built: list[int] = []
    materialised: list[int] = []

    def build() -> nw.LazyFrame:
        built.append(1)
        return nw.from_native(pl.LazyFrame({"x": [1]}))

    def materialize(lf: nw.LazyFrame) -> nw.LazyFrame:
        materialised.append(1)
        return lf

    shared: dict[str, nw.LazyFrame] = {}
    for _ in range(3):  # three rules of one run
        ctx = Context(tables={}, config=CONFIG, shared=shared, materialize=materialize)
        ctx.once("k", build)
    assert (len(built), len(materialised)) == (1, 1)


# ---------------------------------------------------------------- month and day arithmetic

dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))


def _deadline(period: int, day: int) -> dt.date:
    y, m = divmod(period, 100)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    last = (nxt - dt.timedelta(days=1)).day
    return dt.date(y, m, min(day, last))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(dates, dates, st.integers(1, 31)), min_size=1, max_size=40),
       st.integers(-30, 30))
def test_days_late_and_month_steps_agree_with_the_calendar(
        cases: list[tuple[dt.date, dt.date, int]], step: int) -> None:
    df = pl.DataFrame({
        "pay_date": [c[0] for c in cases],
        "period": [c[1].year * 100 + c[1].month for c in cases],
        "deadline": [c[2] for c in cases],
    }, schema={"pay_date": pl.Date, "period": pl.Int32, "deadline": pl.Int64})
    lf = with_days_late(nw.from_native(df.lazy()), "pay_date", "period", nw.col("deadline"))
    got = lf.with_columns(later=add_months(nw.col("period"), step)).collect().to_native()
    want_late = [(p - _deadline(per, d)).days for p, per, d in
                 zip(df["pay_date"], df["period"], df["deadline"], strict=True)]
    assert got["days_late"].to_list() == want_late
    want_month = []
    for per in df["period"]:
        idx = (per // 100) * 12 + per % 100 - 1 + step
        want_month.append((idx // 12) * 100 + idx % 12 + 1)
    assert got["later"].to_list() == want_month
