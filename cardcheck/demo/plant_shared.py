"""Several people's person-level fund on one card: planted P03–P05 cases and their look-alikes.

Two shapes real rolls have and a county of a few hundred households would otherwise never show:

- orphan siblings under one guardian: four or five of the county's orphans get one or two
  brothers and sisters on the roll (兄弟姐妹, same household, card and term, the same guardian as
  payee and card holder), and the bank credits the card once a month for all of them;
- two disabled members of a 低保 household (the 户主 and the 配偶) whose 困难残疾人生活补贴 or
  重度残疾人护理补贴 is paid onto the 户主's card, beside the household's 低保.

Look-alikes are paid in full (one credit for all, or one credit each); planted cases are paid for
one child or one member only (P03), a month paid twice (P04), months paid late (P05). Cases are
recorded by household and card: the rules reconcile such a card as one unit and name every member.

These plants run last, on households no other plant takes (orphans are in no other plant's
pool; the 低保 households come from the far end of the plain order, `World.pick_last`), with
draws of their own (`World.late_rng`): the households and payments of every other plant stay
as they were.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.payments import YEAR, shape
from cardcheck.demo.people import REF_DAY
from cardcheck.demo.world import World
from cardcheck.errors import CardcheckError

ORPHAN_FUND = "孤儿基本生活费"
SIBLING = "兄弟姐妹"
# (kind, children on the card, how the card is paid); the first four are planted in every county
# (people.py gives it at least four orphans), the last where there is a fifth
ORPHAN_SHAPES = (("P03", 2, "half"), ("P04", 2, "twice"), ("P05", 3, "late"),
                 ("lookalike", 3, "mixed"), ("lookalike", 2, "whole"))
DISABLED_SHAPES = (("lookalike", "困难残疾人生活补贴", 8000, "one credit for both every month"),
                   ("P03", "重度残疾人护理补贴", 10000, "one member's amount from May"),
                   ("P04", "困难残疾人生活补贴", 8000, "September paid twice"))


def _months(row: dict[str, Any]) -> tuple[int, int]:
    """First and last month of the year the row's term covers."""
    start, end = row["start_date"], row["end_date"]
    first = 1 if start.year < YEAR else (start.month if start.year == YEAR else 13)
    last = 12 if end is None or end.year > YEAR else (end.month if end.year == YEAR else 0)
    return first, last


def _guardian_holds(w: World, row: dict[str, Any]) -> None:
    """The orphan's guardian (the roll's payee) holds the card, as for most orphans: where the
    card is the child's own, opened by the guardian as agent, it becomes the guardian's."""
    if row["holder_pid"] == row["payee_pid"]:
        return
    guardian = w.who(row["payee_pid"])
    contacts = w.contacts(guardian["pid"])
    card = row["card_no"]
    w.set_account(card, holder_name=guardian["name"], holder_id=guardian["id_number"],
                  phone=contacts["phone"], address=contacts["address"],
                  holder_pid=guardian["pid"], agent_name=None, agent_id=None, agent_pid=None)
    w.set_roll(pl.col("card_no") == card, holder_pid=guardian["pid"], agent_pid=None)
    names = w.pays.names
    w.pays.names = names.with_columns(
        pl.when(pl.col("card_no") == card).then(pl.lit(guardian["name"]))
        .otherwise(pl.col("account_name")).alias("account_name"))


def _new_ids(w: World, births: list[date], male: list[bool]) -> list[str]:
    """Valid ID numbers of this county for the births, none already given to anyone."""
    taken = set(w.county.persons["id_number"].to_list())
    out = []
    for birth, m in zip(births, male, strict=True):
        while True:
            seq = int(w.late_rng.integers(300, 500)) * 2 + int(m)
            body = f"141125{birth:%Y%m%d}{seq:03d}"
            number = codes.with_check(body)
            if number not in taken:
                taken.add(number)
                out.append(number)
                break
    return out


