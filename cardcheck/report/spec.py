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
           "categories", "problems", "amount"),
    "t2": ("township", "village", "card_no", "branch", "holder_name", "holder_id",
           "beneficiaries", "persons", "funds", "months", "paid", "memo", "problems"),
    "t3": ("seq", "township", "village", "object", "name", "categories", "problems", "amount",
           "period", "owner", "deadline", "status"),
    "t4": ("seq", "county", "township", "village", "fund", "category", "evidence", "name",
           "id_number", "card_no", "persons", "amount", "stage", "basis", "owner", "measure",
           "deadline", "status", "recovered", "note", "finding_id", "rule", "severity",
           "household_id", "hub", "first_month", "last_month", "months"),
    "t5": ("township", "category", "found", "rectified", "in_progress", "open", "unfounded",
           "rate", "recovered", "accounts", "leads", "gone"),
    "rule": ("finding_id", "township", "village", "household_id", "name", "id_number",
             "card_no", "fund", "hub", "first_month", "last_month", "months", "amount",
             "evidence", "severity"),
}
REQUIRED = {"t4": ("finding_id", "status")}  # the round trip of 表4 needs these
DEFAULT_STATUSES = ("未整改", "整改中", "已整改", "不属实", "销号")
BAD_SHEET_CHARS = set("[]:*?/\\")


@dataclass(frozen=True)
class SheetSpec:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...] = ()

    def header(self, field_name: str) -> str:
        return dict(self.columns).get(field_name, field_name)


@dataclass(frozen=True)
class ReportSpec:
    county: str
    deadline_days: int
    statuses: tuple[str, ...]
    categories: dict[str, str]
    owners: dict[str, str]
    owner_fallback: str
    measures: dict[str, str]
    account_words: tuple[str, ...]
    lead_words: tuple[str, ...]
    sheets: dict[str, SheetSpec] = field(default_factory=dict)

    def category(self, code: str, name: str) -> str:
        return self.categories.get(code, name or code)

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
    return SheetSpec(name, title, tuple(columns))


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
        account_words=_texts(raw, "account_words", ("销户", "注销", "变更")),
        lead_words=_texts(raw, "lead_words", ("移交",)),
        sheets=sheets,
    )
