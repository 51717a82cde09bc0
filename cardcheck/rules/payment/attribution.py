"""Attribute each payment to a roll entry: the shared first step of P01–P06 and E01–E08.

An entry is what is approved and paid: for a household-level fund (config.household_funds) the
household (household_id, fund), whose approved monthly amount is the sum of its member rows'
monthly_amount; for a person-level fund the person (id_number, fund). Where the roll registers a
person-level fund of two or more people on one card (orphan siblings under one guardian, two
disabled members' subsidies on the 户主's card), that card and fund are one entry (`card`, keyed
by the card number): the bank pays them as one credit a month, so they are reconciled as one
unit, approved at the sum of the members active that month, like a household.

A payment is matched by its card first: the roll entries registered on that card whose fund the
memo names (memo_fund), or whose fund family it names (memo_family: 低保金 for 城市/农村低保), or,
when the memo names no single fund, every entry on the card. Where the payment carries an ID
number that picks out some of those entries, only those are kept. Exactly one entry left: the
payment is attributed. Several: `ambiguous`. None on the card: the payment's ID number is tried
against the roll's members the same way; failing that the reason is `card_not_on_roll` or
`fund_not_on_roll`. Its period is the month the memo names, else the pay month.

Matching runs on the distinct (card, ID, memo reading) keys, which are far fewer than payments,
and the result is joined back; everything is narwhals, so it runs on every engine.

Each entry gets a number (`entry`, Int64) and each member a number (`member`), dense ranks of
their string keys assigned once on the roll rows: the joins and group-bys over millions of
payments and receipts run on these integers, not on (entry_type, entry_key, fund) strings
(measured 2.9x on the approved amounts at prefecture size).
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals.stable.v2 as nw

from cardcheck.config import Config
from cardcheck.rules.base import Context, Keep, as_is, text
from cardcheck.rules.payment.periods import NO_END, NO_START, family_of, month_of, usable

KEYS = ["k_card", "k_id", "k_fund", "k_fam"]
ENTRY = ["entry"]  # the entry's number: what rules join and group on
ABOUT = ["entry_type", "fund"]  # what an entry is, carried beside its number where rules need it
PLACE = ["household_id", "id_number", "name", "region_code", "township", "village", "card_no"]
# the roll columns attributing payments reads beside a rule's own (rules declare them in `uses`)
ROLL_ENTRY = ("household_id", "name", "relation", "start_date", "end_date",
              "region_code", "township", "village")
# the payments columns it reads beside card_no, amount and pay_date
PAID_BY = ("id_number", "memo")
WHO = ["names", "n_members"]  # a card unit's members, for evidence (entries)

CARD_NOT_ON_ROLL = "card_not_on_roll"
FUND_NOT_ON_ROLL = "fund_not_on_roll"
AMBIGUOUS = "ambiguous"
CARD_UNIT = "card"  # entry_type of several people's person-level fund on one card
NAMED = 3  # a card unit's evidence names this many members, then "等 n 人"


def roll_rows(roll: nw.LazyFrame, config: Config) -> nw.LazyFrame:
    """Roll rows with their entry keys, member key, fund family and active months.

    entry_type is `household` (a household-level fund), `card` (a person-level fund the roll
    registers on one card for two or more people: one entry per card and fund) or `person`."""
    is_hh = nw.col("fund").is_in(config.household_funds)
    person_key = nw.when(usable()).then(nw.col("id_number")).otherwise(nw.concat_str([
        nw.lit("?"), text(nw.col("household_id")), nw.lit("|"), text(nw.col("name_key")),
        nw.lit("|"), text(nw.col("id_number")),
    ]))
    hh_key = nw.when(nw.col("household_id").is_null()).then(
        nw.concat_str([nw.lit("~"), person_key])).otherwise(nw.col("household_id"))
    rows = roll.filter(~nw.col("fund").is_null()).with_columns(member_key=person_key)
    # (card, person-level fund) pairs the roll gives to more than one person
    pooled = (
        rows.filter(~nw.col("fund").is_in(config.household_funds) & ~nw.col("card_no").is_null())
        .group_by("card_no", "fund")
        .agg(nw.col("member_key").min().alias("_lo"), nw.col("member_key").max().alias("_hi"))
        .filter(nw.col("_lo") != nw.col("_hi"))
        .select("card_no", "fund", _pooled=nw.lit(True))
    )
    pooled_row = ~is_hh & nw.col("_pooled").fill_null(False)
    return rows.join(pooled, on=["card_no", "fund"], how="left").with_columns(
        entry_type=nw.when(is_hh).then(nw.lit("household"))
        .when(pooled_row).then(nw.lit(CARD_UNIT)).otherwise(nw.lit("person")),
        entry_key=nw.when(is_hh).then(hh_key).when(pooled_row).then(nw.col("card_no"))
        .otherwise(person_key),
        member_id=nw.when(usable()).then(nw.col("id_number")).otherwise(nw.lit(None))
        .cast(nw.String),
        family=family_of(config),
        start_month=month_of(nw.col("start_date")).fill_null(NO_START),
        end_month=month_of(nw.col("end_date")).fill_null(NO_END),
    ).drop("_pooled").with_columns(
        entry=nw.concat_str([nw.col("entry_type"), nw.lit("|"), nw.col("fund"), nw.lit("|"),
                             nw.col("entry_key")]).rank(method="dense").cast(nw.Int64),
        member=nw.col("member_key").rank(method="dense").cast(nw.Int64),
    )


def entries(rows: nw.LazyFrame) -> nw.LazyFrame:
    """One row per entry: where it is, who it is (the 户主 for a household), its card and months.

    id_number is the person's usable ID (person entries) or the 户主's, else the smallest
    member's (household and card entries); end_month is NO_END while any row is open; a card
    unit's `names` and `n_members` (unit_names) name its members (null for other entries).
    """
    head = nw.col("relation").fill_null("") == "户主"
    return (
        rows.with_columns(
            head_name=nw.when(head).then(nw.col("name")),
            head_id=nw.when(head).then(nw.col("member_id")),
        )
        .group_by(ENTRY)
        .agg(
            *(nw.col(c).min() for c in ABOUT),
            nw.col("household_id").min(), nw.col("region_code").min(), nw.col("township").min(),
            nw.col("village").min(), nw.col("head_name").min(), nw.col("name").min(),
            nw.col("head_id").min(), nw.col("member_id").min(), nw.col("card_no").min(),
            nw.col("start_month").min(), nw.col("end_month").max(),
        )
        .with_columns(
            name=nw.when(nw.col("head_name").is_null()).then(nw.col("name"))
            .otherwise(nw.col("head_name")),
            id_number=nw.when(nw.col("head_id").is_null()).then(nw.col("member_id"))
            .otherwise(nw.col("head_id")),
        )
        .drop("head_name", "head_id", "member_id")
        .join(unit_names(rows), on=ENTRY, how="left")
    )


def unit_names(rows: nw.LazyFrame) -> nw.LazyFrame:
    """`names` and `n_members` of each card unit (ENTRY): its members' names, the 户主 first,
    then by ID, joined by 、 (after NAMED names "等 n 人"), and how many they are."""
    head = (nw.col("relation").fill_null("") == "户主").cast(nw.Int32)
    members = (
        rows.filter(nw.col("entry_type") == CARD_UNIT).with_columns(_head=head)
        .group_by(*ENTRY, "member")
        .agg(nw.col("name").min(), nw.col("_head").max(), nw.col("member_key").min())
        .with_columns(
            _order=nw.concat_str([(1 - nw.col("_head")).cast(nw.String), nw.col("member_key")]),
            _one=nw.lit(1).cast(nw.Int64),
        )
        .with_columns(_k=nw.col("_one").cum_sum().over(*ENTRY, order_by="_order"))
        .with_columns(*(nw.when(nw.col("_k") == i).then(text(nw.col("name"))).alias(f"_n{i}")
                        for i in range(1, NAMED + 1)))
        .group_by(ENTRY)
        .agg(nw.col("_k").max().alias("n_members"),
             *(nw.col(f"_n{i}").min() for i in range(1, NAMED + 1)))
    )
    later = [nw.when(nw.col(f"_n{i}").is_null()).then(nw.lit(""))
             .otherwise(nw.concat_str([nw.lit("、"), nw.col(f"_n{i}")]))
             for i in range(2, NAMED + 1)]
    more = nw.when(nw.col("n_members") > NAMED).then(
        nw.concat_str([nw.lit("等 "), text(nw.col("n_members")), nw.lit(" 人")])) \
        .otherwise(nw.lit(""))
    return members.select(*ENTRY, "n_members",
                          names=nw.concat_str([text(nw.col("_n1")), *later, more]))


def approved_for(pairs: nw.LazyFrame, rows: nw.LazyFrame, keep: Keep = as_is) -> nw.LazyFrame:
    """Approved amount of each (entry, period) pair whose entry is active in that period.

    Sum over members of the member's monthly_amount (a member listed twice counts once, at the
    larger amount). Pairs whose entry has no active row that month are left out; `approved` is
    null when the active rows carry no amount.
    """
    return _with_approved(pairs.select(*ENTRY, "period").unique(), rows, keep) \
        .filter(nw.col("_active")).select(*ENTRY, "period", "approved")


def _with_approved(pairs: nw.LazyFrame, rows: nw.LazyFrame, keep: Keep) -> nw.LazyFrame:
    """`pairs` (one row per entry and period, any other columns) with `approved` (see
    approved_for; null where no row is active) and `_active` (some row of the entry is active).

    Most pairs fall where every row of their entry is active: their amount is the entry's,
    summed once per entry and joined on. Only the other pairs (an entry whose members join or
    leave around that period) are matched row by row against the active rows."""
    whole = rows.group_by(*ENTRY, "member").agg(
        nw.col("monthly_amount").max(), nw.col("start_month").max().alias("_from"),
        nw.col("end_month").min().alias("_to"),
    ).group_by(*ENTRY).agg(
        nw.col("monthly_amount").sum().cast(nw.Int64).alias("_approved_w"),
        nw.col("monthly_amount").count().alias("_n_w"),
        nw.col("_from").max(), nw.col("_to").min(),
    )
    period = nw.col("period")
    pairs = keep(pairs.join(whole, on=ENTRY, how="left").with_columns(
        _all=((nw.col("_from") <= period) & (nw.col("_to") >= period)).fill_null(False)))
    cols = [*ENTRY, "member", "monthly_amount", "start_month", "end_month"]
    partly = (
        pairs.filter(~nw.col("_all")).select(*ENTRY, "period")
        .join(rows.select(cols), on=ENTRY, how="inner")
        .filter((nw.col("start_month") <= period) & (nw.col("end_month") >= period))
        .group_by([*ENTRY, "period", "member"])
        .agg(nw.col("monthly_amount").max())
        .group_by([*ENTRY, "period"])
        .agg(nw.col("monthly_amount").sum().cast(nw.Int64).alias("_approved_p"),
             nw.col("monthly_amount").count().alias("_n_p"))
    )
    return pairs.join(partly, on=[*ENTRY, "period"], how="left").with_columns(
        approved=nw.when(nw.col("_all") & (nw.col("_n_w") > 0)).then(nw.col("_approved_w"))
        .when(~nw.col("_all") & (nw.col("_n_p") > 0)).then(nw.col("_approved_p")),
        _active=nw.col("_all") | ~nw.col("_n_p").is_null(),
    ).drop("_approved_w", "_n_w", "_from", "_to", "_all", "_approved_p", "_n_p")


def _fund_ok() -> nw.Expr:
    return (
        nw.when(nw.col("k_fund") != "").then(nw.col("fund") == nw.col("k_fund"))
        .otherwise(nw.when(nw.col("k_fam") != "").then(nw.col("family") == nw.col("k_fam"))
                   .otherwise(nw.lit(True)))
    )


def _resolve(cand: nw.LazyFrame, how: str, keep: Keep
             ) -> tuple[nw.LazyFrame, nw.LazyFrame, nw.LazyFrame]:
    """(attributed keys, ambiguous keys, keys with a candidate) from candidate (key, entry) rows."""
    cand = keep(cand.select(*KEYS, *ENTRY, *ABOUT).unique())
    stats = cand.group_by(KEYS).agg(
        nw.len().alias("n_entries"), nw.col("fund").min().alias("fund_min"),
        nw.col("fund").max().alias("fund_max"),
    )
    stats = keep(stats)
    one = cand.join(stats.filter(nw.col("n_entries") == 1).select(KEYS), on=KEYS, how="inner")
    one = one.with_columns(matched_by=nw.lit(how), unattributed_reason=nw.lit(None))
    amb = stats.filter(nw.col("n_entries") > 1).with_columns(
        entry=nw.lit(None), entry_type=nw.lit(None),
        fund=nw.when(nw.col("fund_min") == nw.col("fund_max")).then(nw.col("fund_min")),
        matched_by=nw.lit(how), unattributed_reason=nw.lit(AMBIGUOUS),
    )
    return _shape(one), _shape(amb), stats.select(KEYS)


def _shape(lf: nw.LazyFrame) -> nw.LazyFrame:
    return lf.select(
        *KEYS, nw.col("entry").cast(nw.Int64),
        *(nw.col(c).cast(nw.String) for c in [*ABOUT, "matched_by", "unattributed_reason"]),
    )


def payment_keys(payments: nw.LazyFrame) -> nw.LazyFrame:
    """Payments with the columns attribution depends on, nulls as '' (KEYS)."""
    return payments.with_columns(
        k_card=nw.col("card_no").fill_null(""), k_id=nw.col("id_number").fill_null(""),
        k_fund=nw.col("memo_fund").fill_null(""), k_fam=nw.col("memo_family").fill_null(""),
    )


def resolve(keys: nw.LazyFrame, rows: nw.LazyFrame, keep: Keep = as_is) -> nw.LazyFrame:
    """The entry (or the reason there is none) of each distinct KEYS combination.

    `keep` materialises the frames later steps use more than once (`Context.keep`): fused into
    one query they were computed again for every use (prefecture: 3.1 s fused, 1.1 s kept)."""
    link = ["k_card", *ENTRY, *ABOUT, "family", "member_id"]
    cardmap = rows.filter(~nw.col("card_no").is_null()) \
        .with_columns(k_card=nw.col("card_no")).select(link).unique()
    idmap = rows.filter(~nw.col("member_id").is_null()) \
        .with_columns(k_id=nw.col("member_id")).select("k_id", *ENTRY, *ABOUT, "family").unique()

    on_card = keep(keys.join(cardmap, on="k_card", how="inner"))
    cand = on_card.filter(_fund_ok()).with_columns(
        id_hit=((nw.col("k_id") != "") & (nw.col("member_id") == nw.col("k_id")))
        .fill_null(False).cast(nw.Int32)
    )
    cand = cand.with_columns(any_hit=nw.col("id_hit").max().over(*KEYS)) \
        .filter((nw.col("id_hit") == 1) | (nw.col("any_hit") == 0))
    by_card, amb_card, seen = _resolve(cand, "card", keep)

    rest = keep(keys.join(seen, on=KEYS, how="anti").join(
        on_card.select(KEYS).unique().with_columns(on_roll=nw.lit(True)), on=KEYS, how="left"))
    by_id_cand = rest.filter(nw.col("k_id") != "").join(idmap, on="k_id", how="inner") \
        .filter(_fund_ok())
    by_id, amb_id, seen_id = _resolve(by_id_cand, "id", keep)
    left = rest.join(seen_id, on=KEYS, how="anti").with_columns(
        entry=nw.lit(None), entry_type=nw.lit(None),
        fund=nw.when(nw.col("k_fund") != "").then(nw.col("k_fund")),
        matched_by=nw.lit(None),
        unattributed_reason=nw.when(nw.col("on_roll").fill_null(False))
        .then(nw.lit(FUND_NOT_ON_ROLL)).otherwise(nw.lit(CARD_NOT_ON_ROLL)),
    )
    return nw.concat([by_card, amb_card, by_id, amb_id, _shape(left)], how="vertical")


def apply(payments: nw.LazyFrame, resolved: nw.LazyFrame) -> nw.LazyFrame:
    """Join the resolved keys back onto every payment; add its period."""
    return (
        payment_keys(payments).join(resolved, on=KEYS, how="left").drop(*KEYS)
        .rename({"id_number": "pay_id_number"})
        .with_columns(period=nw.when(nw.col("memo_period").is_null()).then(nw.col("pay_month"))
                      .otherwise(nw.col("memo_period")).cast(nw.Int32))
    )


def attribute(roll: nw.LazyFrame, payments: nw.LazyFrame, config: Config,
              rows: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """Payments with their entry: every payment column (its own ID as `pay_id_number`) plus
    entry (its number), entry_type, fund, period, matched_by (card / id) and
    unattributed_reason (null when attributed). `per_period` adds up the money per entry and
    period with the approved amount, `entries` says who the entry is.

    Matching runs on the distinct KEYS of the payments (far fewer than payments), then joins
    back; `prepare` does the same in steps materialised once per run."""
    rows = roll_rows(roll, config) if rows is None else rows
    keys = payment_keys(payments).select(KEYS).unique()
    return apply(payments, resolve(keys, rows))


def per_period(attributed: nw.LazyFrame, rows: nw.LazyFrame, keep: Keep = as_is
               ) -> nw.LazyFrame:
    """One row per (entry, period) paid: paid (fen), n_payments, largest (one payment's
    amount), card_no (the smallest), several_cards, and approved (as approved_for gives it;
    null when the entry is not active in that period or its rows carry no amount)."""
    per = attributed.group_by(*ENTRY, "period").agg(
        nw.col("amount").sum().cast(nw.Int64).alias("paid"),
        nw.len().cast(nw.Int64).alias("n_payments"),
        nw.col("amount").max().cast(nw.Int64).alias("largest"),
        nw.col("card_no").min(), nw.col("card_no").max().alias("_card_max"),
    )
    return _with_approved(per, rows, keep).with_columns(
        several_cards=nw.col("card_no") != nw.col("_card_max"),
    ).select(*ENTRY, "period", "paid", "n_payments", "largest", "card_no", "several_cards",
             "approved")


def covered_months(payments: nw.LazyFrame, min_share: float) -> nw.LazyFrame:
    """The periods the payment files cover, from the first to the last month paying at least
    `min_share` of the cards of the busiest month — so a stray back-payment or a memo naming a
    far-away month does not open a month of its own, while a month in between where most
    batches failed still counts. Months come from periods and pay months seen in the files."""
    pays = payments.filter(~nw.col("card_no").is_null() & ~nw.col("period").is_null())
    per = pays.group_by("period").agg(nw.col("card_no").n_unique().alias("n_cards"))
    top = per.select(nw.col("n_cards").max().alias("top"))
    bounds = (
        per.join(top, how="cross").filter(nw.col("n_cards") >= nw.col("top") * min_share)
        .select(nw.col("period").min().alias("lo"), nw.col("period").max().alias("hi"))
    )
    seen = nw.concat([pays.select("period"),
                      pays.select(nw.col("pay_month").cast(nw.Int32).alias("period"))],
                     how="vertical").unique()
    return seen.join(bounds, how="cross") \
        .filter((nw.col("period") >= nw.col("lo")) & (nw.col("period") <= nw.col("hi"))) \
        .select("period")


@dataclass
class Attribution:
    """What the payment and eligibility rules share, all lazy; built once per run."""

    ctx: Context
    rows: nw.LazyFrame  # roll rows with entry keys (roll_rows)
    entries: nw.LazyFrame  # one row per entry (entries)
    payments: nw.LazyFrame  # every payment with its entry (attribute)

    @property
    def attributed(self) -> nw.LazyFrame:
        return self.payments.filter(nw.col("unattributed_reason").is_null())

    def per_period(self) -> nw.LazyFrame:
        """per_period() of the attributed payments, built once per run: what P02–P04 and the
        receipts need of each entry's money per period, grouped once instead of once each."""
        return self.ctx.once("attribution.per_period",
                             lambda: per_period(self.attributed, self.rows, self.ctx.keep))


