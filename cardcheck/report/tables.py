"""The campaign tables 表1–表5 and the per-rule sheets as polars frames (pure, no Excel here).

Each builder returns a frame whose columns are the *fields* of configs/tables.yaml
(report.sheets.tN.columns); the writer maps fields to headers and formats by field. Money stays
fen here; IDs and cards are masked at the end unless `unmask`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

import polars as pl

from cardcheck.model import SCHEMAS
from cardcheck.report.mask import mask_card, mask_hub, mask_id
from cardcheck.report.spec import ReportSpec
from cardcheck.report.summary import NO_TOWNSHIP, TOTAL, township_col

OUTSIDE_ROLL = "（名册外）"
TABLE_NAMES = {"roll": "救助对象名册", "accounts": "银行账户信息", "payments": "代发明细",
               "transactions": "交易流水", "other_roll": "外地名册", "deaths": "死亡人员名单",
               "prisoners": "服刑人员名单", "payroll": "财政供养人员名单",
               "business": "工商登记信息", "pensions": "企业养老金名单",
               "officials": "经办人员和村干部名单", "relatives": "近亲属备案"}
STATE = {"finding_id": pl.String, "stage_found": pl.String, "owner": pl.String,
         "status": pl.String, "measure": pl.String, "deadline": pl.String,
         "recovered": pl.Int64, "note": pl.String, "present": pl.Boolean}


def _empty(name: str) -> pl.DataFrame:

    return pl.DataFrame(schema=SCHEMAS[name])


def _card_branch(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    acc = frames.get("accounts", _empty("accounts")).lazy()
    return acc.filter(pl.col("card_no").is_not_null()).group_by("card_no").agg(
        pl.col("branch").drop_nulls().first(), pl.col("holder_name").drop_nulls().first(),
        pl.col("holder_id").drop_nulls().first()).collect()


def _template(template: str, fallback: str) -> pl.Expr:
    """'{township}民政办' as a concat expression; a missing field gives the fallback."""
    parts = [p for p in re.split(r"(\{[a-z_]+\})", template) if p]
    exprs = [pl.col(p[1:-1]) if p.startswith("{") else pl.lit(p) for p in parts]
    fields = [p[1:-1] for p in parts if p.startswith("{")]
    out = pl.concat_str(exprs) if exprs else pl.lit(fallback)
    if fields:
        out = pl.when(pl.all_horizontal([pl.col(f).is_not_null() & (pl.col(f) != "")
                                         for f in fields])).then(out).otherwise(pl.lit(fallback))
    return out


def basis_of(rule_needs: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, str]:
    """数据依据 per rule code: the tables it compared, in Chinese."""
    return {code: "、".join(TABLE_NAMES.get(t, t) for t in needs) for code, needs in
            rule_needs.items()}


def enrich(findings: pl.DataFrame, frames: Mapping[str, pl.DataFrame], spec: ReportSpec,
           stage: str, state: pl.DataFrame | None = None, basis: dict[str, str] | None = None,
           today: date | None = None) -> pl.DataFrame:
    """Findings with what the tables show beside them: category, owner, measure, deadline,
    status, recovered, stage found, persons involved, county, data basis."""
    today = today or date.today()
    # only the roll and account rows of the findings' households and cards are looked at
    households = findings.select(pl.col("household_id").drop_nulls().unique())
    cards = findings.select(pl.col("card_no").drop_nulls().unique())
    roll = frames.get("roll", _empty("roll"))
    accounts = frames.get("accounts", _empty("accounts")).join(cards, on="card_no", how="semi")
    df = findings.join(_card_branch({"accounts": accounts}).select("card_no", "branch"),
                       on="card_no", how="left")
    county = pl.lit(spec.county) if spec.county else pl.col("region_code").fill_null("")
    df = df.with_columns(
        pl.col("rule").replace_strict(spec.categories, default=pl.col("rule_name"),
                                      return_dtype=pl.String).alias("category"),
        county.alias("county"),
    )
    owner = pl.lit(spec.owner_fallback)
    for prefix, template in spec.owners.items():
        owner = pl.when(pl.col("rule").str.starts_with(prefix)).then(
            _template(template, spec.owner_fallback)).otherwise(owner)
    measure = pl.col("rule").replace_strict(spec.measures, default="", return_dtype=pl.String)
    members = roll.join(households, on="household_id", how="semi").group_by("household_id").agg(
        pl.col("id_number").drop_nulls().n_unique().alias("_hh"))
    holders = roll.join(cards, on="card_no", how="semi").group_by("card_no").agg(
        pl.col("id_number").drop_nulls().n_unique().alias("_card"))
    df = df.join(members, on="household_id", how="left").join(holders, on="card_no", how="left")
    persons = (pl.when(pl.col("id_number").is_not_null()).then(1)
               .when(pl.col("household_id").is_not_null()).then(pl.col("_hh"))
               .otherwise(pl.col("_card")))
    deadline = (today + timedelta(days=spec.deadline_days)).isoformat()
    df = df.with_columns(
        owner.alias("owner_default"), measure.alias("measure_default"),
        pl.max_horizontal(persons.fill_null(1), pl.lit(1)).cast(pl.Int64).alias("persons"),
        (pl.col("rule") + pl.lit(" ") + pl.col("rule_name").fill_null("") + pl.lit("：") +
         pl.col("rule").replace_strict(basis or {}, default="", return_dtype=pl.String)
         ).str.strip_chars("：").alias("basis"),
    ).drop("_hh", "_card", "branch")
    state = state if state is not None else pl.DataFrame(schema=STATE)
    df = df.join(state.select([c for c in STATE if c in state.columns]), on="finding_id",
                 how="left")
    return df.with_columns(
        pl.col("stage_found").fill_null(stage).alias("stage"),
        pl.coalesce("owner", "owner_default").alias("owner"),
        pl.coalesce("measure", "measure_default").alias("measure"),
        pl.col("deadline").fill_null(deadline),
        pl.col("status").fill_null(spec.open_status),
        pl.col("recovered").fill_null(0),
        pl.col("note").fill_null(""),
    ).drop("owner_default", "measure_default", "stage_found")


def _mask_fields(df: pl.DataFrame, unmask: bool, ids: tuple[str, ...] = ("id_number",),
                 cards: tuple[str, ...] = ("card_no",)) -> pl.DataFrame:
    if unmask:
        return df
    exprs = [mask_id(pl.col(c)).alias(c) for c in ids if c in df.columns]
    exprs += [mask_card(pl.col(c)).alias(c) for c in cards if c in df.columns]
    if "hub" in df.columns:
        exprs.append(mask_hub(pl.col("hub")).alias("hub"))
    return df.with_columns(exprs) if exprs else df


def _ym_text(col: str) -> pl.Expr:
    return pl.when(pl.col(col).is_null()).then(pl.lit("")).otherwise(
        (pl.col(col) // 100).cast(pl.String) + pl.lit("-") +
        (pl.col(col) % 100).cast(pl.String).str.zfill(2))


def table4(enriched: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """表4: one row per finding, 序号 from 1, ordered by township, village, rule."""
    df = enriched.sort(["township", "village", "rule", "household_id", "finding_id"],
                       nulls_last=True)
    df = df.with_columns(pl.int_range(1, df.height + 1).alias("seq"),
                         _ym_text("first_month").alias("first_month"),
                         _ym_text("last_month").alias("last_month"))
    return _mask_fields(df, unmask)


def rule_sheet(findings: pl.DataFrame, code: str, unmask: bool = False) -> pl.DataFrame:
    return rule_sheets(findings.filter(pl.col("rule") == code), unmask).get(
        code, _rule_rows(findings.clear(), unmask))


def _rule_rows(findings: pl.DataFrame, unmask: bool) -> pl.DataFrame:
    df = findings.sort(["rule", "township", "village", "household_id", "amount"],
                       descending=[False, False, False, False, True], nulls_last=True,
                       maintain_order=True)
    df = df.with_columns(_ym_text("first_month").alias("first_month"),
                         _ym_text("last_month").alias("last_month"))
    return _mask_fields(df, unmask)


def rule_sheets(findings: pl.DataFrame, unmask: bool = False) -> dict[str, pl.DataFrame]:
    """The per-rule sheets, by rule code: that rule's findings by township, village,
    household, most money first (sorted and masked once for all the rules)."""
    df = _rule_rows(findings, unmask)
    return {str(key[0]): part for key, part in
            df.partition_by("rule", as_dict=True, maintain_order=True).items()}


def category_columns(spec: ReportSpec, findings: pl.DataFrame) -> list[str]:
    """The problem categories as 表1 columns: the config's, in order, then any others found."""
    cats = list(dict.fromkeys(spec.categories.values()))
    if "category" in findings.columns:
        extra = findings.get_column("category").drop_nulls().unique().sort().to_list()
        cats += [c for c in extra if c not in cats]
    return cats


