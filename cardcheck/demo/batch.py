"""The batch (报盘) of the demo's last month, for `cardcheck precheck`: one line planted for each
reason a line is held, look-alikes that must be released, and a truth list by line.

    cardcheck precheck --inputs DEMO --batch DEMO/报盘202312.csv \
        --payments DEMO/代发明细1-11月.csv --month 2023-12 --out DEMO/precheck

The base is December's payments of the households no plant touched (they are released). Held:

- the December lines the check's planted cases still pay: a death (E01), a prisoner serving
  (E02), a payroll, business and pension list entry (E03–E05), two exclusive funds (E06: both
  lines), a card held by someone else (C03), a generic memo (C05), and — when the check's ledger
  is given (--ledger RUN/cardcheck.db) — a card of a C04 and of a C07 finding;
- lines of the batch itself: a card on no roll (P01), an amount 100 元 over (P03), a line
  repeated (P04, the second), November paid again with its memo (P04, paid in 代发明细1-11月),
  a household whose roll entry ended before December (P06), and a line without an amount
  (unreadable).

Released look-alikes: a death after the month (world plant `precheck_lookalikes`), a prisoner
released before it, orphans' subsidy on their guardian's card (one credit each: no
duplicate), a legit fund combination (低保 with
困难残疾人生活补贴, two lines), a household whose roll entry starts this month.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from cardcheck.demo.people import COUNTY
from cardcheck.demo.world import World

MONTH = 12
BATCH = "报盘202312"
HISTORY = "代发明细1-11月"
HEADER = ["序号", "户名", "账号", "证件号码", "金额", "摘要"]
LINES = {"card_no": pl.String, "account_name": pl.String, "id_number": pl.String,
         "amount": pl.Int64, "memo": pl.String, "hid": pl.Int64, "rule": pl.String,
         "kind": pl.String, "note": pl.String}
TRUTH = {"line": pl.Int64, "rule": pl.String, "kind": pl.String, "card_no": pl.String,
         "note": pl.String}
NEEDS_LEDGER = "（需 --ledger：检查结果台账中的未整改问题）"


def precheck_lookalikes(w: World) -> None:
    """World plants for the batch's look-alikes, after every other plant (from the far end of
    the plain order, so no earlier pick changes): a beneficiary who dies after the year, and a
    household whose roll entry starts in December (paid from December only)."""
    hid = w.pick_last(("TEKUN", "DISAB"))[0]
    row = w.head(hid)
    w.add_list_row("deaths", {"pid": row["pid"], "id_number": row["id_number"],
                              "name": row["name"], "death_date": date(2024, 1, 15)})
    w.truth("E01", kind="lookalike", id_number=row["id_number"],
            note="died 2024-01-15, after the year")
    w.precheck["death_after"] = hid
    hid = w.pick_last(("RURAL",))[0]
    w.set_roll(pl.col("hid") == hid, start_date=date(2023, MONTH, 1))
    # (null-safe: a payment to a card on no roll has no household and must stay)
    w.pays.drop(((pl.col("hid") == hid) & (pl.col("month") < MONTH)).fill_null(False))
    w.precheck["new_entry"] = hid


def _ids(w: World) -> tuple[pl.DataFrame, pl.DataFrame]:
    persons = w.roll.select("pid", "id_number").unique("pid")
    heads = w.roll.filter(pl.col("relation") == "户主").select(
        "hid", pl.col("id_number").alias("head_id")).unique("hid")
    return persons, heads


def _shaped(w: World, pays: pl.DataFrame, rule: str, kind: str, note: str) -> pl.DataFrame:
    """Payments of the ledger as batch lines: the beneficiary's ID (the 户主's for 低保)."""
    persons, heads = _ids(w)
    return (
        pays.join(persons, on="pid", how="left").join(heads, on="hid", how="left")
        .select("card_no", "account_name",
                pl.coalesce("id_number", "head_id").alias("id_number"), "amount", "memo",
                "hid", pl.lit(rule).alias("rule"), pl.lit(kind).alias("kind"),
                pl.lit(note).alias("note"))
        .cast(LINES)  # type: ignore[arg-type]
    )


def _touched(w: World, truth: pl.DataFrame) -> set[int]:
    """Households some plant or truth row is about: none of their lines is base."""
    roll = w.roll
    hids = set(w.used) | set(w.precheck.values())
    for col, key in (("household_id", "household_id"), ("id_number", "id_number"),
                     ("card_no", "card_no")):
        values = truth.get_column(col).drop_nulls().unique().implode()
        hids |= set(roll.filter(pl.col(key).is_in(values)).get_column("hid").to_list())
    return hids


def batch_lines(w: World, truth: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The batch's lines (LINES columns) in the order they are written."""
    dec = w.pays.month(MONTH)
    touched = _touched(w, truth)
    p01_cards = truth.filter(pl.col("rule") == "P01").get_column("card_no").to_list()
    base = dec.filter(~pl.col("hid").is_in(sorted(touched)) & pl.col("hid").is_not_null()
                      & ~pl.col("card_no").is_in(p01_cards))
    planted: list[pl.DataFrame] = []

    def by_truth(rule: str, kind: str, note: str = "") -> None:
        """December's lines of the first truth row of `rule` that December still pays."""
        for row in truth.filter((pl.col("rule") == rule) & (pl.col("kind") == "planted")
                                ).iter_rows(named=True):
            hids = _hids_of(w, row)
            pays = dec.filter(pl.col("hid").is_in(hids)) if row["card_no"] is None else \
                dec.filter(pl.col("card_no") == row["card_no"])
            if rule == "E06" or row["card_no"] is not None:
                mine = pays
            else:
                mine = _own(w, pays, row)
            if mine.height:
                planted.append(_shaped(w, mine, rule, kind, note or str(row["note"])))
                return

    for rule in ("E01", "E02", "E03", "E04", "E05", "E06", "C03", "C05"):
        by_truth(rule, "planted")
    by_truth("C04", "planted", "C04 代管代取" + NEEDS_LEDGER)
    by_truth("C07", "planted", "C07 资金归集" + NEEDS_LEDGER)
    planted += _batch_plants(w, base, truth, dec)
    planted += _lookalikes(w, dec, truth)
    used = pl.concat(planted).get_column("hid").drop_nulls().unique().implode()
    lines = _shaped(w, base.filter(~pl.col("hid").is_in(used)), "", "base", "")
    rng = np.random.default_rng([seed, 23])
    extra = pl.concat(planted)
    at = np.sort(rng.integers(0, lines.height + 1, extra.height))
    parts, last = [], 0
    for i, pos in enumerate(at.tolist()):
        parts += [lines.slice(last, pos - last), extra.slice(i, 1)]
        last = pos
    parts.append(lines.slice(last))
    return pl.concat(parts)


