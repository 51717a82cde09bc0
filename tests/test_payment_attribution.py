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

from cardcheck.config import load_config
from cardcheck.engines import make_engine
from cardcheck.engines.runner import run_rules
from cardcheck.rules.base import Context
from cardcheck.rules.cases import frames
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
    # a guardian's card carrying two orphans' allowances (one entry: the card), and 孙二's
    # disability subsidy on it too (an entry of its own)
    {"household_id": "H3", "name": "孙小", "id_number": D, "fund": "孤儿基本生活费",
     "monthly_amount": 120000, "card_no": "C3", "payee_name": "孙七"},
    {"household_id": "H3", "name": "孙二", "id_number": E, "fund": "孤儿基本生活费",
     "monthly_amount": 120000, "card_no": "C3", "payee_name": "孙七"},
    {"household_id": "H3", "name": "孙二", "id_number": E, "fund": "困难残疾人生活补贴",
     "monthly_amount": 8000, "card_no": "C3", "payee_name": "孙七"},
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
    # H1's two members share an entry; 王五's two funds are two; the two orphans on one card
    # one (keyed by the card), 孙二's subsidy one
    assert pairs.height == 5 == pairs["entry"].n_unique()
    assert rows(pairs, ["entry_type", "entry_key", "fund"]) == sorted([
        ("household", "H1", "农村低保"), ("person", C, "特困供养"), ("person", C, "困难残疾人生活补贴"),
        ("card", "C3", "孤儿基本生活费"), ("person", E, "困难残疾人生活补贴"),
    ], key=lambda r: tuple(str(v) for v in r))
    assert got.group_by("member_key").agg(pl.col("member").n_unique())["member"].max() == 1
    assert got["member"].n_unique() == got["member_key"].n_unique() == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_every_way_a_payment_is_matched_or_not(engine: str) -> None:
    payments = [
        pay("C1", "2023年03月农村低保", day="2023-04-02"),  # fund and period from the memo
        pay("C1", "低保金"),  # the family names 农村低保 on this card
        pay("C2", "特困供养"),  # one of the card's two funds
        pay("C2", "代发"),  # a generic memo on a two-fund card: ambiguous
        pay("C3", "孤儿生活费", id_number=E),  # the orphans' card: one entry, whatever the ID
        pay("C3", "孤儿生活费"),
        pay("C3", "代发", id_number=D),  # the ID picks the orphans' entry of the card's two
        pay("C3", "代发", id_number=E),  # 孙二 is in both: ambiguous
        pay("C3", "代发"),  # ambiguous
        pay("C8", "孤儿生活费", id_number=D),  # a card off the roll, the ID finds the card's entry
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
        ("C3", "孤儿生活费", "card", "C3", "孤儿基本生活费", 202304, "card", None),
        ("C3", "孤儿生活费", "card", "C3", "孤儿基本生活费", 202304, "card", None),
        ("C3", "代发", "card", "C3", "孤儿基本生活费", 202304, "card", None),
        ("C3", "代发", None, None, None, 202304, "card", "ambiguous"),
        ("C3", "代发", None, None, None, 202304, "card", "ambiguous"),
        ("C8", "孤儿生活费", "card", "C3", "孤儿基本生活费", 202304, "id", None),
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


# ---------------------------------------------------------------- several people on one card

KIDS = ["110101201003150011", "110101201207200025", "110101201501020033", "110101200911110053"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_card_unit_names_its_members_and_shares_out_its_receipts(engine: str) -> None:
    """Four orphans on one guardian's card are one entry named 户主 first, then by ID (three
    names, then 等 4 人); each receives their own share, as a person, while active."""
    names = ["孙一", "孙二", "孙三", "孙四"]
    roll = [{"household_id": "H7", "name": n, "id_number": i, "fund": "孤儿基本生活费",
             "relation": "户主" if n == "孙三" else "兄弟姐妹", "monthly_amount": 135000,
             "card_no": "C7", "payee_name": "孙七"} for n, i in zip(names, KIDS, strict=True)]
    roll[3]["end_date"] = "2023-04-30"  # 孙四 turned 18 in April
    payments = [pay("C7", "2023年04月孤儿基本生活费", 540000),
                pay("C7", "2023年05月孤儿基本生活费", 270000, "2023-05-10")]
    tables = {"roll": roll, "payments": payments}
    ents = run(engine, tables, lambda ctx: prepare(ctx).entries)
    assert ents.select("entry_type", "card_no", "id_number", "name", "names", "n_members").rows() \
        == [("card", "C7", KIDS[2], "孙三", "孙三、孙四、孙一等 4 人", 4)]
    got = run(engine, tables, shared_receipts)
    assert rows(got, ["id_number", "entry_type", "card_no", "period", "paid"]) == sorted(
        [(k, "person", "C7", 202304, 135000) for k in KIDS]
        # May: 270000 for three (孙四 no longer counts); each share is capped at what was paid
        + [(k, "person", "C7", 202305, 135000) for k in KIDS[:3]],
        key=lambda r: tuple(str(v) for v in r))


UNIT_MONTHS = range(1, 7)
unit_member = st.tuples(
    st.sampled_from([100000, 120000, 135000]),  # monthly_amount
    st.integers(1, 6), st.integers(1, 7),  # first and last month on the roll (7: open)
)
unit_credit = st.tuples(
    st.sampled_from(UNIT_MONTHS),  # the month it is for
    st.sampled_from(["all", "one", "over"]),  # the active members' sum, one share, sum + 100 元
    st.sampled_from([10, 20]),  # the pay day (the deadline is the 15th)
)


@settings(max_examples=40, deadline=None)
@given(st.lists(unit_member, min_size=1, max_size=3), st.lists(unit_credit, max_size=9))
def test_a_card_of_several_people_is_reconciled_as_one_unit(
        members: list[tuple[int, int, int]], credits: list[tuple[int, str, int]]) -> None:
    """P03, P04 and P05 on one card carrying one person-level fund for one to three people
    agree with reconciling the card month by month: approved = the sum of the members active
    that month, every credit of the month counted against it, one finding each naming all."""
    names = ["孙一", "孙二", "孙三"][:len(members)]
    roll = []
    for (amount, first, last), name, kid in zip(members, names, KIDS, strict=False):
        last = max(first, last)
        end = None if last == 7 else (dt.date(2023, last + 1, 1) - dt.timedelta(days=1)).isoformat()
        roll.append({"household_id": "H8", "name": name, "id_number": kid, "relation": "兄弟姐妹",
                     "fund": "孤儿基本生活费", "monthly_amount": amount, "card_no": "C8",
                     "start_date": f"2023-{first:02d}-01", "end_date": end})

    def approved(month: int) -> int | None:
        active = [a for a, f, t in members if f <= month <= max(f, t)]
        return sum(active) if active else None

    payments, per_month = [], {}
    for month, kind, day in credits:
        due = approved(month) or 135000
        amount = {"all": due, "one": members[0][0], "over": due + 10000}[kind]
        payments.append(pay("C8", f"2023年{month:02d}月孤儿基本生活费", amount,
                            f"2023-{month:02d}-{day}"))
        per_month.setdefault(month, []).append((amount, day))
    want: dict[str, tuple[int, int]] = {}
    p03 = [abs(sum(a for a, _ in c) - approved(m)) for m, c in per_month.items()
           if approved(m) is not None and sum(a for a, _ in c) != approved(m)
           and not (len(c) >= 2 and sum(a for a, _ in c) > approved(m))]
    p04 = [sum(a for a, _ in c) - (approved(m) or max(a for a, _ in c))
           for m, c in per_month.items() if len(c) >= 2]
    p04 = [x for x in p04 if x > 0]
    late = {m: sum(a for a, d in c if d > 15) for m, c in per_month.items()}
    p05 = [x for x in late.values() if x > 0]
    for rule, found in (("P03", p03), ("P04", p04), ("P05", p05)):
        if found:
            want[rule] = (sum(found), len(found))
    data = frames({"roll": roll, "payments": payments} if payments else {"roll": roll}, CONFIG)
    if not payments:
        return
    result = run_rules(data, CONFIG, engine=make_engine("polars"), select=["P03", "P04", "P05"])
    got = result.findings
    assert {r: (a, m) for r, a, m in got.select("rule", "amount", "months").rows()} == want
    assert got.get_column("card_no").to_list() == ["C8"] * got.height
    for evidence in got.get_column("evidence"):
        assert all(name in evidence for name in names), evidence


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
