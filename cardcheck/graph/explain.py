"""One finding explained for an inspector: beside its evidence graph (graph/tree.py), the facts a
visit checks, the finding's place in the campaign ledger and what to verify.

- 对象: who and where, the roll rows of the person (fund, monthly amount, dates, card, phone);
- per rule: for E08 the official (post, where he serves, whether the roll has him in the
  household, whether he handled the case) and the 近亲属备案 rows; for the card rules the bank's
  account row, which phone is the bank's 预留手机号 and which the roll's, and which of them is the
  hub; for E01–E05 the reference list's row, for E07 the other region's roll row, for P01–P06
  the payments of the months concerned;
- 台账: status, owner, measure, money recovered, and the history of every change;
- 走访核实清单: configs/explain.yaml's list for the rule.

Each section is plain text (a title and lines with lines under them), every ID, card and phone
number masked unless `unmask` (cardcheck/masking.py); tree.explain_view renders them. Only the
few rows a finding touches are looked at: frames are filtered whole, never walked row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cardcheck.config import Config
from cardcheck.graph.hubs import hub_label
from cardcheck.masking import mask_text_value, mask_value
from cardcheck.model import MONEY_COLUMNS
from cardcheck.report.tables import TABLE_NAMES

Frames = dict[str, pl.DataFrame]
SEVERITY = {"high": "高", "medium": "中", "low": "低", "warning": "提示"}
NO_VALUE = "未填"
MAX_ROWS = 8  # payments, roll rows, history lines shown before "… 共 N 条"
# columns of a reference list that are not shown as its facts
LIST_SKIP = ("source_file", "source_line", "id_number", "id_status", "name", "name_key")
HISTORY_FIELDS = {"status": "状态", "measure": "整改措施", "recovered": "追回金额",
                  "owner": "责任单位", "deadline": "整改期限", "note": "备注",
                  "evidence": "证据"}


@dataclass
class Line:
    text: str
    under: list[Line] = field(default_factory=list)


@dataclass
class Section:
    title: str
    lines: list[Line]


@dataclass
class LedgerView:
    """A finding's row of the ledger (Ledger.state) and its history, or why there is none."""

    path: Path
    state: dict[str, Any] | None = None
    history: pl.DataFrame | None = None
    runs: dict[int, str] = field(default_factory=dict)  # run_id -> stage
    missing: str = ""  # why there is no state: no ledger, or the finding is not in it


class Show:
    """Values as the terminal may show them: masked unless `unmask`."""

    def __init__(self, unmask: bool = False) -> None:
        self.unmask = unmask

    def id(self, value: object) -> str:
        return self._as("id", value)

    def card(self, value: object) -> str:
        return self._as("card", value)

    def phone(self, value: object) -> str:
        return self._as("phone", value)

    def text(self, value: object) -> str:
        text = "" if value is None else str(value)
        return text if self.unmask else mask_text_value(text)

    def _as(self, form: str, value: object) -> str:
        text = "" if value is None else str(value)
        return text if self.unmask or not text else mask_value(form, text)


def yuan(fen: object) -> str:
    """Fen as 元 with two decimals and thousands separated (12,345.67)."""
    value = int(fen or 0)  # type: ignore[call-overload]
    sign, value = ("-", -value) if value < 0 else ("", value)
    return f"{sign}{value // 100:,}.{value % 100:02d}"


def month(yyyymm: object) -> str:
    value = int(yyyymm)  # type: ignore[call-overload]
    return f"{value // 100}-{value % 100:02d}"


def where(row: dict[str, Any]) -> str:
    """The file and line a loaded row came from: 救助对象名册.csv 第 12 行."""
    name = Path(str(row.get("source_file") or "")).name
    line = row.get("source_line")
    return f"{name} 第 {line} 行" if name and line is not None else name or "来源不详"


def digits(phone: object) -> str:
    """A phone as the rules and the graph compare it: digits only, without the 86 prefix."""
    text = "".join(ch for ch in str(phone or "") if ch.isdigit())
    return text[2:] if len(text) == 13 and text.startswith("86") else text


