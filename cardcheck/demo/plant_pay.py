"""Planted payment cases (P01–P06) and their look-alikes.

Household-fund cases are recorded by household_id, person-fund cases by id_number, payments to
cards that are not on the roll by card_no.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cardcheck.demo.payments import shape
from cardcheck.demo.world import World


def _truth(w: World, rule: str, hid: int, note: str) -> None:
    """A planted payment case: by household for household funds, by person otherwise."""
    row = w.head(hid)
    if row["fund"] in ("农村低保", "城市低保"):
        w.truth(rule, household_id=row["household_id"], note=note)
    else:
        w.truth(rule, id_number=row["id_number"], note=note)


def p01_cards(w: World) -> None:
    """Two cards that are on no roll, opened for people outside the roll (before numbering)."""
    like = w.roll.row(0, named=True)  # only its township is borrowed
    for _ in range(2):
        holder = w.take("P01 holder")
        w.p01_keys.append(w.new_card(holder["pid"], like))


def p01(w: World) -> None:
    """Monthly 低保 / 特困 payments to the two cards that are not on the roll."""
    keys = w.roll.select("card_pid").unique()
    cards = w.accounts.filter(pl.col("holder_pid").is_not_null())
    for key, fund, amount, months, note in (
        (w.p01_keys[0], "农村低保", 45000, range(1, 7), "Jan-Jun 农村低保 to a card on no roll"),
        (w.p01_keys[1], "特困供养", 80000, range(3, 13), "Mar-Dec 特困供养 to a card on no roll"),
    ):
        assert keys.filter(pl.col("card_pid") == key).height == 0
        acct = cards.filter(pl.col("card_pid") == key).to_dicts()[0]
        rows = pl.DataFrame({"month": list(months)}).with_columns(
            pl.lit(acct["card_no"]).alias("card_no"), pl.lit(acct["holder_name"]).alias("account_name"),
            pl.lit(amount, pl.Int64).alias("amount"), pl.lit(fund).alias("fund"),
            pl.lit(None, pl.Int64).alias("hid"), pl.lit(None, pl.Int64).alias("pid"),
            pl.lit(0, pl.Int64).alias("t"), pl.lit(9, pl.Int64).alias("day"),
            pl.lit(0, pl.Int64).alias("style"), pl.col("month").cast(pl.Int64))
        w.pays.add(shape(rows))
        w.truth("P01", card_no=acct["card_no"], note=note)


def c02_split(w: World) -> None:
    """The C02 household's 低保 goes to the spouse's card from July on."""
    hid, member = w.split_household
    card = w.roll.filter(pl.col("pid") == member)["card_no"][0]
    name = w.accounts.filter(pl.col("card_no") == card)["holder_name"][0]
    w.pays.edit((pl.col("hid") == hid) & (pl.col("fund") == "农村低保") & (pl.col("month") >= 7),
                card_no=pl.lit(card), account_name=pl.lit(name))


def p02(w: World) -> None:
    """Two months left unpaid."""
    for hid, months in ((w.pick(("RURAL",))[0], (3, 8)), (w.person(), (5, 6))):
        w.pays.drop((pl.col("hid") == hid) & pl.col("month").is_in(months))
        _truth(w, "P02", hid, f"no payment in months {months[0]} and {months[1]}")


def p03(w: World) -> None:
    """Paid 100 元 a month over the approved amount; 50 元 under from April."""
    hid = w.pick(("RURAL",))[0]
    w.pays.edit(pl.col("hid") == hid, amount=pl.col("amount") + 10000)
    _truth(w, "P03", hid, "paid 100.00 over the household's approved sum every month")
    hid = w.pick(("URBAN",))[0]
    w.pays.edit((pl.col("hid") == hid) & (pl.col("month") >= 4), amount=pl.col("amount") - 5000)
    _truth(w, "P03", hid, "paid 50.00 under the approved sum Apr-Dec")


def p04(w: World) -> None:
    """One month paid twice, two days apart, same memo."""
    for hid, month in ((w.pick(("RURAL",))[0], 7), (w.person(), 10)):
        w.pays.duplicate((pl.col("hid") == hid) & (pl.col("month") == month),
                         pay_date=pl.col("pay_date") + pl.duration(days=2),
                         batch=pl.col("batch") + pl.lit("B"))
        _truth(w, "P04", hid, f"month {month} paid twice")


def p05(w: World) -> None:
    """Paid on the 20th-23rd (after the 15th) for four months; May paid on 20 June."""
    hid = w.pick(("RURAL",))[0]
    w.pays.edit((pl.col("hid") == hid) & pl.col("month").is_between(6, 9),
                pay_date=pl.date(2023, pl.col("month"), 20 + pl.col("month") - 6))
    _truth(w, "P05", hid, "Jun-Sep paid on the 20th-23rd")
    hid = w.person()
    may = (pl.col("hid") == hid) & (pl.col("month") == 5)
    w.pays.edit(may, memo=pl.lit("2023年05月") + pl.col("fund"), pay_date=pl.date(2023, 6, 20),
                month=pl.lit(6, pl.Int64))
    _truth(w, "P05", hid, "May's payment made on 2023-06-20")


def p06(w: World) -> None:
    """Stopped on the roll in June / May, paid on until September / August."""
    for hid, end, last in ((w.pick(("RURAL",))[0], "2023-06-30", 9), (w.person(), "2023-05-31", 8)):
        w.pays.drop((pl.col("hid") == hid) & (pl.col("month") > last))
        w.set_roll(pl.col("hid") == hid, end_date=date.fromisoformat(end))
        _truth(w, "P06", hid, f"roll ends {end}, paid until month {last}")


def lookalikes(w: World) -> None:
    """One-off 临时救助 with its memo; households stopped in 2023 whose payments stopped too."""
    temp = w.roll.filter(pl.col("fund") == "临时救助").sort("hid").head(2).to_dicts()
    for row in temp:
        note = "one 临时救助 payment with its proper memo"
        w.truth("C05", kind="lookalike", card_no=row["card_no"], note=note)
        w.truth("P02", kind="lookalike", id_number=row["id_number"], note=note)
        w.truth("P04", kind="lookalike", id_number=row["id_number"], note=note + ", same month as 低保")
    stopped = (
        w.roll.filter(pl.col("kind").is_in(["RURAL", "URBAN"]) & pl.col("end_date").is_not_null()
                      & (pl.col("start_date") < pl.date(2023, 1, 1))
                      & ~pl.col("hid").is_in(sorted(w.used)))
        .group_by("hid").agg(pl.col("household_id").first(), pl.col("end_date").max())
        .sort("hid").head(2)
    )
    for row in stopped.to_dicts():
        w.truth("P06", kind="lookalike", household_id=row["household_id"],
                note=f"roll ends {row['end_date']}, payments stop then too")
