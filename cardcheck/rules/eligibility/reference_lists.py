"""E01–E05 and any list a province adds: beneficiaries on a reference list who keep receiving.

One mechanism for every list in configs/references.yaml (`lists:`): the list's input kind, the
rule code and name it reports under, its severity, the window during which receiving is wrong
(`from` column + `from_offset_months` … `to` column, month by month, null = open), and the funds
it excludes (`all` for every fund). A new list (住房公积金缴存, 车辆登记 …) needs only YAML: its
columns under `tables.<kind>` and its entry under `lists.<kind>`.

Whom an entry touches (`match`, per fund): `person` — the beneficiary is on the list; `spouse` —
the beneficiary or the other of the 户主/配偶 pair of their household on the roll; `household` —
anyone of the beneficiary's household (same household_id on the roll). The audit flags
财政供养人员 and 拥有企业人员 "本人或配偶" receiving 困难残疾人生活补贴, and 低保 is tested on
the household's income: a member on the payroll makes the household's receipt suspect.

Finding: the beneficiary's, for a period inside the window of a list entry that touches them
(attributed payments). A person-level fund: the person and what they received. A household-level
fund matched by `person`: the listed member and their share (payment/receipts.py); matched by
`household`: the household entry (its 户主's ID, its card) and all it was paid. One finding per
beneficiary and fund, however many of their relatives are listed (a month counts once); amount =
what was received inside the windows, months = the months received. The evidence names the
closest listed person (本人, then 配偶, then 同户成员; then the smaller ID), masked, with the list's
`detail` column (单位, 企业名称), and says "等 n 人" when more are listed.

Standing lists: a list without its `from` date column in this run (a payroll or business extract
of 姓名 + 身份证号 + 单位, the usual form) is used for the whole period checked when the list is
`standing` (the default; the deaths list is not): the person is on the payroll, registered, now.
The run's note says so ("payroll 无日期列，按常设名单使用") and so does each finding's evidence
(名单无日期，按核查期内一直在册处理). In a list with dates, an entry whose `from` cell is empty
counts from the beginning too (its evidence says the date is missing), one whose `to` cell is
empty is open-ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import narwhals.stable.v2 as nw

from cardcheck.config import Config, RefListSpec
from cardcheck.masking import mask_id
from cardcheck.rules.base import Context, Rule, text
from cardcheck.rules.payment.attribution import ENTRY, PAID_BY, ROLL_ENTRY, month_span
from cardcheck.rules.payment.attribution import prepare as attribution
from cardcheck.rules.payment.evidence import count, money, span
from cardcheck.rules.payment.periods import NO_END, NO_START, add_months, fmt_date, month_of, usable
from cardcheck.rules.payment.receipts import people, shared_receipts, with_people

# the roll's relation column (与户主关系): the two of a couple
HEADS = ("户主", "本人")
SPOUSES = ("配偶", "妻", "妻子", "夫", "丈夫", "之妻", "之夫", "爱人")
# how close a listed person is to the beneficiary, and the widest each `match` accepts
HOW = ("本人", "配偶", "同户成员")
RANK = {"person": 0, "spouse": 1, "household": 2}

# Why each known list matters and its usual false positive (a new list gets the generic text).
ABOUT = {
    "deaths": (
        "a deceased person's subsidy must stop the month after death (死亡人员冒领)",
        "a death registered late while the household's amount was already re-assessed",
    ),
    "prisoners": (
        "people serving a sentence are kept by the prison, not by assistance (服刑人员领取)",
        "a sentence served outside prison (缓刑, 监外执行), which the list may not mark",
    ),
    "payroll": (
        "people on the public payroll (财政供养人员) have a wage and are not eligible",
        "a household member employed after approval whose income is below the line",
    ),
    "business": (
        "registered business owners (工商登记) must declare their income; most are not eligible",
        "a dormant licence (吊销未注销) with no income",
    ),
    "pensions": (
        "an enterprise pension (企业养老金) is income and usually exceeds the 低保 line",
        "a pension below the local line, which 低保 may legally top up (补差)",
    ),
}
GENERIC = ("the list names people the province's policy excludes from these funds",
           "a person whose list entry is outdated or mistaken; check the list's source")


def _touches(spec: RefListSpec) -> str:
    """'; for 城市低保, 农村低保: anyone of the household …' — the funds matched beyond the person."""
    out = []
    for mode, what in (("spouse", "the beneficiary or their spouse (户主/配偶 of one household)"),
                       ("household", "anyone of the beneficiary's household on the roll")):
        funds = [f for f, m in spec.match.items() if m == mode]
        if funds:
            out.append(f"for {', '.join(funds)}: {what} on the list")
    return ("; " + "; ".join(out)) if out else ""


def _doc(spec: RefListSpec) -> str:
    why, fp = ABOUT.get(spec.kind, GENERIC)
    funds = "every fund" if spec.excludes == ("all",) else ", ".join(spec.excludes)
    start = spec.window_from or "the beginning"
    if spec.from_offset_months:
        start += f" + {spec.from_offset_months} month(s)"
    return (
        f"{spec.code} {spec.name}: the `{spec.kind}` list.\n\n"
        f"Finds: beneficiaries with a usable ID on the {spec.kind} list who received {funds} "
        f"for months from {start} to {spec.window_to or 'open end'}" + _touches(spec)
        + (f"; a list without {spec.window_from} is a standing list (the whole period)"
           if spec.window_from and spec.standing else "") + ".\n"
        f"Why: {why}.\nKnown false positive: {fp}"
        + ("; a relative who left the household but is still registered in it"
           if spec.wide else "")
        + ("; on a standing list, someone who joined or left during the period (the whole "
           "period is counted: check the date with the list's source)"
           if spec.window_from and spec.standing else "") + "."
    )


def _window(spec: RefListSpec, dated_from: bool, dated_to: bool) -> tuple[nw.Expr, nw.Expr]:
    start: nw.Expr = nw.lit(NO_START)
    if dated_from:
        assert spec.window_from is not None  # dated_from: the list has this column, filled
        start = add_months(month_of(nw.col(spec.window_from)), spec.from_offset_months) \
            .fill_null(NO_START)
    end: nw.Expr = nw.lit(NO_END)
    if dated_to:
        assert spec.window_to is not None
        end = month_of(nw.col(spec.window_to)).fill_null(NO_END)
    return start.cast(nw.Int32), end.cast(nw.Int32)


def _filled(frames: Mapping[str, Any], kind: str, col: str | None) -> bool:
    """This run's list has the column with at least one value."""
    df = frames.get(kind)
    return bool(col) and df is not None and col in df.columns and df.height > 0 and \
        df.get_column(col).null_count() < df.height