def _rows(frames: Frames, table: str, cond: pl.Expr, limit: int | None = None) -> list[dict[str, Any]]:
    df = frames.get(table)
    if df is None or df.is_empty():
        return []
    hit = df.filter(cond)
    return hit.head(limit).to_dicts() if limit else hit.to_dicts()


def _eq(col: str, value: object) -> pl.Expr:
    return (pl.col(col) == str(value)).fill_null(False) if value not in (None, "") else pl.lit(False)


# ---------------------------------------------------------------- header and 对象


def header(row: dict[str, Any], show: Show) -> list[str]:
    """The finding's title, its evidence and the hub, as lines."""
    severity = SEVERITY.get(str(row.get("severity") or ""), str(row.get("severity") or ""))
    amount = f"　涉及 {yuan(row['amount'])} 元" if row.get("amount") is not None else ""
    title = (f"{row['rule']} {row.get('rule_name') or ''}［{severity}］　问题编号 "
             f"{row['finding_id']}{amount}")
    lines = [title, f"证据：{show.text(row.get('evidence') or '')}"]
    if row.get("hub"):
        lines.append(f"关联标识：{hub_label(row['hub'], show.unmask)}")
    return lines


def subject(row: dict[str, Any], frames: Frames, show: Show) -> Section:
    """Who and where, and the person's roll rows."""
    who = " ".join(p for p in (row.get("name") or "", show.id(row.get("id_number"))) if p)
    place = "".join(row.get(c) or "" for c in ("township", "village"))
    parts = [who or "（名册中无此人）"]
    if row.get("household_id"):
        parts.append(f"户号 {row['household_id']}")
    if place:
        parts.append(place)
    if row.get("fund"):
        parts.append(str(row["fund"]))
    if row.get("first_month"):
        span = month(row["first_month"])
        if row.get("last_month") and row["last_month"] != row["first_month"]:
            span += f" 至 {month(row['last_month'])}"
        parts.append(span + (f"（{row['months']} 个月）" if row.get("months") else ""))
    lines = [Line("，".join(parts))]
    if row.get("id_number"):
        cond = _eq("id_number", row["id_number"])
    elif row.get("card_no"):
        cond = _eq("card_no", row["card_no"])
    else:
        cond = pl.lit(False)
    found = _rows(frames, "roll", cond)
    for entry in found[:MAX_ROWS]:
        lines.append(Line(f"名册（{where(entry)}）：{roll_facts(entry, show)}"))
    if len(found) > MAX_ROWS:
        lines.append(Line(f"… 名册中共 {len(found)} 行"))
    if not found and (row.get("id_number") or row.get("card_no")):
        lines.append(Line("名册中没有这个人或这张卡"))
    return Section("对象", lines)


def roll_facts(entry: dict[str, Any], show: Show) -> str:
    parts = [f"户号 {entry.get('household_id') or NO_VALUE}",
             f"与户主关系 {entry.get('relation') or NO_VALUE}"]
    if entry.get("fund"):
        parts.append(f"{entry['fund']} 月保障 {yuan(entry.get('monthly_amount'))} 元")
    if entry.get("start_date") or entry.get("end_date"):
        parts.append(f"{entry.get('start_date') or '?'} 至 {entry.get('end_date') or '今'}")
    parts.append(f"卡号 {show.card(entry.get('card_no')) or NO_VALUE}")
    parts.append(f"联系电话 {show.phone(entry.get('phone')) or NO_VALUE}")
    if entry.get("payee_name") or entry.get("payee_id"):
        parts.append(f"代领人 {entry.get('payee_name') or ''} {show.id(entry.get('payee_id'))}"
                     .rstrip())
    return "，".join(parts)


# ---------------------------------------------------------------- E08