def _siblings(w: World, head: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """`n` brothers and sisters of the orphan `head`, added to the county's people and to the
    roll: the same household, card, guardian and term."""
    rng = w.late_rng
    births: list[date] = []
    lo, hi = date(2006, 9, 1), date(2021, 6, 30)  # under 17 on the reference day, over 1
    while len(births) < n:
        d = head["birth"] + timedelta(days=int(rng.choice([-1, 1]) * rng.integers(400, 2200)))
        if lo <= d <= hi and all(abs((d - b).days) > 300 for b in [head["birth"], *births]):
            births.append(d)
    male = [bool(x) for x in rng.random(n) < 0.5]
    surname = codes.SURNAMES.index(head["name"][0])
    names = codes.names(rng, np.full(n, surname), np.array(male)).tolist()
    ids = _new_ids(w, births, male)
    persons = w.county.persons
    first_pid = int(persons.select(pl.col("pid").max()).item()) + 1
    ref = REF_DAY.astype(object)
    kids = []
    for i in range(n):
        kid = {"pid": first_pid + i, "hid": head["hid"], "slot": head["slot"] + 1 + i,
               "relation": SIBLING, "age": (ref - births[i]).days // 365, "male": male[i],
               "role": "member", "birth": births[i], "region": 141125, "id_number": ids[i],
               "name": names[i]}
        kids.append(kid)
        w.add_roll(head, **kid, agent_pid=None)
    w.county.persons = pl.concat([persons, pl.DataFrame(kids, schema=persons.schema)])
    contacts = w.contact_frame.filter(pl.col("pid") == head["pid"])
    w.contact_frame = pl.concat([w.contact_frame] + [
        contacts.with_columns(pl.lit(k["pid"], pl.Int64).alias("pid")) for k in kids])
    w.county.households = w.county.households.with_columns(
        pl.when(pl.col("hid") == head["hid"]).then(pl.col("size") + n)
        .otherwise(pl.col("size")).alias("size"))
    return kids


def _credits(w: World, hid: int, pid: int | None, fund: str, card: str, t: int,
             months: list[int], amount: pl.Expr) -> pl.DataFrame:
    """Payments onto `card` for `months`, in the township's batch of the fund and month (its day
    and memo style), `amount` an expression of `month`."""
    name = w.pays.names.filter(pl.col("card_no") == card)["account_name"][0]
    base = pl.DataFrame({"month": months}, schema={"month": pl.Int64}).with_columns(
        pl.lit(card).alias("card_no"), pl.lit(name).alias("account_name"),
        pl.lit(fund).alias("fund"), pl.lit(hid, pl.Int64).alias("hid"),
        pl.lit(pid, pl.Int64).alias("pid"), pl.lit(t, pl.Int64).alias("t"),
    ).with_columns(amount.cast(pl.Int64).alias("amount"))
    return shape(base.join(w.pays.batches, on=["t", "fund", "month"], how="left"))


def _again(pays: pl.DataFrame, month: int) -> pl.DataFrame:
    """`pays` with `month`'s payment made a second time two days later, in a batch of its own."""
    second = pays.filter(pl.col("month") == month).with_columns(
        pl.col("pay_date") + pl.duration(days=2), pl.col("batch") + pl.lit("B"))
    return pl.concat([pays, second])


def orphan_siblings(w: World) -> None:
    """Orphan siblings on one guardian's card: planted P03, P04, P05 and two look-alikes."""
    orphans = (
        w.roll.filter((pl.col("kind") == "ORPHAN") & (pl.col("fund") == ORPHAN_FUND)
                      & ~pl.col("hid").is_in(sorted(w.used)))
        .with_columns(whole=(pl.col("start_date") < pl.date(YEAR, 1, 1))
                      & pl.col("end_date").is_null())
        .sort(pl.col("whole").not_(), "hid")
    ).to_dicts()
    if len(orphans) < 4:  # pragma: no cover - people.py plants at least four orphans
        raise CardcheckError("the demo county is too small to plant every case (orphans run out)")
    month = pl.col("month")
    for (kind, n, paid), head in zip(ORPHAN_SHAPES, orphans, strict=False):
        w.used.add(head["hid"])
        _guardian_holds(w, head)
        head = w.head(head["hid"])
        kids = _siblings(w, head, n - 1)
        card = head["card_no"]
        names = "、".join([head["name"]] + [kid["name"] for kid in kids])
        first, last = _months(head)
        on_card = (pl.col("card_no") == card) & (pl.col("fund") == ORPHAN_FUND)
        if paid == "half":  # one child's amount from April: the other child goes unpaid
            start = min(max(first, 4), last)
            w.pays.edit(on_card & (month < start), amount=pl.col("amount") * n)
            what = f"one child's amount from month {start}"
        elif paid == "twice":
            again = min(max(first, 8), last)
            w.pays.edit(on_card, amount=pl.col("amount") * n)
            w.pays.duplicate(on_card & (month == again),
                             pay_date=pl.col("pay_date") + pl.duration(days=2),
                             batch=pl.col("batch") + pl.lit("B"))
            what = f"one credit for both, month {again} credited twice"
        elif paid == "late":
            late = max(first, min(3, last))
            w.pays.edit(on_card, amount=pl.col("amount") * n)
            w.pays.edit(on_card & month.is_between(late, late + 2),
                        pay_date=pl.date(YEAR, month, 20 + month - late))
            what = f"one credit for all, months {late}-{late + 2} paid on the 20th-22nd"
        elif paid == "mixed":  # the guardian asked for one credit each from July
            w.pays.edit(on_card & (month <= 6), amount=pl.col("amount") * n)
            each = list(range(max(first, 7), last + 1))
            for kid in kids:
                w.pays.add(_credits(w, head["hid"], kid["pid"], ORPHAN_FUND, card, head["t"],
                                    each, pl.lit(head["monthly_amount"])))
            what = "one credit for all to June, one credit each from July"
        else:
            w.pays.edit(on_card, amount=pl.col("amount") * n)
            what = "one credit for both every month"
        note = f"orphan siblings {names} on one guardian's card: {what}"
        for rule in ("P02", "P03", "P04", "P05") if kind == "lookalike" else (kind,):
            w.truth(rule, kind="lookalike" if kind == "lookalike" else "planted",
                    household_id=head["household_id"], card_no=card, note=note)


def disabled_pairs(w: World) -> None:
    """Two disabled members' subsidies on the 户主's card of a 低保 household: a look-alike,
    planted P03 and P04."""
    for kind, fund, amount, what in DISABLED_SHAPES:
        hid = w.pick_last(("RURAL", "URBAN"), min_size=2)[0]
        rows = w.rows(hid)
        head = rows[0]
        member = next((r for r in rows if r["relation"] == "配偶"), rows[1])
        w.add_roll(head, fund=fund, monthly_amount=amount)
        w.add_roll(member, fund=fund, monthly_amount=amount, payee_pid=head["pid"],
                   payee_name=head["name"], payee_id=head["id_number"])
        card = head["card_no"]
        month = pl.col("month")
        if kind == "P03":
            paid = pl.when(month >= 5).then(pl.lit(amount)).otherwise(pl.lit(2 * amount))
        else:
            paid = pl.lit(2 * amount)
        pays = _credits(w, hid, None, fund, card, head["t"], list(range(1, 13)), paid)
        if kind == "P04":
            pays = _again(pays, 9)
        w.pays.add(pays)
        note = f"{fund} of {head['name']}、{member['name']} on the 户主's card: {what}"
        for rule in ("P02", "P03", "P04", "P05") if kind == "lookalike" else (kind,):
            w.truth(rule, kind="lookalike" if kind == "lookalike" else "planted",
                    household_id=head["household_id"], card_no=card, note=note)