def _with_total(df: pl.DataFrame, label_col: str, sums: list[str]) -> pl.DataFrame:
    total = df.select([pl.lit(TOTAL).alias(label_col)] +
                      [pl.col(c).sum() for c in sums])
    for col in df.columns:
        if col not in total.columns:
            total = total.with_columns(pl.lit(None).cast(df.schema[col]).alias(col))
    return pl.concat([df, total.select(df.columns).cast(df.schema)])


def card_payments(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Payments per card (one row for the payments without a card too): payments, paid (fen),
    months paid, and the payments whose memo does not conform (names no fund or no month, or
    is generic). 表1 and 表2 both sum these: the payments are grouped once."""
    pays = frames.get("payments", _empty("payments"))
    bad = (pl.col("memo_generic").fill_null(True) | (pl.col("memo_funds").fill_null(0) == 0)
           | pl.col("memo_period").is_null())
    return pays.lazy().group_by("card_no").agg(
        pl.len().alias("payments"), pl.col("amount").fill_null(0).sum().alias("paid"),
        pl.col("pay_month").drop_nulls().n_unique().alias("months"), bad.sum().alias("bad_memos")
    ).collect()


def table1(frames: Mapping[str, pl.DataFrame], enriched: pl.DataFrame,
           spec: ReportSpec, paid_by_card: pl.DataFrame | None = None) -> pl.DataFrame:
    """表1 per township: households, persons, cards, funds, payments, money checked; problems per
    category (columns 'cat:<category>'), problems in all and money involved; a 合计 row.
    `paid_by_card` is card_payments(frames), when the caller has it."""
    roll = frames.get("roll", _empty("roll"))
    by_card = card_payments(frames) if paid_by_card is None else paid_by_card
    base = roll.with_columns(township_col()).group_by("township").agg(
        pl.col("household_id").drop_nulls().n_unique().alias("households"),
        pl.col("id_number").drop_nulls().n_unique().alias("persons"),
        pl.col("card_no").drop_nulls().n_unique().alias("cards"),
        pl.col("fund").drop_nulls().n_unique().alias("funds"))
    card_town = roll.filter(pl.col("card_no").is_not_null()).group_by("card_no").agg(
        pl.col("township").fill_null(NO_TOWNSHIP).first())
    paid = (by_card.join(card_town, on="card_no", how="left")
            .with_columns(pl.col("township").fill_null(OUTSIDE_ROLL))
            .group_by("township").agg(pl.col("payments").sum(), pl.col("paid").sum()))
    cats = category_columns(spec, enriched)
    found = enriched.with_columns(township_col())
    per_cat = [(pl.col("category") == c).sum().alias(f"cat:{c}") for c in cats]
    probs = found.group_by("township").agg(
        *per_cat, pl.len().alias("problems"), pl.col("amount").fill_null(0).sum().alias("amount"))
    towns = pl.concat([base.select("township"), paid.select("township"),
                       probs.select("township")]).unique()
    out = (towns.join(base, on="township", how="left").join(paid, on="township", how="left")
           .join(probs, on="township", how="left"))
    nums = [c for c in out.columns if c != "township"]
    out = out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in nums)
    out = out.sort(pl.col("township").is_in([OUTSIDE_ROLL, NO_TOWNSHIP]), "township")
    return _with_total(out, "township", nums)


def table2(frames: Mapping[str, pl.DataFrame], findings: pl.DataFrame,
           unmask: bool = False, paid_by_card: pl.DataFrame | None = None) -> pl.DataFrame:
    """表2 per card: where, holder, beneficiaries, funds, months and money paid, memo
    conformity (a memo that names no fund or no month, or is generic, is not conforming), and
    the problems found on the card. `paid_by_card` is card_payments(frames), when the caller
    has it."""
    roll = frames.get("roll", _empty("roll"))
    by_card = card_payments(frames) if paid_by_card is None else paid_by_card
    # each card's rows by name: the first township and village, the names in order
    on_roll = roll.select("card_no", "name", "township", "village", "id_number", "fund").filter(
        pl.col("card_no").is_not_null()).sort("card_no", "name", nulls_last=True)
    per_card = on_roll.group_by("card_no", maintain_order=True).agg(
        pl.col("township").drop_nulls().first(), pl.col("village").drop_nulls().first(),
        pl.col("name").drop_nulls().unique(maintain_order=True).alias("_names"),
        pl.col("id_number").drop_nulls().n_unique().alias("persons"),
        pl.col("fund").drop_nulls().unique().alias("funds"))
    per_card = per_card.with_columns(
        pl.col("funds").list.sort().list.join("、"),
        pl.when(pl.col("_names").list.len() > 8)
        .then(pl.col("_names").list.head(8).list.join("、") + pl.lit("等") +
              pl.col("_names").list.len().cast(pl.String) + pl.lit("人"))
        .otherwise(pl.col("_names").list.join("、")).alias("beneficiaries")).drop("_names")
    paid = by_card.filter(pl.col("card_no").is_not_null()).select(
        "card_no", "months", "paid",
        pl.when(pl.col("bad_memos") == 0).then(pl.lit("规范")).otherwise(
            pl.lit("不规范 ") + pl.col("bad_memos").cast(pl.String) + pl.lit("/") +
            pl.col("payments").cast(pl.String) + pl.lit(" 笔")).alias("memo"))
    probs = findings.filter(pl.col("card_no").is_not_null()).group_by("card_no").agg(
        pl.col("rule_name").drop_nulls().unique().sort().str.join("、").alias("problems"))
    cards = pl.concat([per_card.select("card_no"), paid.select("card_no")]).unique()
    out = (cards.join(per_card, on="card_no", how="left").join(paid, on="card_no", how="left")
           .join(_card_branch(frames), on="card_no", how="left")
           .join(probs, on="card_no", how="left"))
    out = out.with_columns(
        pl.col("township").fill_null(OUTSIDE_ROLL), pl.col("persons").fill_null(0),
        pl.col("months").fill_null(0), pl.col("paid").fill_null(0),
        pl.col("memo").fill_null("无发放"), pl.col("problems").fill_null(""),
    ).sort(["township", "village", "card_no"], nulls_last=True)
    return _mask_fields(out, unmask, ids=("holder_id",))


def table3(enriched: pl.DataFrame, spec: ReportSpec, unmask: bool = False) -> pl.DataFrame:
    """表3 自查问题台账: one row per household (or person, card, hub when no household) with its
    problem categories, count, money, period, owner, earliest deadline and overall status (the
    least advanced status of its problems; 不属实 only when all are)."""
    rank = {s: i for i, s in enumerate(spec.statuses)}
    unfounded = spec.statuses[3]
    df = enriched.with_columns(
        pl.when(pl.col("household_id").is_not_null()).then(pl.lit("h"))
        .when(pl.col("id_number").is_not_null()).then(pl.lit("i"))
        .when(pl.col("card_no").is_not_null()).then(pl.lit("c")).otherwise(pl.lit("x"))
        .alias("_kind"),
        pl.coalesce("household_id", "id_number", "card_no", "hub", "finding_id").alias("object"),
        pl.when(pl.col("status") == unfounded).then(len(rank))
        .otherwise(pl.col("status").replace_strict(rank, default=0, return_dtype=pl.Int64))
        .alias("_rank"),
    )
    out = df.group_by("_kind", "object").agg(
        pl.col("township").drop_nulls().first(), pl.col("village").drop_nulls().first(),
        pl.col("name").drop_nulls().first(),
        pl.col("category").unique().sort().str.join("、").alias("categories"),
        pl.len().alias("problems"), pl.col("amount").fill_null(0).sum().alias("amount"),
        pl.col("first_month").min(), pl.col("last_month").max(),
        pl.col("owner").drop_nulls().first(), pl.col("deadline").min(), pl.col("_rank").min())
    out = out.with_columns(
        pl.when(pl.col("_rank") >= len(rank)).then(pl.lit(unfounded)).otherwise(
            pl.col("_rank").replace_strict({i: s for s, i in rank.items()}, default=spec.statuses[0],
                                           return_dtype=pl.String)).alias("status"),
        pl.when(pl.col("first_month").is_null()).then(pl.lit("")).otherwise(
            _ym_text("first_month") + pl.lit("至") + _ym_text("last_month")).alias("period"),
    )
    if not unmask:
        out = out.with_columns(
            pl.when(pl.col("_kind") == "i").then(mask_id(pl.col("object")))
            .when(pl.col("_kind") == "c").then(mask_card(pl.col("object")))
            .when(pl.col("_kind") == "x").then(mask_hub(pl.col("object")))
            .otherwise(pl.col("object")).alias("object"))
    out = out.sort(["township", "village", "object"], nulls_last=True)
    return out.with_columns(pl.int_range(1, out.height + 1).alias("seq")).drop("_kind", "_rank")


def table5(state: pl.DataFrame, spec: ReportSpec) -> pl.DataFrame:
    """表5 township × problem category from the ledger's state (every problem the campaign has
    recorded): found, per status, rectification rate (rectified / (found − unfounded)), money
    recovered (fen), accounts closed or changed, leads handed over, problems gone from the data.
    Rectified counts 已整改 and 销号 (rectified and closed)."""
    new, doing, done, unfounded, closed = spec.statuses[:5]
    acc = "|".join(re.escape(w) for w in spec.account_words)
    lead = "|".join(re.escape(w) for w in spec.lead_words)
    measure = pl.col("measure").fill_null("")
    df = state.with_columns(township_col())
    finished = pl.col("status").is_in([done, closed])
    counts = [
        pl.len().alias("found"), finished.sum().alias("rectified"),
        (pl.col("status") == doing).sum().alias("in_progress"),
        (pl.col("status") == new).sum().alias("open"),
        (pl.col("status") == unfounded).sum().alias("unfounded"),
        pl.col("recovered").fill_null(0).sum().alias("recovered"),
        (finished & measure.str.contains(acc)).sum().alias("accounts"),
        measure.str.contains(lead).sum().alias("leads"),
        (~pl.col("present").fill_null(True)).sum().alias("gone"),
    ]
    out = df.group_by("township", "category").agg(counts).sort("township", "category")
    nums = ["found", "rectified", "in_progress", "open", "unfounded", "recovered", "accounts",
            "leads", "gone"]
    out = out.with_columns(pl.col(c).cast(pl.Int64) for c in nums)
    out = _with_total(out.with_columns(pl.lit(None, pl.Float64).alias("rate")), "township", nums)
    base = pl.col("found") - pl.col("unfounded")
    return out.with_columns(
        pl.when(base > 0).then(pl.col("rectified") / base).otherwise(None).alias("rate"),
        pl.col("category").fill_null(""))