def official(row: dict[str, Any], frames: Frames, show: Show) -> list[Section]:
    """E08's official: post, where he serves, his household on the roll, whether he handled
    the case; and the 近亲属备案 rows for him and this person."""
    hub = str(row.get("hub") or "")
    if not hub.startswith("official:"):
        return []
    oid = hub.split(":", 1)[1]
    found = _rows(frames, "officials", _eq("id_number", oid))
    if not found:
        lines = [Line(f"经办人员名单中没有身份证号 {show.id(oid)}")]
        return [Section("干部或经办人员", lines), filing(row, oid, "", frames, show)]
    off = found[0]
    name = off.get("name") or ""
    head = Line(f"{off.get('position') or '（职务未填）'} {name} {show.id(oid)}（{where(off)}）")
    head.under.append(Line(f"任职地区：{off.get('region') or NO_VALUE}{_place(off, row)}"))
    head.under.append(Line(_household(off, oid, row, frames)))
    head.under.append(Line(handled(off, oid, row, frames, show)))
    return [Section("干部或经办人员", [head]), filing(row, oid, name, frames, show)]


def _place(off: dict[str, Any], row: dict[str, Any]) -> str:
    region = str(off.get("region") or "")
    village, township = row.get("village") or "", row.get("township") or ""
    if not region:
        return ""
    if village and village in region:
        return f"（即本户所在的{village}）"
    if township and township in region:
        return f"（本户所在乡镇，非本户所在的{village or '村'}）"
    return f"（本户在{township}{village}，不在其任职地区）" if township or village else ""


def _household(off: dict[str, Any], oid: str, row: dict[str, Any], frames: Frames) -> str:
    """Whether the roll has the official in the finding's household: 同户 only when it does."""
    household = row.get("household_id") or ""
    if oid == row.get("id_number"):
        return "与本案对象的关系：本人即本案对象"
    mine = _rows(frames, "roll", _eq("id_number", oid), limit=1)
    members = len({m.get("id_number") for m in _rows(frames, "roll", _eq("household_id", household))})
    if mine and mine[0].get("household_id") == household:
        return (f"是否同户：是，名册本户成员中有其本人（与户主关系 "
                f"{mine[0].get('relation') or NO_VALUE}，{where(mine[0])}）")
    listed = off.get("household_id") or ""
    text = (f"是否同户：待核实，经办人员名单登记其户编号 {listed}，即本户户号；名册本户成员 "
            f"{members} 人中无其本人" if listed and listed == household else
            f"是否同户：否，经办人员名单登记其户编号 {listed or NO_VALUE}")
    if mine:
        text += f"；名册上其本人在另一户（户号 {mine[0].get('household_id') or NO_VALUE}）"
    elif not (listed and listed == household):
        text += "；名册上无其本人"
    return text


def handled(off: dict[str, Any], oid: str, row: dict[str, Any], frames: Frames,
            show: Show) -> str:
    """Whether the official handled the case: opened a card of the household as its agent, is
    the household's registered payee, or serves in its village (where 评议 passes him)."""
    household = row.get("household_id") or ""
    cards = {r.get("card_no") for r in _rows(frames, "roll", _eq("household_id", household))}
    cards.discard(None)
    if row.get("card_no"):
        cards.add(row["card_no"])
    facts = []
    acct = frames.get("accounts")
    if cards and acct is not None and not acct.is_empty():
        opened = acct.filter(_eq("agent_id", oid) & pl.col("card_no").is_in(sorted(cards)))
        for r in opened.head(3).to_dicts():
            facts.append(f"代办了本户卡 {show.card(r['card_no'])} 的开户（{where(r)}）")
    for r in _rows(frames, "roll", _eq("household_id", household) & _eq("payee_id", oid), 3):
        facts.append(f"是名册登记的本户代领人（{where(r)}）")
    if facts:
        return "是否经办本案：是，" + "；".join(facts)
    region = str(off.get("region") or "")
    village, township = row.get("village") or "", row.get("township") or ""
    none = "未见其代办开户或代领"
    if village and village in region:
        return (f"是否经办本案：可能，任职于本户所在的{village}，本村的申请和民主评议一般经其手；"
                f"{none}，需走访核实")
    if township and township in region:
        return f"是否经办本案：待核实，任职于本乡镇，非本户所在村；{none}"
    if region:
        return f"是否经办本案：未见，任职地区与本户不同；{none}"
    return f"是否经办本案：待核实，名单未写任职地区；{none}"