def prepare(spec: RefListSpec, config: Config, frames: Mapping[str, Any]
            ) -> tuple[dict[str, Any], str]:
    """Whether this run's list has its window's dates (`dated_from`, `dated_to`), and the run's
    note when a list without its `from` dates is used as a standing list."""
    dated_from = _filled(frames, spec.kind, spec.window_from)
    dated_to = _filled(frames, spec.kind, spec.window_to)
    note = ""
    if spec.window_from and not dated_from:
        if dated_to:
            note = (f"{spec.kind} 无{_label(config, spec.kind, spec.window_from)}列，按常设名单使用"
                    f"（有{_label(config, spec.kind, spec.window_to)}的至该日）")
        else:
            note = f"{spec.kind} 无日期列，按常设名单使用"
    return {"dated_from": dated_from, "dated_to": dated_to}, note


def _label(config: Config, kind: str, col: str | None) -> str:
    aliases = config.tables[kind].columns.get(col or "", ()) if kind in config.tables else ()
    return aliases[0] if aliases else (col or "")


def _date(col: str | None) -> nw.Expr:
    return fmt_date(nw.col(col)) if col else nw.lit(None).cast(nw.String)


def _rank_of(spec: RefListSpec) -> nw.Expr:
    """The widest relation (RANK) through which a list entry touches a receipt of `fund`."""
    expr: nw.Expr = nw.lit(0)
    for mode in ("spouse", "household"):
        funds = [f for f, m in spec.match.items() if m == mode]
        if funds:
            expr = nw.when(nw.col("fund").is_in(funds)).then(nw.lit(RANK[mode])).otherwise(expr)
    return expr.cast(nw.Int32)


