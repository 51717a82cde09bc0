"""Which batch lines each finding concerns: the holds.

The rules ran on the batch stacked with the payments already made (screen.py), so a finding
is about an entry, a person or a card, over months; the batch lines it concerns are found
through the same attribution the rules used (rules/payment/attribution.py: every payment with
its roll entry, period and line), by the rule's link (settings.LINKS):

- `entry` (P03, P06): the lines paying the finding's roll entry for a month it names;
- `twice` (P04): of those, a line whose month was already paid before the batch, or that
  repeats an earlier line of the batch for the same entry and month (the first one is paid);
- `person` (E06 and the reference lists E01–E05 …): the lines paying an entry of the finding's
  fund (E06: either fund) that the finding's person is a member of, for a month it names;
- `unlisted` (P01): the lines the roll knows nowhere (card, or fund on the card), by card and
  fund, for a month it names;
- `card` (C03): the lines paying the finding's card (for its fund, or for no known fund);
- `memo` (C05): the lines with the finding's memo problem on its card and fund (C05's own
  per-payment problems, rules/card/C05.py `problems`).

Every hold is one row: (line, rule, finding_id, evidence). The finding's evidence is what the
approver reads; a P04 hold adds which line or earlier payment it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cardcheck.precheck.batch import BATCH_FILE
from cardcheck.precheck.settings import CARD, ENTRY, MEMO, PERSON, TWICE, UNLISTED
from cardcheck.rules.payment.attribution import CARD_NOT_ON_ROLL, FUND_NOT_ON_ROLL

HOLDS = {"line": pl.Int64, "rule": pl.String, "finding_id": pl.String, "evidence": pl.String}
PLACE = ["fund", "household_id", "id_number", "card_no"]  # what a finding says of its entry


@dataclass
class Attributed:
    """The run's attribution, collected: every payment with its entry (payments), the roll's
    rows with their entry and member (rows), one row per entry (entries)."""

    payments: pl.DataFrame
    rows: pl.DataFrame
    entries: pl.DataFrame

    def lines(self) -> pl.DataFrame:
        """The batch's lines with what attribution made of them."""
        return self.payments.filter(pl.col("source_file") == BATCH_FILE).select(
            pl.col("source_line").alias("line"), "card_no", "entry", "fund", "period",
            "unattributed_reason", "memo_family")


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=HOLDS)


def _in_span(df: pl.DataFrame) -> pl.DataFrame:
    period = pl.col("period")
    return df.filter(((period >= pl.col("first_month")) & (period <= pl.col("last_month")))
                     .fill_null(False))


def _shaped(df: pl.DataFrame, code: str) -> pl.DataFrame:
    return df.select(pl.col("line").cast(pl.Int64), pl.lit(code).alias("rule"), "finding_id",
                     "evidence").unique(["line", "finding_id"], keep="first")


