"""Planted card-integrity cases (C01–C08) and their look-alikes.

Each function changes a few rows of one table and records the truth. The roll-shaped ones run
before cards are numbered (they add cards), the account ones before payments (the bank's 户名 on
payments follows the account), the transaction profiles before transactions.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cardcheck.demo import codes
from cardcheck.demo.world import World

# ---------------------------------------------------------------- before cards (roll shapes)


def c01(w: World) -> None:
    """A 特困 person and a 低保 户主 each registered on a second card for a further fund."""
    for hid, note in ((w.person(), "特困/残补 on one card, 护理补贴 on a second card"),
                      (w.pick(("RURAL",))[0], "户主: 低保 on the household card, 护理补贴 on his own second card")):
        row = w.head(hid)
        key = w.new_card(row["pid"], row)
        w.add_roll(row, fund="重度残疾人护理补贴", monthly_amount=10000, card_pid=key, holder_pid=row["pid"])
        w.truth("C01", id_number=row["id_number"], note=note)


def c02(w: World) -> None:
    """Household 低保 paid onto a member's card for half the year; a child registered on a card."""
    hid = w.pick(("RURAL",), min_size=2)[0]
    member = w.rows(hid)[1]
    key = w.new_card(member["pid"], member)
    w.set_roll(pl.col("pid") == member["pid"], card_pid=key, holder_pid=member["pid"])
    w.split_household = (hid, member["pid"])
    w.truth("C02", household_id=member["household_id"],
            note="农村低保 paid onto the 户主's card Jan-Jun and the spouse's card Jul-Dec")
    hid = w.pick(("RURAL", "URBAN"), min_size=3)[0]
    member = w.rows(hid)[2]
    key = w.new_card(member["pid"], member)
    w.set_roll(pl.col("pid") == member["pid"], card_pid=key, holder_pid=member["pid"])
    w.truth("C02", household_id=member["household_id"],
            note="a member registered on the roll with a second card of the household")


def lookalikes_roll(w: World) -> None:
    """代领人 and guardians holding the card; a spouse who opened the 户主's card."""
    for _ in range(2):
        row = w.head(w.pick(("TEKUN",))[0])
        proxy = w.take("代领人")
        w.set_roll(pl.col("pid") == row["pid"], payee_pid=proxy["pid"], holder_pid=proxy["pid"])
        w.lookalike_cards.append(("C03", row["card_pid"], "registered 代领人 holds the card"))
    orphans = w.roll.filter((pl.col("kind") == "ORPHAN") & (pl.col("holder_pid") == pl.col("payee_pid")))
    for row in orphans.sort("hid").head(2).to_dicts():
        w.lookalike_cards.append(("C03", row["card_pid"], "orphan's guardian (payee on the roll) holds the card"))
    for _ in range(2):
        hid = w.pick(("RURAL", "URBAN"), min_size=2)[0]
        rows = w.rows(hid)
        spouse = next((r for r in rows if r["relation"] == "配偶"), rows[1])
        w.set_roll(pl.col("pid") == rows[0]["pid"], agent_pid=spouse["pid"])
        w.lookalike_cards.append(("C06", rows[0]["card_pid"], "card opened by the spouse, a household member"))


# ---------------------------------------------------------------- before payments (accounts)


def _holder(w: World, card: str, person: dict) -> None:
    contacts = w.contacts(person["pid"])
    w.set_account(card, holder_name=person["name"], holder_id=person["id_number"],
                  phone=contacts["phone"], address=contacts["address"], holder_pid=person["pid"])


def c03(w: World) -> None:
    """Cards held by someone who is neither beneficiary, payee nor household member."""
    for hid in (w.person(), w.pick(("RURAL",))[0]):
        card = w.card_of(hid)
        other = w.take("C03 holder")
        _holder(w, card, other)
        w.truth("C03", card_no=card, note=f"card held by {other['name']}, not on the roll")


