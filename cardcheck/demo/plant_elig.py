"""Planted eligibility cases (E01–E09) and their look-alikes: rows added to the reference lists,
the officials and relatives lists and the neighbouring county's roll; a few IDs spoilt."""

from __future__ import annotations

from datetime import date

import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.world import World


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _list_row(w: World, kind: str, person: dict, **values: object) -> None:
    w.add_list_row(kind, {"pid": person["pid"], "id_number": person["id_number"],
                          "name": person["name"], **values})


def lookalikes_roll(w: World) -> None:
    """Roll shapes for look-alikes (before payments): a death after the roll ended; a person
    whose other-county entry ended before this one began."""
    for hid, end, died in ((w.person(), "2023-09-30", "2023-09-20"),
                           (w.person(), "2023-11-30", "2023-11-03")):
        row = w.head(hid)
        w.set_roll(pl.col("hid") == hid, end_date=_d(end))
        w.late_deaths.append((row, died))
    for hid in (w.pick(("RURAL",))[0], w.person()):
        row = w.head(hid)
        w.set_roll(pl.col("hid") == hid, start_date=_d("2022-09-01"))
        w.moved_here.append(row)


def e01(w: World) -> None:
    for hid, died in ((w.person(), "2023-03-10"), (w.person(), "2023-05-21"),
                      (w.pick(("RURAL", "URBAN"), max_size=1)[0], "2023-02-14")):
        row = w.head(hid)
        _list_row(w, "deaths", row, death_date=_d(died))
        w.truth("E01", id_number=row["id_number"], note=f"died {died}, paid all year")
    for row, died in w.late_deaths:
        _list_row(w, "deaths", row, death_date=_d(died))
        w.truth("E01", kind="lookalike", id_number=row["id_number"],
                note=f"died {died}; roll ended and payments stopped that month")


def e02(w: World) -> None:
    for hid, start, end in ((w.person(), "2023-04-01", "2024-10-31"),
                            (w.pick(("RURAL",))[0], "2022-12-15", "2023-08-14")):
        row = w.head(hid)
        _list_row(w, "prisoners", row, start_date=_d(start), end_date=_d(end))
        w.truth("E02", id_number=row["id_number"], note=f"in prison {start} to {end}")
    for hid in (w.person(), w.pick(("RURAL",))[0]):
        row = w.head(hid)
        _list_row(w, "prisoners", row, start_date=_d("2019-05-06"), end_date=_d("2022-10-31"))
        w.truth("E02", kind="lookalike", id_number=row["id_number"], note="released 2022-10-31")


def _member(w: World, kinds: tuple[str, ...], head: bool) -> dict:
    rows = w.rows(w.pick(kinds, min_size=1 if head else 2)[0])
    return rows[0] if head else rows[1]


def _head_id(w: World, row: dict) -> str:
    return str(w.head(row["hid"])["id_number"])


def e03_e05(w: World) -> None:
    cases = (
        ("payroll", "E03", ("RURAL",), False, {"employer": "柳林县第二中学", "start_date": _d("2016-09-01"),
                                                "end_date": None}),
        ("payroll", "E03", ("URBAN",), True, {"employer": "柳林县城市管理局", "start_date": _d("2019-03-01"),
                                               "end_date": None}),
        ("business", "E04", ("RURAL",), True, {"role": "个体工商户", "entity": "柳林县德顺副食门市部",
                                                "start_date": _d("2018-06-12"), "end_date": None}),
        ("business", "E04", ("URBAN",), False, {"role": "法定代表人", "entity": "山西鑫源商贸有限公司",
                                                 "start_date": _d("2020-11-03"), "end_date": None}),
        ("pensions", "E05", ("RURAL",), True, {"monthly_pension": 265000, "start_date": _d("2019-07-01"),
                                                "end_date": None}),
        ("pensions", "E05", ("URBAN",), False, {"monthly_pension": 312050, "start_date": _d("2021-01-01"),
                                                 "end_date": None}),
    )
    for kind, rule, kinds, head, values in cases:
        row = _member(w, kinds, head)
        _list_row(w, kind, row, **values)
        note = f"{row['relation']} of a {row['fund']} household on the {kind} list"
        if kind == "pensions":  # the pensioner's own share
            w.truth(rule, id_number=row["id_number"], note=note)
        else:  # anyone of the household on the list: the household's 低保, under its 户主
            w.truth(rule, household_id=row["household_id"], id_number=_head_id(w, row),
                    note=note)
    noise = w.lists["business"].filter(pl.col("pid").is_in(w.pool.used["business"].tolist()))
    for row in noise.sort("pid").head(2).to_dicts():
        w.truth("E04", kind="lookalike", id_number=row["id_number"], note="business owner not on the roll")