def distinct_keys(ctx: Context) -> nw.LazyFrame:
    """The distinct KEYS of the run's payments (card, ID, memo fund, memo family; nulls as ''),
    built once per run: what attribution matches, and the memo readings C02 looks at."""
    return ctx.once("attribution.keys",
                    lambda: payment_keys(ctx.table("payments")).select(KEYS).unique())


def prepare(ctx: Context) -> Attribution:
    """The run's attribution: roll rows, entries and attributed payments, shared by the rules."""
    rows = ctx.once("attribution.rows", lambda: roll_rows(ctx.table("roll"), ctx.config))
    ents = ctx.once("attribution.entries", lambda: entries(rows))
    keys = distinct_keys(ctx)
    resolved = ctx.once("attribution.resolved", lambda: resolve(keys, rows, ctx.keep))
    pays = ctx.once("attribution.payments", lambda: apply(ctx.table("payments"), resolved))
    return Attribution(ctx=ctx, rows=rows, entries=ents, payments=pays)


def with_place(per_entry: nw.LazyFrame, ents: nw.LazyFrame) -> nw.LazyFrame:
    """Add what the entry is (entry_type, fund) and its household, person, name, place, card
    and members (WHO) to rows keyed by ENTRY."""
    return per_entry.join(ents.select(*ENTRY, *ABOUT, *PLACE, *WHO, "end_month"), on=ENTRY,
                          how="left")


def month_span(period: str = "period") -> list[nw.Expr]:
    """first_month, last_month, months (distinct) of a period column, for group_by().agg()."""
    return [
        nw.col(period).min().cast(nw.Int32).alias("first_month"),
        nw.col(period).max().cast(nw.Int32).alias("last_month"),
        nw.col(period).n_unique().cast(nw.Int32).alias("months"),
    ]
