"""E01–E05 and any list a province adds: beneficiaries on a reference list who keep receiving.

One mechanism for every list in configs/references.yaml (`lists:`): the list's input kind, the
rule code and name it reports under, its severity, the window during which receiving is wrong
(`from` column + `from_offset_months` … `to` column, month by month, null = open), and the funds
it excludes (`all` for every fund). A new list (住房公积金缴存, 车辆登记 …) needs only YAML: its
columns under `tables.<kind>` and its entry under `lists.<kind>`.

Finding: a person with a usable ID on the list who received an excluded fund for a period inside
the window (attributed payments; for household-level funds the person's share, see
payment/receipts.py). One finding per person and fund; amount = what was received inside the
window, months = the months received.

Standing lists: a list without its `from` date column in this run (a payroll or business extract
of 姓名 + 身份证号 + 单位, the usual form) is used for the whole period checked when the list is
`standing` (the default; the deaths list is not): the person is on the payroll, registered, now.
The run's note says so ("payroll 无日期列，按常设名单使用") and so does each finding's evidence
(名单无日期，按核查期内一直在册处理). In a list with dates, an entry whose `from` cell is empty
counts from the beginning too (its evidence says the date is missing), one whose `to` cell is
empty is open-ended.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import narwhals.stable.v2 as nw

from cardcheck.config import Config, RefListSpec
from cardcheck.rules.base import Context, Rule, mask_id, text
from cardcheck.rules.payment.attribution import month_span
from cardcheck.rules.payment.evidence import count, money, span
from cardcheck.rules.payment.periods import NO_END, NO_START, add_months, fmt_date, month_of, usable
from cardcheck.rules.payment.receipts import shared_receipts, with_people

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


def _doc(spec: RefListSpec) -> str:
    why, fp = ABOUT.get(spec.kind, GENERIC)
    funds = "every fund" if spec.excludes == ("all",) else ", ".join(spec.excludes)
    start = spec.window_from or "the beginning"
    if spec.from_offset_months:
        start += f" + {spec.from_offset_months} month(s)"
    return (
        f"{spec.code} {spec.name}: the `{spec.kind}` list.\n\n"
        f"Finds: beneficiaries with a usable ID on the {spec.kind} list who received {funds} "
        f"for months from {start} to {spec.window_to or 'open end'}"
        + (f"; a list without {spec.window_from} is a standing list (the whole period)"
           if spec.window_from and spec.standing else "") + ".\n"
        f"Why: {why}.\nKnown false positive: {fp}"
        + ("; on a standing list, someone who joined or left during the period (the whole "
           "period is counted: check the date with the list's source)"
           if spec.window_from and spec.standing else "") + "."
    )


def _window(spec: RefListSpec, dated_from: bool, dated_to: bool) -> tuple[nw.Expr, nw.Expr]:
    start: nw.Expr = nw.lit(NO_START)
    if dated_from:
        start = add_months(month_of(nw.col(spec.window_from)), spec.from_offset_months) \
            .fill_null(NO_START)
    end: nw.Expr = nw.lit(NO_END)
    if dated_to:
        end = month_of(nw.col(spec.window_to)).fill_null(NO_END)
    return start.cast(nw.Int32), end.cast(nw.Int32)


def _filled(frames: dict[str, Any], kind: str, col: str | None) -> bool:
    """This run's list has the column with at least one value."""
    df = frames.get(kind)
    return bool(col) and df is not None and col in df.columns and df.height > 0 and \
        df.get_column(col).null_count() < df.height


def prepare(spec: RefListSpec, config: Config, frames: dict[str, Any]) -> tuple[dict[str, Any], str]:
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


def check_list(spec: RefListSpec, ctx: Context) -> nw.LazyFrame:
    # without prepare's facts (a rule called directly) the columns are taken as the spec names
    dated_from = bool(ctx.params.get("dated_from", bool(spec.window_from)))
    dated_to = bool(ctx.params.get("dated_to", bool(spec.window_to)))
    start, end = _window(spec, dated_from, dated_to)
    window = ctx.table(spec.kind).filter(usable()).select(
        "id_number", start.alias("win_from"), end.alias("win_to"),
        _date(spec.window_from if dated_from else None).alias("from_date"),
        _date(spec.window_to if dated_to else None).alias("to_date"),
    )
    got = shared_receipts(ctx, window)
    if spec.excludes != ("all",):
        got = got.filter(nw.col("fund").is_in(list(spec.excludes)))
    keep = ["household_id", "entry_type", "card_no", "from_date"]
    inside = (
        got.join(window, on="id_number", how="inner")
        .filter((nw.col("period") >= nw.col("win_from")) & (nw.col("period") <= nw.col("win_to")))
        # a month inside two windows of one person (two prison terms) counts once
        .group_by("id_number", "fund", "period").agg(
            *(nw.col(c).min() for c in keep), nw.col("to_date").max(), nw.col("paid").max(),
        )
    )
    agg = with_people(ctx, inside.group_by("id_number", "fund").agg(
        *(nw.col(c).min() for c in keep), nw.col("to_date").max(),
        nw.col("paid").sum().cast(nw.Int64).alias("amount"), *month_span(),
    ))
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
    return agg.with_columns(
        evidence=nw.concat_str([
            text(nw.col("name")), nw.lit("（"), mask_id(nw.col("id_number")),
            nw.lit(f"）在「{spec.name}」比对名单上（"), *when_text, nw.lit("），"), span(),
            nw.lit(" 仍领取"), nw.col("fund"), nw.lit(" "), count("months", "个月"),
            nw.lit("，共 "), money(),
            nw.when(nw.col("entry_type") == "household").then(nw.lit("（按其户内份额计）"))
            .otherwise(nw.lit("")),
        ])
    )


def list_rule(spec: RefListSpec, config: Config) -> Rule:
    # a standing list runs without its dates; the others need the `from` column
    dates = (spec.window_from,) if spec.window_from and not spec.standing else ()
    needs: dict[str, tuple[str, ...]] = {
        spec.kind: ("id_number", *dates),
        "roll": ("id_number", "fund"),
        "payments": ("card_no", "amount", "pay_date"),
    }
    return Rule(
        code=spec.code, name=spec.name, title=f"on the {spec.kind} list", severity=spec.severity,
        needs=needs, check=partial(check_list, spec), doc=_doc(spec),
        prepare=partial(prepare, spec, config),
    )


def list_rules(config: Config) -> list[Rule]:
    """One rule per reference list the config declares."""
    return [list_rule(spec, config) for spec in config.lists.values()]
