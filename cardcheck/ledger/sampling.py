"""重点抽查: a reproducible sample of townships, villages and households that points at the risk,
and the visit list a field team carries, fills in and signs.

The stage rechecks where 自查自纠 and 全面检查 were weak, so the draw favours the households with
findings (by their count, severity and money) and most of all those whose findings were claimed
resolved (已整改) or unfounded (不属实): claims to verify on the spot. The weights are in
configs/sampling.yaml (docs/sampling.md):

    finding          (severity + min(元 / yuan_per_point, max_points)) × status
    household        household + the sum of its findings'
    township/village the sum of its households' findings, plus floor × the mean of the
                     townships (of the villages of its township): a clean place keeps a chance

Findings are weighed in thousandths as integers, so sums do not depend on the order polars adds
them in. Every draw is keyed by sha1(seed | level | name), so the same seed on the same ledger
gives the same sample on any machine and polars version; weighted draws use Efraimidis–Spirakis
keys (u ** (1 / weight), largest first), `--uniform` equal weights. Stratified by township: the
villages are drawn within each township drawn, the households within each village drawn.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.config import SEVERITIES, Config
from cardcheck.errors import CardcheckError, ConfigError
from cardcheck.ledger.store import Ledger
from cardcheck.masking import mask_card, mask_phone, masked
from cardcheck.report.excel import Writer, write_row
from cardcheck.report.spec import SheetSpec
from cardcheck.report.summary import NO_TOWNSHIP

NO_VILLAGE = "（未填村）"
MILLI = 1000  # findings' weights are kept in thousandths (integers)
# the visit list: (field, header, width in character cells, kind); A4 landscape, fit to width
VISIT_COLUMNS = (
    ("seq", "序号", 4, "int"), ("township", "乡镇（街道）", 12, "wrap"),
    ("village", "村（社区）", 10, "wrap"), ("household_id", "户号", 20, "text"),
    ("name", "户主", 7, "wrap"), ("persons", "人数", 4, "int"),
    ("address", "住址", 16, "wrap"), ("phone", "联系电话", 12, "wrap"),
    ("cards", "银行卡号", 13, "wrap"), ("problems", "问题（规则、金额）", 26, "wrap"),
    ("claims", "台账状态（认定单位、日期）", 26, "wrap"), ("visitor", "走访人", 8, "wrap"),
    ("visit_date", "走访日期", 9, "wrap"), ("result", "核实结果", 18, "wrap"),
    ("signature", "签字", 8, "wrap"),
)
SIGN_ROW = 30.0  # points: the least height of a row, room for a signature
LINE = 13.5  # points per line of wrapped text
WEIGHTS_SHEET = SheetSpec("抽样情况", "重点抽查抽样情况（各乡镇权重）", (
    ("township", "乡镇（街道）"), ("households", "户数"), ("risky", "有问题户数"),
    ("findings", "问题数"), ("claimed", "已整改、不属实或销号"), ("weight", "抽样权重"),
    ("drawn", "是否抽中")))


@dataclass(frozen=True)
class Weights:
    """configs/sampling.yaml, validated (weights_of)."""

    household: float = 1.0
    severity: dict[str, float] = field(default_factory=lambda: {
        "high": 20.0, "medium": 12.0, "low": 6.0, "warning": 3.0})
    yuan_per_point: float = 500.0
    max_points: float = 20.0
    status: dict[str, float] = field(default_factory=lambda: {
        "未整改": 1.0, "整改中": 1.0, "已整改": 2.0, "不属实": 3.0, "销号": 2.0})
    township_floor: float = 0.1
    village_floor: float = 0.1
    claimed: tuple[str, ...] = ("已整改", "不属实", "销号")  # the statuses a visit verifies

    def params(self) -> dict[str, Any]:
        """As stored with a sample in the ledger."""
        return {"household": self.household, "severity": self.severity,
                "yuan_per_point": self.yuan_per_point, "max_points": self.max_points,
                "status": self.status, "floor": {"township": self.township_floor,
                                                 "village": self.village_floor}}


@dataclass(frozen=True)
class SampleSpec:
    seed: int
    townships: int | None = None  # None: every township
    villages: int = 2  # per township drawn
    households: int = 5  # per village drawn
    weighted: bool = True  # False: every place and household equally likely
    weights: Weights = field(default_factory=Weights)


def _number(raw: dict[str, Any], key: str, default: float, where: str,
            positive: bool = False) -> float:
    value = raw.get(key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        raise ConfigError(f"{where}.{key}: expected a number {'above' if positive else 'from'} "
                          f"0, got {value!r}")
    return float(value)


def _section(raw: dict[str, Any], key: str, where: str, known: tuple[str, ...] | None
             ) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.{key}: expected a mapping, got {value!r}")
    for k in value:
        if known is not None and k not in known:
            raise ConfigError(f"{where}.{key}.{k}: expected one of {list(known)}")
    return value


def weights_of(config: Config, statuses: tuple[str, ...]) -> Weights:
    """The `sampling:` section (configs/sampling.yaml); ConfigError names the key."""
    raw = config.sampling
    where = "sampling"
    for key in raw:
        if key not in ("household", "severity", "money", "status", "floor"):
            raise ConfigError(f"{where}.{key}: expected one of household, severity, money, "
                              "status, floor")
    base = Weights()
    severity = _section(raw, "severity", where, SEVERITIES)
    money = _section(raw, "money", where, ("yuan_per_point", "max_points"))
    status = _section(raw, "status", where, None)
    for k in status:
        if k not in statuses:
            raise ConfigError(f"{where}.status.{k}: expected a status of report.statuses "
                              f"({'、'.join(statuses)})")
    floor = _section(raw, "floor", where, ("township", "village"))
    return Weights(
        household=_number(raw, "household", base.household, where),
        severity={k: _number(severity, k, base.severity.get(k, 0.0), f"{where}.severity")
                  for k in SEVERITIES},
        yuan_per_point=_number(money, "yuan_per_point", base.yuan_per_point, f"{where}.money",
                               positive=True),
        max_points=_number(money, "max_points", base.max_points, f"{where}.money"),
        status={k: _number(status, k, base.status.get(k, 1.0), f"{where}.status")
                for k in statuses},
        township_floor=_number(floor, "township", base.township_floor, f"{where}.floor"),
        village_floor=_number(floor, "village", base.village_floor, f"{where}.floor"),
        claimed=statuses[2:5],  # done, unfounded, closed (report.statuses: third to fifth)
    )


def new_seed() -> int:
    return secrets.randbelow(1_000_000)


# ---------------------------------------------------------------- the frame and the risk


def frame_of(roll: pl.DataFrame | None, accounts: pl.DataFrame | None = None
             ) -> pl.DataFrame | None:
    """The ledger's sampling frame from the roll: a row per household, with its township,
    village, head (户主 first), persons, and for the visit list its phone (the roll's, else the
    bank's 预留手机号), address (the accounts' 联系地址) and cards (the roll's, comma-separated);
    in household_id order (the order the ledger stores them in)."""
    if roll is None:
        return None
    extra = [pl.col(c) if c in roll.columns else pl.lit(None, pl.String).alias(c)
             for c in ("phone", "card_no")]
    r = roll.select("household_id", "relation", "id_number", "township", "village", "name",
                    *extra).filter(pl.col("household_id").is_not_null())
    if accounts is not None and "card_no" in accounts.columns:
        acc = accounts.select(
            "card_no",
            *[(pl.col(c) if c in accounts.columns else pl.lit(None, pl.String)).alias(f"acc_{c}")
              for c in ("address", "phone")],
        ).filter(pl.col("card_no").is_not_null()).sort(
            "card_no", "acc_address", "acc_phone", nulls_last=True).unique(
            "card_no", keep="first", maintain_order=True)
        r = r.join(acc, on="card_no", how="left")
    else:
        r = r.with_columns(pl.lit(None, pl.String).alias("acc_address"),
                           pl.lit(None, pl.String).alias("acc_phone"))
    blank = {c: pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c))
             for c in ("phone", "acc_phone", "acc_address")}
    return r.with_columns(**blank).sort(
        "household_id", pl.col("relation") != "户主", "id_number", "card_no", "phone",
        "acc_address", "acc_phone", "township", "village", "name", nulls_last=True
    ).group_by("household_id", maintain_order=True).agg(
        pl.col("township").drop_nulls().first(), pl.col("village").drop_nulls().first(),
        pl.col("name").drop_nulls().first(),
        pl.col("id_number").drop_nulls().n_unique().cast(pl.Int64).alias("persons"),
        pl.col("acc_address").drop_nulls().first().alias("address"),
        pl.coalesce(pl.col("phone").drop_nulls().first(),
                    pl.col("acc_phone").drop_nulls().first()).alias("phone"),
        pl.col("card_no").drop_nulls().unique().sort().str.join(",").alias("cards"),
    ).with_columns(pl.when(pl.col("cards") != "").then(pl.col("cards")).alias("cards"))


def _yuan(fen: pl.Expr) -> pl.Expr:
    """1234500 -> '12345.00'."""
    fen = fen.fill_null(0)
    return pl.concat_str([(fen // 100).cast(pl.String), pl.lit("."),
                          (fen % 100).cast(pl.String).str.zfill(2)])


def household_risk(state: pl.DataFrame, claims: pl.DataFrame, weights: Weights) -> pl.DataFrame:
    """Per household with findings in the ledger (present or gone, any status): findings,
    claimed (how many 已整改 or 不属实: weights.claimed), amount (fen), risk (the
    findings' weights in thousandths), the card numbers the findings name, and the visit list's
    problems and claims, a numbered line per finding. `claims`: finding_id, at, source of each
    finding's last status change."""
    sev = pl.col("severity").replace_strict(weights.severity, default=0.0,
                                            return_dtype=pl.Float64)
    money = (pl.col("amount").fill_null(0) / (weights.yuan_per_point * 100)).clip(
        0, weights.max_points)
    status = pl.col("status").replace_strict(weights.status, default=1.0,
                                             return_dtype=pl.Float64)
    f = state.filter(pl.col("household_id").is_not_null()).join(
        claims, on="finding_id", how="left").sort("household_id", "rule", "finding_id")
    n = (pl.int_range(pl.len()).over("household_id") + 1).cast(pl.String) + pl.lit(". ")
    who = pl.concat_str([
        pl.col("owner"), pl.col("at").str.slice(0, 10),
        pl.col("source").str.replace(r"^import ", "导入 ").str.replace(r"^run$", "核查运行")],
        separator=" ", ignore_nulls=True)
    gone = pl.when(~pl.col("present")).then(pl.lit("；数据中已不存在"))
    claim = pl.concat_str([
        pl.col("status"), pl.lit("（"), pl.when(pl.col("at").is_not_null()).then(who)
        .otherwise(pl.lit("未反馈")), gone.fill_null(""), pl.lit("）")])
    return f.with_columns(
        ((sev + money) * status * MILLI).round(0).cast(pl.Int64).alias("risk"),
        pl.col("status").is_in(list(weights.claimed)).alias("_claimed"),
        (n + pl.col("rule") + " " + pl.col("rule_name").fill_null("") + " "
         + _yuan(pl.col("amount")) + "元").alias("problems"),
        (n + claim).alias("claims"),
    ).group_by("household_id", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("findings"),
        pl.col("_claimed").sum().cast(pl.Int64).alias("claimed"),
        pl.col("amount").fill_null(0).sum().alias("amount"),
        pl.col("risk").sum(),
        pl.col("card_no").drop_nulls().unique().sort().str.join(",").alias("finding_cards"),
        pl.col("problems").str.join("\n"), pl.col("claims").str.join("\n"),
    )


def risk_of(ledger: Ledger, weights: Weights) -> pl.DataFrame:
    """household_risk of the ledger's findings and their status history."""
    hist = ledger.history().filter(pl.col("field") == "status")
    claims = hist.group_by("finding_id", maintain_order=True).agg(
        pl.col("at").last(), pl.col("source").last())
    return household_risk(ledger.state(), claims, weights)


RISK_COLS = {"findings": pl.Int64, "claimed": pl.Int64, "amount": pl.Int64, "risk": pl.Int64,
             "finding_cards": pl.String, "problems": pl.String, "claims": pl.String}


# ---------------------------------------------------------------- the draw


def _uniform(seed: int, level: str, keys: pl.Series) -> pl.Series:
    vals = [(int(hashlib.sha1(f"{seed}|{level}|{k}".encode()).hexdigest()[:13], 16) + 1)
            / (16**13 + 1) for k in keys.to_list()]
    return pl.Series("u", vals, dtype=pl.Float64)


def _pick(df: pl.DataFrame, key: str, level: str, n: int | None, by: list[str],
          spec: SampleSpec) -> pl.DataFrame:
    """Top `n` rows per group `by` of the random key u ** (1 / weight)."""
    if n is None:
        return df
    df = df.with_columns(_uniform(spec.seed, level, df.get_column(key)))
    df = df.with_columns((pl.col("u").log() / pl.col("weight")).alias("_k"))  # log u ** (1/w)
    rank = pl.col("_k").rank("ordinal", descending=True)
    ranked = df.with_columns((rank.over(by) if by else rank).alias("_r"))
    return ranked.filter(pl.col("_r") <= n).drop("u", "_k", "_r")


def _area(floor: float, by: list[str], weighted: bool) -> pl.Expr:
    """A township's or village's weight: its households' findings (risk, thousandths) plus
    `floor` × the mean of its level (within `by`); all equal when none of them has findings."""
    if not weighted:
        return pl.lit(1.0).alias("weight")
    total, count = pl.col("risk").sum(), pl.len()
    mean = (total.over(by) / count.over(by)) if by else total / count
    return pl.when(mean > 0).then((pl.col("risk") + floor * mean) / MILLI).otherwise(
        1.0).alias("weight")


def frame(households: pl.DataFrame, risk: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    """The households with their risk columns and weight (1 each when not weighted)."""
    if households.height == 0:
        raise CardcheckError("the ledger holds no households yet: run cardcheck check with this "
                             "--ledger first")
    risk = risk.select([pl.col(c).cast(t) if c in risk.columns else pl.lit(None, t).alias(c)
                        for c, t in {"household_id": pl.String, **RISK_COLS}.items()])
    hh = households.with_columns(pl.col("township").fill_null(NO_TOWNSHIP),
                                 pl.col("village").fill_null(NO_VILLAGE))
    hh = hh.join(risk, on="household_id", how="left").with_columns(
        pl.col("findings", "claimed", "amount", "risk").fill_null(0))
    w = spec.weights
    weight = (w.household + pl.col("risk") / MILLI) if spec.weighted else pl.lit(1.0)
    return hh.with_columns(weight.cast(pl.Float64).alias("weight"))


def townships_of(hh: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    """Per township: households, risky, findings, claimed, risk and weight."""
    return hh.group_by("township").agg(
        pl.len().cast(pl.Int64).alias("households"),
        (pl.col("findings") > 0).sum().cast(pl.Int64).alias("risky"),
        pl.col("findings", "claimed", "risk").sum(),
    ).sort("township").with_columns(_area(spec.weights.township_floor, [], spec.weighted))


def draw(households: pl.DataFrame, risk: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    """The sample: seq, township, village, household_id, name, persons, the risk columns
    (household_risk), weight. `risk` is household_risk's frame (or any with household_id and
    some of its columns)."""
    hh = frame(households, risk, spec)
    towns = _pick(townships_of(hh, spec), "township", "township", spec.townships, [], spec)
    villages = hh.join(towns.select("township"), on="township", how="semi").group_by(
        "township", "village").agg(pl.col("risk").sum()).sort("township", "village")
    villages = villages.with_columns(
        (pl.col("township") + "/" + pl.col("village")).alias("_key"),
        _area(spec.weights.village_floor, ["township"], spec.weighted))
    villages = _pick(villages, "_key", "village", spec.villages, ["township"], spec)
    chosen = hh.join(villages.select("township", "village"), on=["township", "village"],
                     how="semi").sort("household_id")
    chosen = _pick(chosen, "household_id", "household", spec.households,
                   ["township", "village"], spec)
    chosen = chosen.sort("township", "village", "household_id")
    return chosen.with_columns(pl.int_range(1, chosen.height + 1).alias("seq"))


# ---------------------------------------------------------------- the visit list


def visit_rows(sample: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """The visit list's columns (VISIT_COLUMNS) of a sample: phone and cards masked unless
    `unmask` (a card per line: the roll's and those the findings name), the fill-in columns
    empty."""
    cards = pl.concat_str([pl.col("cards"), pl.col("finding_cards")], separator=",",
                          ignore_nulls=True).str.split(",").list.eval(
        pl.element().filter(pl.element() != "")).list.unique(maintain_order=True).list.sort()
    if not unmask:
        cards = cards.list.eval(mask_card(pl.element()))
    phone = pl.col("phone") if unmask else mask_phone(pl.col("phone"))
    df = sample.with_columns(
        cards.list.join("\n").alias("cards"), phone.alias("phone"),
        pl.col("problems").fill_null("（台账中无问题）"), pl.col("claims").fill_null(""),
        *[pl.lit(None, pl.String).alias(c) for c in ("visitor", "visit_date", "result",
                                                     "signature")])
    df = df.select([c for c, *_ in VISIT_COLUMNS])
    # long digit runs written into names, addresses and problems (an ID in an address)
    return masked(df, unmask, keep=("cards", "phone"))


def _lines(df: pl.DataFrame) -> list[int]:
    """Printed lines each row needs: per wrapped column, each line of text over the column's
    width (a wide character counts 2)."""
    exprs = []
    for col, _, width, kind in VISIT_COLUMNS:
        if kind != "wrap":
            continue
        text = pl.col(col).cast(pl.String).fill_null("")
        exprs.append(text.str.split("\n").list.eval(
            ((pl.element().str.len_bytes() + pl.element().str.len_chars()) // 2
             / max(width - 1, 1)).ceil().clip(1)).list.sum().cast(pl.Int64))
    if df.height == 0:
        return []
    return df.select(pl.max_horizontal(*exprs).clip(1, 40)).to_series().to_list()


def write_visit_list(w: Writer, rows: pl.DataFrame, subtitle: str, note: str) -> None:
    """The sheet 走访名单: title, subtitle, a note, the header repeated on every printed page,
    a row per household tall enough to sign, the team's signatures below; A4 landscape."""
    ws = w.sheet("走访名单")
    last = len(VISIT_COLUMNS) - 1
    ws.merge_range(0, 0, 0, last, "重点抽查入户核实走访名单", w.f["title"])
    ws.set_row(0, 24)
    ws.write_string(1, 0, subtitle, w.f["sub"])
    ws.write_string(2, 0, note, w.f["note"])
    head = 3
    for i, (_, header, width, _) in enumerate(VISIT_COLUMNS):
        ws.set_column(i, i, width)
        ws.write_string(head, i, header, w.f["head"])
    ws.set_row(head, 32)
    ws.freeze_panes(head + 1, 0)
    ws.repeat_rows(0, head)
    kinds = [kind for *_, kind in VISIT_COLUMNS]
    for r, (values, n) in enumerate(zip(rows.iter_rows(), _lines(rows)), start=head + 1):
        ws.set_row(r, max(LINE * n + 3, SIGN_ROW))
        write_row(ws, r, values, kinds, w.f)
    end = head + rows.height + 2
    ws.write_string(end, 0, "检查组成员（签字）：", w.f["label"])
    ws.write_string(end, 9, "检查组负责人（签字）：", w.f["label"])
    ws.write_string(end + 2, 0, "核实日期：　　　　年　　月　　日", w.f["label"])
    ws.set_row(end, SIGN_ROW)
    ws.print_area(0, 0, end + 2, last)


def run_sample(ledger: Ledger, out: Path, stage: str, spec: SampleSpec,
               unmask: bool = False) -> tuple[Path, pl.DataFrame]:
    """Draw, store in the ledger, write OUT/抽查名单_<stage>_seed<seed>.xlsx: the visit list and
    the townships' weights."""
    risk = risk_of(ledger, spec.weights)
    households = ledger.households()
    sample = draw(households, risk, spec)
    params: dict[str, Any] = {"townships": spec.townships, "villages": spec.villages,
                              "households": spec.households, "weighted": spec.weighted}
    if spec.weighted:
        params["weights"] = spec.weights.params()
    ledger.record_sample(stage, spec.seed, params, sample)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"抽查名单_{stage}_seed{spec.seed}.xlsx"
    towns = "全部" if spec.townships is None else str(spec.townships)
    how = "按风险加权（configs/sampling.yaml）" if spec.weighted else "等概率"
    sub = (f"阶段：{stage}　随机种子：{spec.seed}　乡镇：{towns}　每乡镇村数：{spec.villages}　"
           f"每村户数：{spec.households}　{how}　抽样时间：{datetime.now():%Y-%m-%d %H:%M}"
           + ("" if unmask else "　电话、卡号已脱敏"))
    note = ("请逐户入户核实所列问题及台账中的整改状态，标为已整改、不属实的须现场核实；"
            "核实结果写明属实与否、整改是否到位及情况，走访人签字。")
    if households.get_column("address").is_null().all():
        note += "台账中无住址和电话：用本版 cardcheck check 以此台账重新核查后再抽样。"
    w = Writer(path)
    write_visit_list(w, visit_rows(sample, unmask), sub, note)
    drawn = sample.get_column("township").unique().implode()
    towns_df = townships_of(frame(households, risk, spec), spec).with_columns(
        pl.col("weight").round(1),
        pl.when(pl.col("township").is_in(drawn)).then(pl.lit("是")).otherwise(pl.lit("否"))
        .alias("drawn"))
    w.table(WEIGHTS_SHEET, towns_df, sub)
    w.close()
    return path, sample