def c04(w: World) -> None:
    """A cadre's phone reserved on five households' cards; one address on four."""
    cadre = w.officials.filter(pl.col("position") == "村委会主任").sort("vid").to_dicts()[0]
    phone = w.contacts(cadre["pid"])["phone"]
    for hid in w.pick(("RURAL", "URBAN"), n=5):
        card = w.card_of(hid)
        w.set_account(card, phone=phone)
        w.truth("C04", card_no=card, note=f"村委会主任 {cadre['name']}'s phone reserved on 5 households' cards")
    keeper = w.take("C04 keeper")
    address = w.contacts(keeper["pid"])["address"]
    for hid in w.pick(("RURAL",), n=4):
        card = w.card_of(hid)
        w.set_account(card, address=address)
        w.truth("C04", card_no=card, note=f"{keeper['name']}'s home address on 4 households' cards")


def c06(w: World) -> None:
    """Cards opened through an agent with no tie to the holder."""
    for hid in (w.person(), w.pick(("RURAL", "URBAN"))[0]):
        card = w.card_of(hid)
        agent = w.take("C06 agent")
        w.set_account(card, agent_name=agent["name"], agent_id=agent["id_number"], agent_pid=agent["pid"])
        w.truth("C06", card_no=card, note=f"opened through {agent['name']}, unrelated to the holder")


def lookalike_accounts(w: World) -> None:
    """Truth rows of the look-alike cards (their card numbers exist now)."""
    keys = w.roll.select("card_pid", "card_no").unique()
    for rule, key, note in w.lookalike_cards:
        card = keys.filter(pl.col("card_pid") == key)["card_no"][0]
        w.truth(rule, kind="lookalike", card_no=card, note=note)
    pairs = w.roll.filter(pl.col("kind") == "DISAB").group_by("hid").agg(
        pl.col("card_no").n_unique().alias("cards"), pl.col("household_id").first()
    ).filter(pl.col("cards") == 2).sort("hid").head(2)
    for hh in pairs["household_id"].to_list():
        w.truth("C04", kind="lookalike", household_id=hh,
                note="two disabled members' cards share the household's phone")


# ---------------------------------------------------------------- after payments (memos, profiles)


def c05(w: World) -> None:
    """Memos that say nothing: 代发, empty, the holder's name."""
    for hid, memo, note in ((w.person(), "代发", "memo 代发 on every payment"),
                            (w.pick(("RURAL",))[0], None, "memo left empty on every payment"),
                            (w.person(), "name", "memo is the holder's name")):
        card = w.card_of(hid)
        value = pl.col("account_name") if memo == "name" else pl.lit(memo, pl.String)
        w.pays.edit(pl.col("card_no") == card, memo=value)
        w.truth("C05", card_no=card, note=note)


def c07(w: World) -> None:
    """Cards of 4 and 3 households each passing 90% of every credit to one outside account;
    two households to a third account (below the threshold, a look-alike)."""
    for i, (n, kind) in enumerate(((4, "planted"), (3, "planted"), (2, "lookalike"))):
        collector = w.take("C07 collector")
        account = str(codes.card_numbers(623668, np.array([i]), 19, 555)[0])
        for hid in w.pick(("RURAL", "URBAN"), n=n):
            card = w.card_of(hid)
            w.profiles.append({"card_no": card, "debit_mask": None, "funnel_account": account,
                               "funnel_name": collector["name"]})
            w.truth("C07", kind=kind, card_no=card,
                    note=f"90% of each credit transferred to {collector['name']}'s account ({n} households)")


def c08(w: World) -> None:
    """Cards never drawn on, or not after March; a card idle five months at a time (look-alike)."""
    cases = ((w.person(), 0, "planted", "credited monthly, no debit all year"),
             (w.pick(("RURAL",))[0], 0b111, "planted", "no debit from April to December"),
             (w.pick(("RURAL", "URBAN"))[0], 0b1000_0100_0001, "lookalike",
              "debits only in Jan, Jul and Dec: idle runs of 5 and 4 months"))
    for hid, mask, kind, note in cases:
        card = w.card_of(hid)
        w.profiles.append({"card_no": card, "debit_mask": mask, "funnel_account": None,
                           "funnel_name": None})
        w.truth("C08", kind=kind, card_no=card, note=note)