def _couple() -> nw.Expr:
    rel = nw.col("relation").str.strip_chars()
    return (nw.when(rel.is_in(list(HEADS)).fill_null(False)).then(nw.lit("head"))
            .when(rel.is_in(list(SPOUSES)).fill_null(False)).then(nw.lit("spouse"))
            .otherwise(nw.lit("")))


def _links(ctx: Context, listed: nw.LazyFrame, wide: bool) -> nw.LazyFrame:
    """Whom each listed person touches: (id_number, listed_id, link_hh, rank).

    Rank 0 (本人) for the listed person themselves, link_hh null; with `wide`, every other
    person of a household the listed person belongs to on the roll (link_hh), rank 1 (配偶)
    when the two are the 户主/配偶 pair of that household, else 2 (同户成员)."""
    own = listed.select(nw.col("listed_id").alias("id_number"), "listed_id",
                        nw.lit(None).cast(nw.String).alias("link_hh"),
                        nw.lit(0).cast(nw.Int32).alias("rank"))
    if not wide:
        return own
    # two passes over the roll's rows pick the few households concerned; the rest is small
    rows = attribution(ctx).rows.filter(
        ~nw.col("member_id").is_null() & ~nw.col("household_id").is_null()
    ).select("household_id", nw.col("member_id").alias("listed_id"), "relation")
    theirs = ctx.keep(
        rows.join(listed, on="listed_id", how="semi")
        .select("household_id", "listed_id", listed_couple=_couple()).unique()
    )
    kin = rows.join(theirs.select("household_id").unique(), on="household_id", how="semi") \
        .select("household_id", nw.col("listed_id").alias("id_number"), couple=_couple()).unique()
    pair = ((nw.col("couple") == "head") & (nw.col("listed_couple") == "spouse")) | (
        (nw.col("couple") == "spouse") & (nw.col("listed_couple") == "head"))
    others = (
        kin.join(theirs, on="household_id", how="inner")
        .filter(nw.col("id_number") != nw.col("listed_id"))
        .select("id_number", "listed_id", nw.col("household_id").alias("link_hh"),
                nw.when(pair).then(nw.lit(1)).otherwise(nw.lit(2)).cast(nw.Int32).alias("rank"))
    )
    return nw.concat([own, others], how="vertical")


UNIT = ["id_number", "household_id", "entry_type", "fund", "period", "card_no", "paid",
        "listed_id", "rank"]
SAME_HOUSEHOLD = nw.col("link_hh").is_null() | (nw.col("link_hh") == nw.col("household_id"))


def _touched(spec: RefListSpec, ctx: Context, links: nw.LazyFrame) -> nw.LazyFrame:
    """The receipts a list entry touches (UNIT columns), one row per listed person and period.

    A person-level fund (and a household-level one matched by `person`): what each touched
    person received (a household member's share). A household-level fund matched by
    `household`: the household entry's whole payment, under its ID (the 户主's), touched through
    any member."""
    excluded = spec.excludes != ("all",)
    got = shared_receipts(ctx, links.select("id_number"))
    if excluded:
        got = got.filter(nw.col("fund").is_in(list(spec.excludes)))
    got = got.with_columns(_mode=_rank_of(spec)).filter(
        (nw.col("entry_type") != "household") | (nw.col("_mode") == 0))
    own = got.join(links, on="id_number", how="inner").filter(
        (nw.col("rank") <= nw.col("_mode")) & SAME_HOUSEHOLD).select(UNIT)
    whole = [f for f, m in spec.match.items()
             if m == "household" and f in ctx.config.household_funds]
    if not whole:
        return own
    att = attribution(ctx)
    entries = att.entries.filter(
        (nw.col("entry_type") == "household") & nw.col("fund").is_in(whole)
    ).select(*ENTRY, "id_number", "household_id", "entry_type", "fund")
    households = (
        entries.join(links, on="id_number", how="inner").filter(SAME_HOUSEHOLD)
        .join(att.per_period().select(*ENTRY, "period", "paid", "card_no"), on=ENTRY, how="inner")
        .select(UNIT)
    )
    return nw.concat([own, households], how="vertical")