def filing(row: dict[str, Any], oid: str, name: str, frames: Frames, show: Show) -> Section:
    """The 近亲属备案 rows for this official and this person (or that there are none)."""
    rel = frames.get("relatives")
    if rel is None:
        return Section("近亲属备案", [Line("本次核查未提供近亲属备案名单（--ref relatives=文件）")])
    person = row.get("id_number")
    hits = _rows(frames, "relatives", _eq("official_id", oid) & _eq("relative_id", person))
    lines = []
    for r in hits[:MAX_ROWS]:
        filed = {True: "是", False: "否"}.get(r.get("filed"), "未填")  # type: ignore[arg-type]
        lines.append(Line(
            f"{where(r)}：干部 {r.get('official_name') or name} {show.id(oid)}，亲属 "
            f"{r.get('relative_name') or row.get('name') or ''} {show.id(person)}，关系 "
            f"{r.get('relation') or NO_VALUE}，是否备案 {filed}"))
    if not hits:
        others = rel.filter(_eq("official_id", oid)).height
        files = sorted({Path(str(f)).name for f in rel.get_column("source_file").drop_nulls()
                        .unique().to_list()}) if "source_file" in rel.columns else []
        lines.append(Line(f"{'、'.join(files) or '近亲属备案名单'}中没有{name or '该干部'}与"
                          f"{row.get('name') or '本案对象'}的备案行（该干部名下备案 {others} 行）"))
    return Section("近亲属备案", lines)


# ---------------------------------------------------------------- card rules: the account


def account(row: dict[str, Any], frames: Frames, show: Show) -> list[Section]:
    """The bank's account row of the finding's card, the roll's phone beside the bank's
    预留手机号, and which of them (or which field) the hub is."""
    card = row.get("card_no")
    rule = str(row.get("rule") or "")
    if not card or not (rule.startswith("C") or rule == "E09"):
        return []
    hub_kind, _, hub_val = str(row.get("hub") or "").partition(":")
    found = _rows(frames, "accounts", _eq("card_no", card), limit=1)
    lines = []
    if not found:
        lines.append(Line(f"账户信息中没有卡 {show.card(card)}"))
    else:
        a = found[0]
        mark = "（＝关联标识）"
        head = Line(f"卡 {show.card(card)}（{where(a)}）")
        holder = f"开户人：{a.get('holder_name') or NO_VALUE} {show.id(a.get('holder_id'))}".rstrip()
        head.under.append(Line(holder + (mark if hub_kind == "holder" and hub_val == a.get("holder_id") else "")))
        if a.get("agent_name") or a.get("agent_id"):
            agent = f"代办人：{a.get('agent_name') or ''} {show.id(a.get('agent_id'))}".strip()
            head.under.append(Line(agent + (mark if hub_kind == "agent" and hub_val == a.get("agent_id") else "")))
        bank = digits(a.get("phone"))
        head.under.append(Line(
            f"银行预留手机号（银行发短信验证码的号码）：{show.phone(bank) or NO_VALUE}"
            + (mark if hub_kind == "phone" and bank == hub_val else "")))
        if a.get("address"):
            head.under.append(Line(f"开户登记地址：{show.text(a['address'])}"
                                   + (mark if hub_kind == "address" and hub_val == a["address"] else "")))
        opened = "，".join(p for p in (f"开户日期 {a['open_date']}" if a.get("open_date") else "",
                                      f"开户网点 {a['branch']}" if a.get("branch") else "") if p)
        if opened:
            head.under.append(Line(opened))
        lines.append(head)
    lines.extend(_roll_phones(row, frames, show, hub_kind, hub_val, found))
    return [Section("银行账户与手机号", lines)]


