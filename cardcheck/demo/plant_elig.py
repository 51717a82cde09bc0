"""Planted eligibility cases (E01–E09) and their look-alikes: rows added to the reference lists,
the officials and relatives lists and the neighbouring county's roll; a few IDs spoilt."""

from __future__ import annotations

from datetime import date

import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.world import World
from cardcheck.errors import CardcheckError


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _list_row(w: World, kind: str, person: dict, **values: object) -> None:
    w.add_list_row(kind, {"pid": person["pid"], "id_number": person["id_number"],
                          "name": person["name"], **values})


def lookalikes_roll(w: World) -> None:
    """Roll shapes for look-alikes and list cases (before payments): a death after the roll
    ended; a person whose other-county entry ended before this one began; disabled couples
    (couples_roll)."""
    couples_roll(w)
    for hid, end, died in ((w.person(), "2023-09-30", "2023-09-20"),
                           (w.person(), "2023-11-30", "2023-11-03")):
        row = w.head(hid)
        w.set_roll(pl.col("hid") == hid, end_date=_d(end))
        w.late_deaths.append((row, died))
    for hid in (w.pick(("RURAL",))[0], w.person()):
        row = w.head(hid)
        w.set_roll(pl.col("hid") == hid, start_date=_d("2022-09-01"))
        w.moved_here.append(row)


def _couples(w: World) -> pl.DataFrame:
    """Plain 农村低保 households of a 户主 and a 配偶, in the order plants take them: hid,
    head_surname, spouse_surname."""
    free = w.plain.filter((pl.col("kind") == "RURAL") & (pl.col("people") == 2)
                          & ~pl.col("hid").is_in(sorted(w.used)))
    rows = w.roll.join(free.select("hid", "order"), on="hid")
    sur = pl.col("name").str.slice(0, 1)
    return (
        rows.group_by("hid", "order").agg(
            sur.filter(pl.col("relation") == "户主").first().alias("head_surname"),
            sur.filter(pl.col("relation") == "配偶").first().alias("spouse_surname"))
        .drop_nulls().sort("order")
    )


def couples_roll(w: World) -> None:
    """Three 农村低保 couples become disabled couples, each on their own card (before cards are
    numbered): the 户主 of one receives 困难残疾人生活补贴 and the 配偶, on the payroll,
    重度残疾人护理补贴 (planted: the audit's "财政供养人员配偶"); in a second both receive 护理补贴,
    which is not income-tested, and the 配偶 is on the payroll (look-alike); the 户主 of a third
    receives 困难残疾人生活补贴 and shares a surname with that second 配偶, who is not the 户主's
    spouse (look-alike: matched by household and relation, never by name)."""
    couples = _couples(w)
    # the second couple's 配偶 and the third couple's 户主 share a surname
    pair = couples.join(couples, left_on="spouse_surname", right_on="head_surname",
                        suffix="_a").filter(pl.col("hid") != pl.col("hid_a")) \
        .sort("order", "order_a").head(1)
    if pair.height == 0:  # pragma: no cover - a county of 300 households has dozens of couples
        raise CardcheckError("the demo county is too small to plant every case (couples run out)")
    listed, alike = int(pair["hid"][0]), int(pair["hid_a"][0])
    planted = couples.filter(~pl.col("hid").is_in([listed, alike]))["hid"][0]
    w.used.update([listed, alike, planted])
    for hid, head_fund in ((planted, "困难残疾人生活补贴"), (listed, "重度残疾人护理补贴"),
                           (alike, "困难残疾人生活补贴")):
        for fund, rel in ((head_fund, "户主"), ("重度残疾人护理补贴", "配偶")):
            cond = (pl.col("hid") == hid) & (pl.col("relation") == rel)
            w.set_roll(cond, fund=fund, monthly_amount=8000 if fund == "困难残疾人生活补贴" else 10000)
            w.roll = w.roll.with_columns(pl.when(cond).then(pl.col("pid")).otherwise(
                pl.col("card_pid")).alias("card_pid"))
            w.roll = w.roll.with_columns(pl.when(cond).then(pl.col("pid")).otherwise(
                pl.col("holder_pid")).alias("holder_pid"))
    for hid, start in ((planted, "2014-08-01"), (listed, "2009-03-01")):
        wife = next(r for r in w.rows(hid) if r["relation"] == "配偶")
        _list_row(w, "payroll", wife, employer="柳林县水利局" if hid == planted else "柳林县人民医院",
                  start_date=_d(start), end_date=None)
    head, wife = w.rows(planted)
    w.truth("E03", household_id=head["household_id"], id_number=head["id_number"],
            note=f"户主 on 困难残疾人生活补贴, the 配偶 {wife['name']} on the payroll list")
    head, wife = w.rows(listed)
    for row in (head, wife):
        w.truth("E03", kind="lookalike", id_number=row["id_number"],
                note="重度残疾人护理补贴 is not income-tested; the 配偶 is on the payroll list")
    head = w.rows(alike)[0]
    w.truth("E03", kind="lookalike", id_number=head["id_number"],
            note=f"困难残疾人生活补贴; {wife['name']} on the payroll list is the 配偶 of another "
                 "household with the 户主's surname")


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


def _son(w: World) -> dict:
    """A grown son (子女, 22 or older) of a plain 农村低保 household no plant has used."""
    free = w.plain.filter((pl.col("kind") == "RURAL") & ~pl.col("hid").is_in(sorted(w.used)))
    sons = w.roll.join(free.select("hid", "order"), on="hid").filter(
        (pl.col("relation") == "子女") & pl.col("male") & (pl.col("age") >= 22)
    ).sort("order", "slot")
    if sons.height == 0:  # pragma: no cover - hundreds of 农村低保 households have sons
        raise CardcheckError("the demo county is too small to plant every case (sons run out)")
    son = sons.row(0, named=True)
    w.used.add(son["hid"])
    return son


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
    son = _son(w)
    _list_row(w, "business", son, role="个体工商户", entity=f"柳林县{son['name'][0]}氏汽车修理部",
              start_date=_d("2021-05-18"), end_date=None)
    w.truth("E04", household_id=son["household_id"], id_number=_head_id(w, son),
            note=f"农村低保 household whose son {son['name']} is a registered business owner")
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