def check_list(spec: RefListSpec, ctx: Context) -> nw.LazyFrame:
    # without prepare's facts (a rule called directly) the columns are taken as the spec names
    dated_from = bool(ctx.params.get("dated_from", bool(spec.window_from)))
    dated_to = bool(ctx.params.get("dated_to", bool(spec.window_to)))
    start, end = _window(spec, dated_from, dated_to)
    detail = nw.col(spec.detail).cast(nw.String) if spec.detail else nw.lit(None).cast(nw.String)
    window = ctx.table(spec.kind).filter(usable()).select(
        nw.col("id_number").alias("listed_id"), start.alias("win_from"), end.alias("win_to"),
        _date(spec.window_from if dated_from else None).alias("from_date"),
        _date(spec.window_to if dated_to else None).alias("to_date"),
        detail.alias("detail"), nw.col("name").alias("list_name"),
    )
    links = ctx.keep(_links(ctx, window.select("listed_id").unique(), spec.wide))
    inside = ctx.keep(
        _touched(spec, ctx, links).join(window, on="listed_id", how="inner")
        .filter((nw.col("period") >= nw.col("win_from")) & (nw.col("period") <= nw.col("win_to")))
    )
    key = ["id_number", "fund"]
    # a month inside two windows (two prison terms, two listed relatives) counts once
    months = inside.group_by(*key, "period").agg(
        nw.col("household_id").min(), nw.col("entry_type").min(), nw.col("card_no").min(),
        nw.col("paid").max(),
    )
    agg = months.group_by(*key).agg(
        nw.col("household_id").min(), nw.col("entry_type").min(), nw.col("card_no").min(),
        nw.col("paid").sum().cast(nw.Int64).alias("amount"), *month_span(),
    )
    # the listed person the evidence names: the closest, then the smaller ID
    listed = inside.group_by(*key, "listed_id").agg(
        nw.col("rank").min(), nw.col("from_date").min(), nw.col("to_date").max(),
        nw.col("detail").min(), nw.col("list_name").min(),
    ).with_columns(_order=nw.concat_str([nw.col("rank").cast(nw.String), nw.lit("|"),
                                         nw.col("listed_id")]))
    first = listed.group_by(*key).agg(nw.col("_order").min(),
                                      nw.col("listed_id").n_unique().alias("n_listed"))
    found = with_people(ctx, agg.join(
        listed.join(first, on=[*key, "_order"], how="inner").drop("_order"), on=key, how="inner"))
    matched = people(attribution(ctx), found.select(nw.col("listed_id").alias("id_number")))
    found = found.join(matched.select(nw.col("id_number").alias("listed_id"),
                                      nw.col("name").alias("listed_name")),
                       on="listed_id", how="left")
    return found.with_columns(evidence=_evidence(spec, ctx, dated_from, dated_to))