def _roll_phones(row: dict[str, Any], frames: Frames, show: Show, hub_kind: str, hub_val: str,
                 account_rows: list[dict[str, Any]]) -> list[Line]:
    card = row.get("card_no")
    cond = _eq("card_no", card) | _eq("id_number", row.get("id_number"))
    entries = [e for e in _rows(frames, "roll", cond) if e.get("phone")]
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        seen.setdefault(digits(e["phone"]), e)
    lines = [Line(f"名册联系电话：{show.phone(p)}（{e.get('name') or ''}，{where(e)}）"
                  + ("（＝关联标识）" if hub_kind == "phone" and p == hub_val else ""))
             for p, e in list(seen.items())[:3]]
    if not lines:
        lines.append(Line("名册联系电话：名册未登记"))
    if hub_kind == "phone":
        bank = digits(account_rows[0].get("phone")) if account_rows else ""
        sources = [w for w, hit in (("本卡的银行预留手机号", bank == hub_val),
                                    ("名册登记的联系电话", hub_val in seen)) if hit]
        lines.append(Line(f"关联手机号 {show.phone(hub_val)} 是"
                          + ("，也是".join(sources) if sources else "本户以外的号码")))
    return lines


# ---------------------------------------------------------------- E01–E07, P01–P06


def listed(row: dict[str, Any], frames: Frames, config: Config, show: Show) -> list[Section]:
    """The reference list's rows (E01–E05 and a province's own lists) for the person, or for
    the members of the household when the list touches the household; E07's other roll."""
    rule = row.get("rule")
    if rule == "E07":
        found = _rows(frames, "other_roll", _eq("id_number", row.get("id_number")))
        lines = [Line(f"{e.get('source_region') or '外地'}（{where(e)}）：{roll_facts(e, show)}")
                 for e in found[:MAX_ROWS]]
        return [Section("外地名册", lines or [Line("外地名册中没有找到此人")])]
    spec = next((s for s in config.lists.values() if s.code == rule), None)
    if spec is None:
        return []
    title = TABLE_NAMES.get(spec.kind, spec.name)
    ids = {row.get("id_number")} - {None, ""}
    if spec.wide and row.get("household_id"):
        ids |= {r.get("id_number") for r in _rows(frames, "roll", _eq("household_id",
                                                                       row["household_id"]))}
    ids.discard(None)
    table = frames.get(spec.kind)
    if table is None or not ids:
        return [Section(title, [Line("本次核查的名单中没有此人")])]
    hits = table.filter(pl.col("id_number").is_in(sorted(ids))).head(MAX_ROWS).to_dicts()
    headers = config.tables[spec.kind].columns if spec.kind in config.tables else {}
    lines = []
    for h in hits:
        facts = [f"{(headers.get(c) or (c,))[0]} {yuan(v) + ' 元' if c in MONEY_COLUMNS else show.text(v)}"
                 for c, v in h.items() if c not in LIST_SKIP and not c.endswith("_key")
                 and v not in (None, "")]
        lines.append(Line(f"{h.get('name') or ''} {show.id(h.get('id_number'))}（{where(h)}）："
                          + ("，".join(facts) or "名单上有此人")))
    return [Section(title, lines or [Line("名单中没有此人或其家庭成员")])]


def payments(row: dict[str, Any], frames: Frames, show: Show) -> list[Section]:
    """P01–P06: the card's payments in the months of the finding."""
    if not str(row.get("rule", "")).startswith("P"):
        return []
    card = row.get("card_no")
    cond = _eq("card_no", card)
    if row.get("first_month") and row.get("last_month"):
        cond = cond & pl.col("pay_month").is_between(int(row["first_month"]),
                                                     int(row["last_month"]))
    df = frames.get("payments")
    if df is None or df.is_empty() or not card:
        return [Section("代发明细", [Line("本次核查没有这张卡的代发明细")])]
    hit = df.filter(cond).sort("pay_date", "source_line")
    lines = [Line(f"{p.get('pay_date')}　{yuan(p.get('amount'))} 元　摘要 "
                  f"{show.text(p.get('memo')) or '（空）'}（{where(p)}）")
             for p in hit.head(MAX_ROWS).to_dicts()]
    if hit.height > MAX_ROWS:
        lines.append(Line(f"… 共 {hit.height} 笔，{yuan(hit.get_column('amount').sum())} 元"))
    span = "所涉月份" if row.get("first_month") else "期内"
    return [Section("代发明细", lines or [Line(f"{span}本卡没有代发记录")])]