def _hids_of(w: World, row: dict) -> list[int]:
    roll = w.roll
    if row["household_id"] is not None:
        return roll.filter(pl.col("household_id") == row["household_id"])["hid"].unique().to_list()
    if row["id_number"] is None:
        return []
    return roll.filter(pl.col("id_number") == row["id_number"])["hid"].unique().to_list()


def _own(w: World, pays: pl.DataFrame, row: dict) -> pl.DataFrame:
    """A person's own lines (their person-level fund), else their household's 低保 line."""
    pid = w.roll.filter(pl.col("id_number") == row["id_number"])["pid"]
    own = pays.filter(pl.col("pid").is_in(pid.implode()))
    return own if own.height else pays.filter(pl.col("pid").is_null())


def _batch_plants(w: World, base: pl.DataFrame, truth: pl.DataFrame, dec: pl.DataFrame
                  ) -> list[pl.DataFrame]:
    """Lines planted in the batch itself, on base households (the first few 低保 ones)."""
    dibao = base.filter(pl.col("pid").is_null()).sort("hid")
    one = [dibao.slice(i, 1) for i in range(5)]
    out = [
        _shaped(w, one[0].with_columns(pl.col("amount") + 10000), "P03", "planted",
                "paid 100.00 over the household's approved sum"),
        _shaped(w, one[1], "", "base", ""),
        _shaped(w, one[1], "P04", "planted", "repeats an earlier line of the batch"),
        _shaped(w, one[2], "", "base", ""),
        _shaped(w, one[2].with_columns(pl.col("memo").str.replace("12月", "11月")
                                       .str.replace("202312", "202311")
                                       .str.replace("^12月份", "11月份")),
                "P04", "planted", "November paid again (already paid in 代发明细1-11月)"),
        _shaped(w, one[3].with_columns(pl.lit(None, pl.Int64).alias("amount")), "读取",
                "planted", "no amount: the line cannot be read"),
    ]
    p01 = truth.filter((pl.col("rule") == "P01") & pl.col("note").str.contains("Mar-Dec"))
    if p01.height:
        card = p01["card_no"][0]
        name = w.accounts.filter(pl.col("card_no") == card)["holder_name"][0]
        out.append(pl.DataFrame([{
            "card_no": card, "account_name": name, "id_number": None, "amount": 80000,
            "memo": f"2023年{MONTH:02d}月特困供养", "hid": None, "rule": "P01",
            "kind": "planted", "note": "特困供养 to a card on no roll"}], schema=LINES))
    stopped = truth.filter((pl.col("rule") == "P06") & (pl.col("kind") == "lookalike"))
    if stopped.height:
        household = stopped["household_id"][0]
        rows = w.roll.filter(pl.col("household_id") == household)
        head = rows.sort("slot").row(0, named=True)
        name = w.accounts.filter(pl.col("card_no") == head["card_no"])["holder_name"][0]
        out.append(pl.DataFrame([{
            "card_no": head["card_no"], "account_name": name, "id_number": head["id_number"],
            "amount": int(rows["monthly_amount"].sum()),
            "memo": f"2023年{MONTH:02d}月{head['fund']!s}",
            "hid": head["hid"], "rule": "P06", "kind": "planted",
            "note": f"roll entry ended {rows.get_column('end_date').max()!s}"}], schema=LINES))
    return out