def _evidence(spec: RefListSpec, ctx: Context, dated_from: bool, dated_to: bool) -> nw.Expr:
    from_label = _label(ctx.config, spec.kind, spec.window_from)
    if dated_from:
        when_text: list[nw.Expr] = [
            nw.when(nw.col("from_date").is_null())
            .then(nw.lit(f"{from_label}未填，按核查期初起在册处理"))
            .otherwise(nw.concat_str([nw.lit(from_label + " "), nw.col("from_date")]))]
    elif not spec.window_from:
        when_text = [nw.lit("名单在册")]
    elif dated_to:
        when_text = [nw.lit(f"名单无{from_label}，按核查期初起在册处理")]
    else:
        when_text = [nw.lit("名单无日期，按核查期内一直在册处理")]
    if dated_to:
        when_text += [nw.when(nw.col("to_date").is_null()).then(nw.lit(""))
                      .otherwise(nw.concat_str([nw.lit("，" + _label(ctx.config, spec.kind,
                                                                      spec.window_to) + " "),
                                                nw.col("to_date")]))]
    about: list[nw.Expr] = []
    if spec.detail:
        about = [nw.when(nw.col("detail").is_null() | (nw.col("detail") == "")).then(nw.lit(""))
                 .otherwise(nw.concat_str([
                     nw.lit(_label(ctx.config, spec.kind, spec.detail) + " "), nw.col("detail"),
                     nw.lit("，")]))]
    mode = _rank_of(spec)
    whole = (nw.col("entry_type") == "household") & (mode > 0)
    name = nw.when(nw.col("listed_name").is_null()).then(nw.col("list_name")) \
        .otherwise(nw.col("listed_name"))
    who = (
        nw.when(nw.col("rank") == 0).then(
            nw.when(mode > 0).then(nw.lit(HOW[0])).otherwise(nw.lit("")))
        .otherwise(nw.concat_str([
            nw.lit("的"),
            nw.when(nw.col("rank") == 1).then(nw.lit(HOW[1])).otherwise(nw.lit(HOW[2])),
            text(name), nw.lit("（"), mask_id(nw.col("listed_id")), nw.lit("）"),
        ]))
    )
    more = nw.when(nw.col("n_listed") > 1).then(
        nw.concat_str([nw.lit("等 "), text(nw.col("n_listed")), nw.lit(" 人")])).otherwise(nw.lit(""))
    return nw.concat_str([
        text(nw.col("name")), nw.lit("（"), mask_id(nw.col("id_number")), nw.lit("）"), who, more,
        nw.lit(f"在「{spec.name}」比对名单上（"), *about, *when_text, nw.lit("），"), span(),
        nw.when(whole).then(nw.lit(" 该户仍领取")).otherwise(nw.lit(" 仍领取")),
        nw.col("fund"), nw.lit(" "), count("months", "个月"), nw.lit("，共 "), money(),
        nw.when(whole).then(nw.lit("（全户）"))
        .when(nw.col("entry_type") == "household").then(nw.lit("（按其户内份额计）"))
        .otherwise(nw.lit("")),
    ])


def list_rule(spec: RefListSpec, config: Config) -> Rule:
    # a standing list runs without its dates; the others need the `from` column
    dates = (spec.window_from,) if spec.window_from and not spec.standing else ()
    needs: dict[str, tuple[str, ...]] = {
        spec.kind: ("id_number", *dates),
        "roll": ("id_number", "fund"),
        "payments": ("card_no", "amount", "pay_date"),
    }
    # what the rule reads when it is there: the list's name, window and detail columns, and
    # the roll and payments columns of the attribution and the household matching (relation)
    listed = [c for c in ("name", spec.window_from, spec.window_to, spec.detail)
              if c and c not in needs[spec.kind]]
    uses: dict[str, tuple[str, ...]] = {
        spec.kind: tuple(dict.fromkeys(listed)),
        "roll": (*ROLL_ENTRY, "card_no", "monthly_amount"),
        "payments": PAID_BY,
    }
    return Rule(
        code=spec.code, name=spec.name, title=f"on the {spec.kind} list", severity=spec.severity,
        needs=needs, uses=uses, check=partial(check_list, spec), doc=_doc(spec),
        prepare=partial(prepare, spec, config),
    )


def list_rules(config: Config) -> list[Rule]:
    """One rule per reference list the config declares."""
    return [list_rule(spec, config) for spec in config.lists.values()]