# ---------------------------------------------------------------- ledger and checklist


def ledger_section(view: LedgerView, show: Show) -> Section:
    if view.state is None:
        return Section(f"台账（{view.path}）", [Line(view.missing)])
    s = view.state
    where_now = "仍在数据中" if s.get("present") else \
        f"数据中已不存在（{_at(s.get('gone_since'))} 起）"
    status = f"状态：{s.get('status') or NO_VALUE}"
    if s.get("suppressed"):
        status += "（已核实不属实，证据不变时不再列出）"
    lines = [Line(status),
             Line(f"发现：{s.get('stage_found') or ''}（{_at(s.get('first_seen'))}），最近一次："
                  f"{s.get('last_stage') or ''}（{_at(s.get('last_seen'))}），{where_now}"),
             Line(f"责任单位：{s.get('owner') or NO_VALUE}；整改期限：{s.get('deadline') or NO_VALUE}；"
                  f"追回金额：{yuan(s.get('recovered'))} 元"),
             Line(f"整改措施：{show.text(s.get('measure')) or NO_VALUE}")]
    if s.get("note"):
        lines.append(Line(f"备注：{show.text(s['note'])}"))
    history = view.history
    if history is not None and history.height:
        shown = history.tail(MAX_ROWS)
        title = f"变更记录（共 {history.height} 条" + (
            f"，最近 {MAX_ROWS} 条）" if history.height > MAX_ROWS else "）")
        lines.append(Line(title, [Line(change(h, view.runs, show))
                                  for h in shown.to_dicts()]))
    return Section(f"台账（{view.path}）", lines)


def change(h: dict[str, Any], runs: dict[int, str], show: Show) -> str:
    """One history row in words: 2026-03-01 10:00 第 2 次核查（全面检查）：状态 未整改 → 已整改."""
    source = str(h.get("source") or "")
    if source == "run":
        run = h.get("run_id")
        who = f"第 {run} 次核查" + (f"（{runs[run]}）" if run in runs else "")
    elif source.startswith("import "):
        who = f"导入 {source[7:]}"
    else:
        who = source or "修改"
    field_, old, new = str(h.get("field") or ""), h.get("old"), h.get("new")
    if field_ == "found":
        what = f"首次发现（{new or ''}）"
    elif field_ == "present":
        what = "数据中已不存在" if new == "gone" else "数据中再次出现"
    elif field_ == "recovered":
        what = f"追回金额 {yuan(old)} → {yuan(new)} 元"
    elif field_ == "evidence":
        what = "证据有变化"
    else:
        word = HISTORY_FIELDS.get(field_, field_)
        what = f"{word} {show.text(old) or '（空）'} → {show.text(new) or '（空）'}"
    return f"{_at(h.get('at'))} {who}：{what}"


def _at(stamp: object) -> str:
    """2026-12-04T03:17:50 as 2026-12-04 03:17."""
    text = str(stamp or "")
    return text[:16].replace("T", " ") if text else "时间不详"


def checklist(row: dict[str, Any], config: Config) -> Section:
    items = config.checklist(str(row.get("rule") or ""))
    return Section("走访核实清单（configs/explain.yaml）",
                   [Line(f"□ {i}. {text}") for i, text in enumerate(items, start=1)]
                   or [Line("（本规则没有核实清单）")])


def sections(row: dict[str, Any], frames: Frames, config: Config, view: LedgerView,
             unmask: bool = False) -> tuple[list[str], list[Section], Section, Section]:
    """(header lines, the facts sections, the ledger section, the checklist) of a finding."""
    show = Show(unmask)
    facts = [subject(row, frames, show), *official(row, frames, show),
             *account(row, frames, show), *listed(row, frames, config, show),
             *payments(row, frames, show)]
    return header(row, show), facts, ledger_section(view, show), checklist(row, config)
