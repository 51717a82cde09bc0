"""The `report:` section of the config (configs/tables.yaml), validated: errors name the key.

Every table's columns are [field, header] pairs; the field is one cardcheck knows how to fill
(FIELDS below), the header is free text. A province can rename, reorder or drop columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cardcheck.config import Config
from cardcheck.errors import ConfigError

FIELDS: dict[str, tuple[str, ...]] = {
    "t1": ("township", "households", "persons", "cards", "funds", "payments", "paid",
           "categories", "problems", "rows", "amount"),
    "t2": ("seq", "township", "village", "card_no", "branch", "holder_name", "holder_id",
           "beneficiaries", "persons", "funds", "months", "paid", "memo", "problems"),
    "t3": ("seq", "township", "village", "object", "name", "categories", "problems", "amount",
           "period", "owner", "deadline", "status"),
    "t4": ("seq", "county", "township", "village", "fund", "category", "evidence", "name",
           "id_number", "card_no", "persons", "amount", "stage", "basis", "owner", "measure",
           "deadline", "status", "recovered", "note", "finding_id", "rule", "severity",
           "household_id", "hub", "first_month", "last_month", "months"),
    "t5": ("seq", "township", "category", "found", "rows", "rectified", "in_progress", "open",
           "unfounded", "rate", "due", "recovered", "accounts", "leads", "disciplined",
           "organised", "judicial", "systems", "gone"),
    "rule": ("seq", "finding_id", "township", "village", "household_id", "name", "id_number",
             "card_no", "fund", "hub", "first_month", "last_month", "months", "amount",
             "evidence", "severity"),
    # findings.xlsx (--findings-xlsx): findings.csv for Excel, every finding of the run
    "findings": ("finding_id", "rule", "rule_name", "severity", "region_code", "township",
                 "village", "household_id", "id_number", "name", "card_no", "fund", "hub",
                 "first_month", "last_month", "months", "amount", "evidence", "status"),
}
REQUIRED = {"t4": ("finding_id", "status")}  # the round trip of 表4 needs these
DEFAULT_STATUSES = ("未整改", "整改中", "已整改", "不属实", "销号")
BAD_SHEET_CHARS = set("[]:*?/\\")
# what one case (一个问题) of a rule is, for 表1 and 表5: findings of a rule with the same key
# are one case (C01's two cards of one person are one 一人多卡)
CASE_UNITS = ("person", "household", "card", "finding")
# the signature line under every table: (label, key of report.furniture)
SIGNERS = (("负责人", "head"), ("审核人", "reviewer"), ("填报人", "filler"), ("联系电话", "phone"))


@dataclass(frozen=True)
class SheetSpec:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...] = ()
    fill: tuple[str, ...] = ()  # fields a township fills in (coloured, unlocked; the rest locked)

    def header(self, field_name: str) -> str:
        return dict(self.columns).get(field_name, field_name)


@dataclass(frozen=True)
class Furniture:
    """The lines of an official table around its data: 填报单位（盖章） and 单位 above it, the
    signers and 填报日期 below it. Empty texts are lines to fill in by hand."""

    unit: str = "单位：元、户、人"
    reporter: str = ""  # 填报单位; empty: the roll's 填报单位 line, else the county + 民政局
    signers: tuple[tuple[str, str], ...] = tuple((label, "") for label, _ in SIGNERS)


@dataclass(frozen=True)
class ReportSpec:
    county: str
    deadline_days: int
    statuses: tuple[str, ...]
    categories: dict[str, str]
    owners: dict[str, str]
    owner_fallback: str
    measures: dict[str, str]
    sheets: dict[str, SheetSpec] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)  # region code -> name (柳林县)
    case_units: dict[str, str] = field(default_factory=dict)  # rule code -> CASE_UNITS
    recoverable: tuple[str, ...] = ()  # rules whose 涉及金额 is money to recover (表5 应追回)
    furniture: Furniture = field(default_factory=Furniture)

    def category(self, code: str, name: str) -> str:
        return self.categories.get(code, name or code)

    def case_unit(self, code: str) -> str:
        return self.case_units.get(code, "finding")

    @property
    def open_status(self) -> str:
        return self.statuses[0]

    @property
    def closed_status(self) -> str:
        """销号: rectified and confirmed closed (or gone from the data)."""
        return self.statuses[4]


def _err(key: str, what: str, got: Any) -> ConfigError:
    return ConfigError(f"report.{key}: expected {what}, got {got!r}")


def _text(raw: dict[str, Any], key: str, default: str, path: str) -> str:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _err(path, "a text", value)
    return value


def _texts(raw: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _err(key, "a list of non-empty texts", value)
    return tuple(value)


def _mapping(raw: dict[str, Any], key: str) -> dict[str, str]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise _err(key, "a mapping", value)
    for k, v in value.items():
        if not isinstance(v, str):
            raise _err(f"{key}.{k}", "a text", v)
    return {str(k): v for k, v in value.items()}


def _sheet(key: str, raw: Any) -> SheetSpec:
    if not isinstance(raw, dict):
        raise _err(f"sheets.{key}", "a mapping with name, title and columns", raw)
    name = _text(raw, "name", key, f"sheets.{key}.name")
    if len(name) > 28 or BAD_SHEET_CHARS & set(name):
        raise _err(f"sheets.{key}.name", "a sheet name of at most 28 characters without []:*?/\\",
                   name)
    title = _text(raw, "title", "", f"sheets.{key}.title")
    fill = raw.get("fill") or []
    if not isinstance(fill, list) or not all(f in FIELDS.get(key, ()) for f in fill):
        raise _err(f"sheets.{key}.fill", f"a list of fields among {list(FIELDS.get(key, ()))}",
                   fill)
    columns: list[tuple[str, str]] = []
    known = FIELDS.get(key, ())
    for i, col in enumerate(raw.get("columns") or []):
        where = f"sheets.{key}.columns[{i}]"
        if not (isinstance(col, list) and len(col) == 2 and all(isinstance(c, str) for c in col)):
            raise _err(where, "a pair [field, header]", col)
        if col[0] not in known:
            raise _err(where, f"a field among {list(known)}", col[0])
        columns.append((col[0], col[1]))
    if known and not columns:
        raise _err(f"sheets.{key}.columns", "at least one [field, header] pair", raw.get("columns"))
    for need in REQUIRED.get(key, ()):
        if need not in dict(columns):
            raise _err(f"sheets.{key}.columns", f"a column for {need!r} (the 表4 round trip needs it)",
                       [c[0] for c in columns])
    return SheetSpec(name, title, tuple(columns), tuple(fill))


def _furniture(raw: Any) -> Furniture:
    if raw is None:
        return Furniture()
    if not isinstance(raw, dict):
        raise _err("furniture", "a mapping (unit, reporter, head, reviewer, filler, phone)", raw)
    for key, value in raw.items():
        if key not in {"unit", "reporter", *(k for _, k in SIGNERS)}:
            raise _err(f"furniture.{key}", "one of unit, reporter, head, reviewer, filler, phone",
                       key)
        if not isinstance(value, str):
            raise _err(f"furniture.{key}", "a text", value)
    return Furniture(unit=raw.get("unit", Furniture.unit), reporter=raw.get("reporter", ""),
                     signers=tuple((label, raw.get(key, "")) for label, key in SIGNERS))


def _units(raw: dict[str, Any]) -> dict[str, str]:
    units = _mapping(raw, "case_units")
    for code, unit in units.items():
        if unit not in CASE_UNITS:
            raise _err(f"case_units.{code}", f"one of {list(CASE_UNITS)}", unit)
    return units


def report_spec(config: Config) -> ReportSpec:
    """The validated report settings of `config` (defaults from configs/tables.yaml)."""
    raw = config.report or {}
    days = raw.get("deadline_days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise _err("deadline_days", "a whole number of days ≥ 0", days)
    statuses = _texts(raw, "statuses", DEFAULT_STATUSES)
    if len(statuses) == 4 and DEFAULT_STATUSES[4] not in statuses:
        statuses = (*statuses, DEFAULT_STATUSES[4])  # a config from before 销号
    if len(statuses) != 5 or len(set(statuses)) != 5:
        raise _err("statuses", "four different texts: new, in progress, rectified, unfounded "
                   "(and a fifth, closed: 销号)", list(statuses))
    sheets_raw = raw.get("sheets") or {}
    if not isinstance(sheets_raw, dict):
        raise _err("sheets", "a mapping", sheets_raw)
    for key in sheets_raw:
        if key not in FIELDS and key != "summary":
            raise _err(f"sheets.{key}", f"one of {['summary', *FIELDS]}", key)
    missing = [k for k in ("summary", *FIELDS) if k not in sheets_raw]
    if missing:
        raise _err("sheets", f"entries for {missing}", sorted(sheets_raw))
    sheets = {key: _sheet(key, value) for key, value in sheets_raw.items()}
    names = [s.name for k, s in sheets.items() if k != "rule"]
    if len(set(names)) != len(names):
        raise _err("sheets", "different sheet names", names)
    return ReportSpec(
        county=_text(raw, "county", "", "county"),
        deadline_days=days,
        statuses=statuses,
        categories=_mapping(raw, "categories"),
        owners=_mapping(raw, "owners"),
        owner_fallback=_text(raw, "owner_fallback", "县民政局", "owner_fallback"),
        measures=_mapping(raw, "measures"),
        sheets=sheets,
        regions={str(k): v for k, v in _mapping(raw, "regions").items()},
        case_units=_units(raw),
        recoverable=_texts(raw, "recoverable", ()) if raw.get("recoverable") else (),
        furniture=_furniture(raw.get("furniture")),
    )