def _lookalikes(w: World, dec: pl.DataFrame, truth: pl.DataFrame) -> list[pl.DataFrame]:
    out = []

    def add(pays: pl.DataFrame, rule: str, note: str) -> None:
        if pays.height:
            out.append(_shaped(w, pays, rule, "lookalike", note))

    add(dec.filter(pl.col("hid") == w.precheck["death_after"]), "E01",
        "died 2024-01-15, after the month")
    add(dec.filter(pl.col("hid") == w.precheck["new_entry"]), "P06",
        "roll entry starts 2023-12-01 (a new household)")
    prisoners = w.lists["prisoners"].filter(
        pl.col("end_date").is_between(date(2023, 1, 1), date(2023, MONTH - 1, 28)))
    released = w.roll.filter(pl.col("pid").is_in(prisoners["pid"].implode()))["hid"]
    add(dec.filter(pl.col("hid").is_in(released.implode())).head(1), "E02",
        "prisoner released before the month")
    # orphan siblings paid one credit each on their guardian's card (plant_shared's look-alike)
    siblings = truth.filter((pl.col("kind") == "lookalike") & (pl.col("rule") == "P03")
                            & pl.col("note").str.contains("one credit each")).head(1)
    add(dec.filter(pl.col("card_no").is_in(siblings["card_no"].implode())), "C03",
        "orphan siblings' subsidy on the guardian's card (the guardian is the payee), one "
        "credit each")
    combo = truth.filter((pl.col("rule") == "E06") & (pl.col("kind") == "lookalike"))
    for id_number in combo.get_column("id_number").to_list():  # the first December pays
        hids = w.roll.filter(pl.col("id_number") == id_number)["hid"]
        pays = dec.filter(pl.col("hid").is_in(hids.implode()))
        if pays.height:
            add(pays, "E06", "低保 with 困难残疾人生活补贴: allowed together")
            break
    return out


def batch_text(lines: pl.DataFrame, clean: bool) -> tuple[bytes, pl.DataFrame]:
    """The batch file's bytes (messy: GBK with a title line and a 合计 line) and the truth
    list (TRUTH columns) by line."""
    money = pl.when(pl.col("amount").is_null()).then(pl.lit("")).otherwise(
        (pl.col("amount") // 100).cast(pl.String) + "."
        + (pl.col("amount") % 100).cast(pl.String).str.zfill(2))
    text = lines.with_row_index("序号", offset=1).select(
        pl.col("序号").cast(pl.String), pl.col("account_name").alias("户名"),
        pl.col("card_no").alias("账号"), pl.col("id_number").fill_null("").alias("证件号码"),
        money.alias("金额"), pl.col("memo").fill_null("").alias("摘要"))
    body = [",".join(HEADER)] + [",".join(row) for row in text.iter_rows()]
    first = 2 if clean else 3
    if not clean:
        total = int(lines["amount"].fill_null(0).sum())
        body = [f"{COUNTY}2023年{MONTH}月社会救助资金代发报盘" + "," * 5] + body + [
            f"合计,,,,{total // 100}.{total % 100:02d},"]
    data = ("\r\n".join(body) + "\r\n").encode("utf-8" if clean else "gbk")
    truth = lines.with_row_index("line", offset=first).filter(pl.col("kind") != "base").select(
        pl.col("line").cast(pl.Int64), "rule", "kind", "card_no", "note")
    return data, truth