def e06(w: World) -> None:
    row = w.head(w.pick(("RURAL",))[0])
    w.add_roll(row, fund="特困供养", monthly_amount=70000)
    w.truth("E06", id_number=row["id_number"], note="户主 receives 农村低保 and 特困供养")
    row = w.head(w.pick(("TEKUN",))[0])
    w.add_roll(row, fund="困难残疾人生活补贴", monthly_amount=8000)
    w.truth("E06", id_number=row["id_number"], note="特困供养 and 困难残疾人生活补贴 together")
    both = w.roll.filter(pl.col("fund") == "困难残疾人生活补贴").join(
        w.roll.filter(pl.col("fund").is_in(["农村低保", "城市低保"])).select("pid"), on="pid")
    for row in both.sort("hid").head(2).to_dicts():
        w.truth("E06", kind="lookalike", id_number=row["id_number"],
                note="低保 with 困难残疾人生活补贴: allowed together")


def e07(w: World) -> None:
    def add(row: dict, start: str, end: str | None) -> None:
        new: dict[str, object] = {c: None for c in w.other_roll.columns}
        new.update({"region_code": "141124", "township": "白文镇", "village": "白文村",
                    "household_id": "14112400200099" + str(len(w.other_roll) % 1000).zfill(3),
                    "name": row["name"], "id_number": row["id_number"], "relation": "户主",
                    "fund": row["fund"] if row["fund"] != "城市低保" else "农村低保",
                    "monthly_amount": 40000, "start_date": _d(start),
                    "end_date": None if end is None else _d(end), "source_region": "临县"})
        w.other_roll = pl.concat([w.other_roll, pl.DataFrame([new], schema=w.other_roll.schema)])

    for row in (_member(w, ("RURAL",), False), w.head(w.person())):
        add(row, "2021-03-01", None)
        w.truth("E07", id_number=row["id_number"], note="also on 临县's roll since 2021-03, still open")
    for row in w.moved_here:
        add(row, "2019-03-01", "2022-06-30")
        w.truth("E07", kind="lookalike", id_number=row["id_number"],
                note="临县's entry ended 2022-06-30, this one began 2022-09-01")


def e08(w: World) -> None:
    off = w.officials

    def official(person: dict, household_id: str, position: str) -> None:
        new = {"pid": person["pid"], "id_number": person["id_number"], "name": person["name"],
               "position": position, "region": person.get("township", "") + person.get("village", ""),
               "household_id": household_id, "t": 0, "vid": 0}
        w.officials = pl.concat([w.officials, pl.DataFrame([new], schema=off.schema)])

    row = w.head(w.pick(("RURAL",))[0])
    official(row, row["household_id"], "村民委员会委员")
    w.truth("E08", household_id=row["household_id"],
            note="a village committee member is himself on 低保 (his household with him)")
    row = w.head(w.pick(("RURAL",), min_size=2)[0])
    cadre = w.take("E08 official")
    official({**cadre, "township": row["township"], "village": row["village"]}, row["household_id"],
             "村党支部副书记")
    w.truth("E08", household_id=row["household_id"], note=f"household of cadre {cadre['name']}")
    boss = off.sort("t", "vid").to_dicts()[0]
    for hid, filed, kind, note in ((w.person(), False, "planted", "relative filed 否"),
                                   (w.person(), None, "planted", "relative, filing blank"),
                                   (w.person(), True, "lookalike", "relative filed 是"),
                                   (w.person(), True, "lookalike", "relative filed 是")):
        row = w.head(hid)
        rel = {"official_id": boss["id_number"], "official_name": boss["name"],
               "relative_id": row["id_number"], "relative_name": row["name"],
               "relation": "兄弟姐妹", "filed": filed}
        w.relatives = pl.concat([w.relatives, pl.DataFrame([rel], schema=w.relatives.schema)])
        w.truth("E08", kind=kind, id_number=row["id_number"], note=f"{note} (of {boss['position']})")


def e09_accounts(w: World) -> None:
    """Precision lost on a holder's ID in the bank's file; a holder's name mistyped by the bank."""
    hid = w.pick(("RURAL",))[0]
    while w.head(hid)["id_number"].endswith("X"):  # Excel could not take it for a number
        hid = w.pick(("RURAL",))[0]
    card = w.card_of(hid)
    w.set_account(card, precision_lost=True)
    w.truth("E09", card_no=card, note="holder's ID stored as a number by Excel: digits lost")
    row = w.head(w.person())
    w.set_account(row["card_no"], holder_name=codes.misspelt(row["name"]))
    w.truth("E09", id_number=row["id_number"], note="bank's 户名 differs from the roll's name")


def e09_roll(w: World) -> None:
    """A wrong check digit; an impossible birth date (29 February in a common year)."""
    row = w.head(w.person())
    bad = codes.wrong_check(row["id_number"])
    w.set_roll(pl.col("pid") == row["pid"], id_number=bad, id_status="bad_checksum")
    w.truth("E09", id_number=bad, note="check digit fails GB 11643")
    row = _member(w, ("RURAL", "URBAN"), False)
    old = row["id_number"]
    year = int(old[6:10])
    year = year + 1 if year % 4 == 0 else year
    bad = codes.with_check(old[:6] + f"{year}0229" + old[14:17])
    w.set_roll(pl.col("pid") == row["pid"], id_number=bad, id_status="bad_birth_date")
    w.truth("E09", id_number=bad, note="birth date 29 February of a common year")