def by_entry(found: pl.DataFrame, att: Attributed, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines paying a finding's entry for a month the finding names (with the finding)."""
    ents = found.select("finding_id", "evidence", "first_month", "last_month", *PLACE).join(
        att.entries.select("entry", *PLACE), on=PLACE, how="inner", nulls_equal=True)
    return _in_span(lines.filter(pl.col("entry").is_not_null()).join(
        ents.drop(PLACE), on="entry", how="inner"))


def twice(found: pl.DataFrame, att: Attributed, lines: pl.DataFrame) -> pl.DataFrame:
    """P04: the lines of a doubly paid month but the first, when nothing was paid before."""
    held = by_entry(found, att, lines)
    before = (
        att.payments.filter(pl.col("unattributed_reason").is_null()
                            & (pl.col("source_file") != BATCH_FILE))
        .group_by("entry", "period").agg(pl.len().alias("n_before"))
    )
    first = lines.filter(pl.col("entry").is_not_null()).group_by("entry", "period").agg(
        pl.col("line").min().alias("first_line"))
    held = held.join(before, on=["entry", "period"], how="left").join(
        first, on=["entry", "period"], how="left").with_columns(pl.col("n_before").fill_null(0))
    note = (pl.when(pl.col("n_before") > 0)
            .then(pl.format("；本行所付月份此前已发放 {} 笔", pl.col("n_before")))
            .otherwise(pl.format("；本行与报盘第 {} 行重复", pl.col("first_line"))))
    return held.filter((pl.col("n_before") > 0) | (pl.col("line") != pl.col("first_line"))) \
        .with_columns(pl.concat_str([pl.col("evidence"), note]).alias("evidence"))


def by_person(found: pl.DataFrame, att: Attributed, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines paying an entry of the finding's fund(s) its person is a member of."""
    members = att.rows.filter(pl.col("member_id").is_not_null()).select(
        "entry", pl.col("member_id").alias("id_number"), pl.col("fund").alias("part")).unique()
    ents = (
        found.select("finding_id", "evidence", "first_month", "last_month", "id_number",
                     pl.col("fund").str.split("+").alias("part")).explode("part")
        .join(members, on=["id_number", "part"], how="inner")
        .select("entry", "finding_id", "evidence", "first_month", "last_month").unique()
    )
    return _in_span(lines.filter(pl.col("entry").is_not_null()).join(ents, on="entry",
                                                                      how="inner"))


def unlisted(found: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """P01: lines the roll knows nowhere, by card and fund (the memo's fund or family)."""
    loose = lines.filter(pl.col("unattributed_reason").is_in([CARD_NOT_ON_ROLL,
                                                              FUND_NOT_ON_ROLL])) \
        .with_columns(pl.coalesce("fund", "memo_family").alias("_fund"))
    return _in_span(loose.join(
        found.select("finding_id", "evidence", "first_month", "last_month", "card_no",
                     pl.col("fund").alias("_fund")),
        on=["card_no", "_fund"], how="inner", nulls_equal=True))


def by_card(found: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """C03: lines paying the finding's card, for its fund or for no fund the roll knows."""
    return lines.join(found.select("finding_id", "evidence", "card_no",
                                   pl.col("fund").alias("_fund")), on="card_no", how="inner") \
        .filter(pl.col("fund").is_null() | (pl.col("fund") == pl.col("_fund")))


def by_memo(found: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """C05: the batch lines among C05's problem payments, matched on card, fund, problem."""
    mine = problems.filter(pl.col("source_file") == BATCH_FILE).select(
        pl.col("source_line").alias("line"), "card_no", "fund", "problem")
    return mine.join(
        found.select("finding_id", "evidence", "card_no", "fund",
                     pl.col("hub").str.strip_prefix("memo:").alias("problem")),
        on=["card_no", "fund", "problem"], how="inner", nulls_equal=True)


def link(findings: pl.DataFrame, links: dict[str, str], att: Attributed,
         problems: pl.DataFrame | None = None) -> pl.DataFrame:
    """The holds (HOLDS columns) of the findings of every linked rule."""
    lines = att.lines()
    parts = [empty()]
    for code, how in links.items():
        found = findings.filter(pl.col("rule") == code)
        if found.height == 0:
            continue
        if how == ENTRY:
            got = by_entry(found, att, lines)
        elif how == TWICE:
            got = twice(found, att, lines)
        elif how == PERSON:
            got = by_person(found, att, lines)
        elif how == UNLISTED:
            got = unlisted(found, lines)
        elif how == CARD:
            got = by_card(found, lines)
        elif how == MEMO:
            if problems is None:
                continue
            got = by_memo(found, problems)
        else:  # pragma: no cover - settings.py admits only these
            raise ValueError(how)
        parts.append(_shaped(got, code))
    return pl.concat(parts, how="vertical")


def ledger_holds(open_findings: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines paying a card of an open ledger finding (rule, finding_id, card_no, evidence)."""
    if open_findings.height == 0:
        return empty()
    hit = lines.select("line", "card_no").join(
        open_findings.select("rule", "finding_id", "card_no", "evidence"), on="card_no",
        how="inner")
    return hit.select(pl.col("line").cast(pl.Int64), "rule", "finding_id",
                      pl.concat_str([pl.lit("台账中尚未整改的问题："), pl.col("evidence")])
                      .alias("evidence"))
