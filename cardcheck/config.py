"""Load and validate the YAML configuration: the defaults in configs/ merged with a user's file.

Every error names the file and the dotted key that is wrong, and says what was expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cardcheck import yamlsafe
from cardcheck.errors import ConfigError
from cardcheck.limits import Limits, validate_limits

DEFAULT_FILES = ("columns.yaml", "funds.yaml", "rules.yaml", "references.yaml", "tables.yaml",
                 "dates.yaml", "sampling.yaml", "limits.yaml", "precheck.yaml",
                 "explain.yaml")
LEVELS = ("household", "person")
SEVERITIES = ("high", "medium", "low", "warning")
MATCHES = ("person", "spouse", "household")  # whom a reference list's entry touches
SWITCHES = ("enabled", "severity")  # keys every rule has under rules.<code>, besides its settings


@dataclass(frozen=True)
class TableSpec:
    required: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    units: dict[str, str] = field(default_factory=dict)  # money column -> "fen" or "yuan"
    # coded columns: column -> canonical value -> the words and codes that mean it
    codes: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class FundSpec:
    name: str
    level: str
    variants: tuple[str, ...]
    memo: tuple[str, ...]
    deadline_day: int = 15
    one_off: bool = False
    family: str = ""  # funds a single memo may name together (城乡低保); defaults to the name


@dataclass(frozen=True)
class RefListSpec:
    kind: str
    code: str
    name: str
    severity: str
    window_from: str | None
    from_offset_months: int
    window_to: str | None
    excludes: tuple[str, ...]  # canonical fund names, or ("all",)
    standing: bool = True  # without its `from` column: used for the whole period (or not run)
    # whom an entry touches, per excluded fund (canonical name): person (the beneficiary), spouse
    # (the beneficiary or the other of the 户主/配偶 pair of their household), household (anyone
    # of the beneficiary's household on the roll); a fund not named is person
    match: dict[str, str] = field(default_factory=dict)
    detail: str | None = None  # the list's column an evidence line quotes (单位, 企业名称)

    def match_for(self, fund: str) -> str:
        return self.match.get(fund, "person")

    @property
    def wide(self) -> bool:
        """Some fund is touched by an entry of the beneficiary's spouse or household."""
        return any(m != "person" for m in self.match.values())


@dataclass(frozen=True)
class DateSpec:
    """How the cells of one date column are checked (configs/dates.yaml): a date is plausible
    from `earliest` to `years_ahead` years (of 366 days) after the day of the run; in an
    open-ended column (an end date) the `open_words` (长期, 至今, 无, — …) mean no date."""

    earliest: dt.date = dt.date(1900, 1, 1)
    years_ahead: int = 1
    open_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class DateSettings:
    default: DateSpec = field(default_factory=DateSpec)
    columns: dict[str, DateSpec] = field(default_factory=dict)  # "column" or "table.column"

    def spec(self, table: str, column: str) -> DateSpec:
        """The spec of `column` in `table`: `table.column`, else `column`, else the default
        (another region's roll is read as the roll)."""
        for key in (f"{table}.{column}", f"roll.{column}" if table == "other_roll" else "",
                    column):
            if key in self.columns:
                return self.columns[key]
        return self.default


@dataclass
class Config:
    tables: dict[str, TableSpec]
    funds: dict[str, FundSpec]
    generic_memos: tuple[str, ...]
    exclusive_pairs: tuple[tuple[str, str], ...]
    rules: dict[str, dict[str, Any]]
    lists: dict[str, RefListSpec]
    report: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)  # checked by cardcheck.ledger.sampling
    precheck: dict[str, Any] = field(default_factory=dict)  # checked by cardcheck.precheck.settings
    dates: DateSettings = field(default_factory=DateSettings)
    reversal_days: int = 31  # a negative payment nets a credit this many days around it
    sources: tuple[str, ...] = ()
    digest: str = ""
    layouts: dict[str, LayoutSpec] = field(default_factory=dict)  # bank text files
    limits: Limits = field(default_factory=Limits)  # input sizes the readers accept
    # `cardcheck explain`: rule code (or "default") -> what to verify on a visit
    checklists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def checklist(self, code: str) -> tuple[str, ...]:
        """What a visit verifies for a finding of rule `code` (explain.checklists), else the
        default list."""
        return self.checklists.get(code) or self.checklists.get("default", ())

    @property
    def household_funds(self) -> list[str]:
        return [f.name for f in self.funds.values() if f.level == "household"]

    @property
    def person_funds(self) -> list[str]:
        return [f.name for f in self.funds.values() if f.level == "person"]

    def rule_params(self, code: str) -> dict[str, Any]:
        """rules.<code>: its settings (configs/rules.yaml, a user's values over them) and
        switches (`enabled`, `severity`) as given."""
        return dict(self.rules.get(code, {}))

    def rule_settings(self, code: str) -> dict[str, Any]:
        """The settings of rule `code` without its switches: what the rule reads as ctx.params."""
        return {k: v for k, v in self.rules.get(code, {}).items() if k not in SWITCHES}


def _read_yaml(path: Path | Any, label: str) -> dict[str, Any]:
    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8"), label)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{label}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot be read ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping of keys at the top level")
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge extra into base; lists of aliases under tables.* are appended, others replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _merge_aliases(base: dict[str, Any], extra: dict[str, Any], label: str) -> dict[str, Any]:
    tables = dict(base)
    for kind, spec in extra.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{label}: tables.{kind}: expected a mapping")
        cur = dict(tables.get(kind, {"required": [], "columns": {}}))
        cols = {k: list(v) for k, v in cur.get("columns", {}).items()}
        for col, aliases in (spec.get("columns") or {}).items():
            if not isinstance(aliases, list):
                raise ConfigError(f"{label}: tables.{kind}.columns.{col}: expected a list of header names")
            cols[col] = cols.get(col, []) + [a for a in aliases if a not in cols.get(col, [])]
        cur["columns"] = cols
        if "required" in spec:
            cur["required"] = spec["required"]
        if "units" in spec:
            cur["units"] = {**(cur.get("units") or {}), **(spec["units"] or {})}
        if "codes" in spec:  # a user's codes replace the defaults of that column
            cur["codes"] = {**(cur.get("codes") or {}), **(spec["codes"] or {})}
        tables[kind] = cur
    return tables


def _expect(cond: object, label: str, key: str, what: str, got: Any) -> None:
    if not cond:
        raise ConfigError(f"{label}: {key}: expected {what}, got {got!r}")


def _str_list(value: Any, label: str, key: str) -> tuple[str, ...]:
    _expect(isinstance(value, list) and all(isinstance(v, str) and v for v in value),
            label, key, "a list of non-empty texts", value)
    return tuple(value)


def _reversal_days(raw: Any, label: str) -> int:
    _expect(isinstance(raw, dict), label, "reversals", "a mapping", raw)
    days = raw.get("window_days", 31)
    _expect(isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 366, label,
            "reversals.window_days", "a whole number of days from 0 to 366", days)
    return int(days)


class _Errors:
    """Every problem of a config, collected, so the user fixes them all in one round: each entry
    (a table, a fund, a rule, a list, a section) is checked on its own, and a failed one is left
    out of what the later checks see."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def check(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ConfigError as error:
            self.messages.append(str(error))
            return None

    def raise_any(self) -> None:
        if len(self.messages) == 1:
            raise ConfigError(self.messages[0])
        if self.messages:
            raise ConfigError(f"{len(self.messages)} problems in the configuration: "
                              + "；".join(self.messages))


def _table_spec(kind: str, spec: Any, label: str) -> TableSpec:
    _expect(isinstance(spec, dict), label, f"tables.{kind}", "a mapping", spec)
    cols = spec.get("columns") or {}
    _expect(isinstance(cols, dict) and cols, label, f"tables.{kind}.columns", "a mapping", cols)
    columns = {c: _str_list(a, label, f"tables.{kind}.columns.{c}") for c, a in cols.items()}
    required = _str_list(spec.get("required") or [], label, f"tables.{kind}.required") \
        if spec.get("required") else ()
    for col in required:
        _expect(col in columns, label, f"tables.{kind}.required", "names of its columns", col)
    units = spec.get("units") or {}
    _expect(isinstance(units, dict), label, f"tables.{kind}.units", "a mapping", units)
    for col, unit in units.items():
        _expect(col in columns, label, f"tables.{kind}.units", "names of its columns", col)
        _expect(unit in ("yuan", "fen"), label, f"tables.{kind}.units.{col}",
                "yuan or fen", unit)
    codes = spec.get("codes") or {}
    _expect(isinstance(codes, dict), label, f"tables.{kind}.codes", "a mapping", codes)
    coded: dict[str, dict[str, tuple[str, ...]]] = {}
    for col, table in codes.items():
        _expect(col.split(".", 1)[0] in columns, label, f"tables.{kind}.codes",
                "names of its columns (or column.header)", col)
        _expect(isinstance(table, dict) and table, label, f"tables.{kind}.codes.{col}",
                "a mapping of values to lists of codes", table)
        coded[col] = {str(v): _str_list([str(w) for w in words] if isinstance(words, list)
                                        else words, label, f"tables.{kind}.codes.{col}.{v}")
                      for v, words in table.items()}
    return TableSpec(required, columns, dict(units), coded)


def _fund_spec(name: str, spec: Any, label: str) -> FundSpec:
    key = f"funds.{name}"
    _expect(isinstance(spec, dict), label, key, "a mapping", spec)
    level = spec.get("level")
    _expect(level in LEVELS, label, f"{key}.level", f"one of {list(LEVELS)}", level)
    day = spec.get("deadline_day", 15)
    _expect(isinstance(day, int) and 1 <= day <= 31, label, f"{key}.deadline_day",
            "a day of the month 1–31", day)
    return FundSpec(
        name=name,
        level=level,
        variants=_str_list(spec.get("variants") or [name], label, f"{key}.variants"),
        memo=_str_list(spec.get("memo") or [name], label, f"{key}.memo"),
        deadline_day=day,
        one_off=bool(spec.get("one_off", False)),
        family=str(spec.get("family") or name),
    )


def _pair(i: int, pair: Any, funds: dict[str, FundSpec], label: str) -> tuple[str, str]:
    key = f"exclusive_pairs[{i}]"
    _expect(isinstance(pair, list) and len(pair) == 2, label, key, "a pair [fund, fund]", pair)
    for fund in pair:
        _expect(fund in funds, label, key, f"funds named under funds: {list(funds)}", fund)
    return pair[0], pair[1]


def _rule_params(code: str, params: Any, label: str) -> dict[str, Any]:
    params = params or {}
    _expect(isinstance(params, dict), label, f"rules.{code}", "a mapping of settings", params)
    if "severity" in params:
        _expect(params["severity"] in SEVERITIES, label, f"rules.{code}.severity",
                f"one of {list(SEVERITIES)}", params["severity"])
    return dict(params)


def _rule_setting(code: str, key: str, value: Any, shipped: dict[str, Any], label: str) -> None:
    """One setting of rules.<code> against configs/rules.yaml, which names each rule's settings
    and, by its default's type, what each takes (a whole number may stand for a decimal one)."""
    if key not in shipped:
        known = ", ".join(sorted(k for k in shipped if k not in SWITCHES)) or "none"
        raise ConfigError(f"{label}: rules.{code}.{key}: unknown setting (known: {known})")
    default = shipped[key]
    want = type(default)
    ok = isinstance(value, want) or (want is float and isinstance(value, int))
    _expect(ok and isinstance(value, bool) == isinstance(default, bool), label,
            f"rules.{code}.{key}", want.__name__, value)


def _rules(raw: Any, shipped: dict[str, Any], errors: _Errors, label: str
           ) -> dict[str, dict[str, Any]]:
    """`rules`, merged over configs/rules.yaml (`shipped`): each rule's entry, with every setting
    checked against the shipped one; an entry (or the whole section) given as null keeps the
    shipped settings."""
    if raw is not None and not isinstance(raw, dict):
        errors.check(_expect, False, label, "rules", "a mapping of rule codes to settings", raw)
        raw = None
    entries = {str(code): params for code, params in {**shipped, **(raw or {})}.items()}
    rules: dict[str, dict[str, Any]] = {}
    for code, params in entries.items():
        checked = errors.check(_rule_params, code, params, label)
        if checked is None:
            continue
        own = shipped.get(code) or {}
        before = len(errors.messages)
        for key, value in checked.items():
            if key not in SWITCHES:
                errors.check(_rule_setting, code, key, value, own, label)
        if len(errors.messages) == before:
            rules[code] = {**own, **checked}
    return rules


def _list_spec(kind: str, spec: Any, tables: dict[str, TableSpec], funds: dict[str, FundSpec],
               label: str) -> RefListSpec:
    key = f"lists.{kind}"
    _expect(isinstance(spec, dict), label, key, "a mapping", spec)
    for part in ("code", "name"):
        _expect(isinstance(spec.get(part), str) and spec.get(part), label, f"{key}.{part}",
                "a text", spec.get(part))
    severity = spec.get("severity", "high")
    _expect(severity in SEVERITIES, label, f"{key}.severity", f"one of {list(SEVERITIES)}", severity)
    window = spec.get("window") or {}
    _expect(isinstance(window, dict), label, f"{key}.window", "a mapping", window)
    offset = window.get("from_offset_months", 0)
    _expect(isinstance(offset, int), label, f"{key}.window.from_offset_months", "a whole number", offset)
    excludes = _str_list(spec.get("excludes") or ["all"], label, f"{key}.excludes")
    for fund in excludes:
        _expect(fund == "all" or fund in funds, label, f"{key}.excludes",
                f"'all' or funds named under funds: {list(funds)}", fund)
    _expect(kind in tables, label, key, "a list whose columns are declared under tables", kind)
    for side in ("from", "to"):
        bound = window.get(side)
        _expect(bound is None or bound in tables[kind].columns, label, f"{key}.window.{side}",
                f"null or a column of tables.{kind}: {list(tables[kind].columns)}", bound)
    standing = spec.get("standing", True)
    _expect(isinstance(standing, bool), label, f"{key}.standing", "true or false", standing)
    match = _list_match(spec.get("match", "person"), key, excludes, funds, label)
    detail = spec.get("detail")
    _expect(detail is None or (detail in tables[kind].columns and detail != "id_number"),
            label, f"{key}.detail", f"null or a column of tables.{kind}: "
            f"{[c for c in tables[kind].columns if c != 'id_number']}", detail)
    return RefListSpec(kind, spec["code"], spec["name"], severity, window.get("from"),
                       offset, window.get("to"), excludes, standing, match, detail)


def _report(report: Any, label: str, key: str = "report") -> dict[str, Any]:
    _expect(isinstance(report, dict), label, key, "a mapping", report)
    return dict(report)


def _explain(raw: Any, codes: set[str] | None, label: str) -> dict[str, tuple[str, ...]]:
    """`explain.checklists`: a list of texts per rule code (or `default`); `codes` the known
    rule codes (None: not checked)."""
    _expect(isinstance(raw, dict), label, "explain", "a mapping", raw)
    lists = raw.get("checklists") or {}
    _expect(isinstance(lists, dict), label, "explain.checklists",
            "a mapping of rule codes to lists of texts", lists)
    for key in raw:
        _expect(key == "checklists", label, f"explain.{key}", "the key checklists", key)
    out = {}
    for code, items in lists.items():
        key = f"explain.checklists.{code}"
        _expect(codes is None or str(code) in codes or code == "default", label, key,
                f"a rule code ({', '.join(sorted(codes or ()))}) or default", code)
        out[str(code)] = _str_list(items, label, key)
    return out


def _validate(raw: dict[str, Any], label: str, shipped_rules: dict[str, Any]) -> Config:
    """The config, or ConfigError naming every problem found (not only the first).
    `shipped_rules`: the `rules` of configs/rules.yaml, which declare every rule's settings."""
    known = {"tables", "funds", "generic_memos", "exclusive_pairs", "rules", "lists", "report",
             "dates", "reversals", "sampling", "precheck", "explain"}
    errors = _Errors()
    for key in raw:
        errors.check(_expect, key in known, label, key, f"one of the sections {sorted(known)}",
                     key)
    tables: dict[str, TableSpec] = {}
    for kind, spec in (raw.get("tables") or {}).items():
        table = errors.check(_table_spec, kind, spec, label)
        if table is not None:
            tables[kind] = table
    funds: dict[str, FundSpec] = {}
    for name, spec in (raw.get("funds") or {}).items():
        fund = errors.check(_fund_spec, name, spec, label)
        if fund is not None:
            funds[name] = fund
    if not funds and not errors.messages:
        errors.check(_expect, False, label, "funds", "at least one fund", raw.get("funds"))
    # what refers to funds or tables is checked only when those all passed (a bad fund would
    # otherwise be reported again by every pair and list naming it)
    funds_ok = len(funds) == len(raw.get("funds") or {})
    tables_ok = len(tables) == len(raw.get("tables") or {})
    pairs = [p for i, pair in enumerate(raw.get("exclusive_pairs") or [])
             if funds_ok and (p := errors.check(_pair, i, pair, funds, label)) is not None]
    rules = _rules(raw.get("rules"), shipped_rules, errors, label)
    lists: dict[str, RefListSpec] = {}
    for kind, spec in ((raw.get("lists") or {}) if funds_ok and tables_ok else {}).items():
        found = errors.check(_list_spec, kind, spec, tables, funds, label)
        if found is not None:
            lists[kind] = found
    # the codes a checklist may name; after an error above, any code (a rule or list that
    # failed, or was not checked, is no reason for a second error here)
    codes = None if errors.messages else set(rules) | {spec.code for spec in lists.values()}
    checklists = errors.check(_explain, raw.get("explain") or {}, codes, label) or {}
    report = errors.check(_report, raw.get("report") or {}, label) or {}
    sampling = errors.check(_report, raw.get("sampling") or {}, label, "sampling") or {}
    precheck = errors.check(_report, raw.get("precheck") or {}, label, "precheck") or {}
    dates = errors.check(_dates, raw.get("dates") or {}, tables, label) if tables_ok else None
    memos = errors.check(_str_list, raw.get("generic_memos") or ["代发"], label, "generic_memos")
    days = errors.check(_reversal_days, raw.get("reversals") or {}, label)
    errors.raise_any()
    assert dates is not None and memos is not None and days is not None  # else errors raised
    return Config(
        tables=tables,
        funds=funds,
        generic_memos=memos,
        exclusive_pairs=tuple(pairs),
        rules=rules,
        lists=lists,
        report=report,
        sampling=sampling,
        precheck=precheck,
        checklists=checklists,
        dates=dates,
        reversal_days=days,
    )


def _list_match(raw: Any, key: str, excludes: tuple[str, ...], funds: dict[str, FundSpec],
                label: str) -> dict[str, str]:
    """`lists.<kind>.match`: one of MATCHES for every fund the list excludes, or a mapping of
    funds (or fund families: 城乡低保) to one of them; a fund not named is `person`. `spouse` is
    for person-level funds: a household-level fund's beneficiary is the household."""
    covered = list(funds) if excludes == ("all",) else list(excludes)
    where = f"{key}.match"
    if isinstance(raw, str):
        _expect(raw in MATCHES, label, where,
                f"one of {list(MATCHES)}, or a mapping of funds to one of them", raw)
        given = {fund: (raw, where) for fund in covered}
    else:
        _expect(isinstance(raw, dict) and bool(raw), label, where,
                f"one of {list(MATCHES)}, or a mapping of funds to one of them", raw)
        given = {}
        families = [(n, m) for n, m in raw.items() if n not in funds]
        for name, mode in families + [(n, m) for n, m in raw.items() if n in funds]:
            at = f"{where}.{name}"
            _expect(mode in MATCHES, label, at, f"one of {list(MATCHES)}", mode)
            named = [name] if name in funds else [f for f, s in funds.items() if s.family == name]
            _expect(bool(named), label, at, "a fund or fund family named under funds: "
                    f"{list(funds)}", name)
            outside = [f for f in named if f not in covered]
            _expect(not outside, label, at, f"a fund the list excludes ({key}.excludes: "
                    f"{covered}; add it there or leave it out here)", name)
            given.update({fund: (mode, at) for fund in named})
    for fund, (mode, at) in given.items():
        _expect(mode != "spouse" or funds[fund].level != "household", label, at,
                f"person or household for the household-level fund {fund} (spouse is for "
                "person-level funds: a household fund's beneficiary is the household)", mode)
    return {fund: given.get(fund, ("person", ""))[0] for fund in covered}


def _years(value: Any, label: str, key: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 200,
            label, key, "a whole number of years 0–200", value)
    return int(value)


def _dates(raw: Any, tables: dict[str, TableSpec], label: str) -> DateSettings:
    """The `dates:` section (configs/dates.yaml)."""
    _expect(isinstance(raw, dict), label, "dates", "a mapping", raw)
    for key in raw:
        _expect(key in ("earliest", "max_years_ahead", "columns", "open_words"), label,
                f"dates.{key}", "one of earliest, max_years_ahead, columns, open_words", key)
    earliest = raw.get("earliest", "1900-01-01")
    if isinstance(earliest, str):
        try:
            earliest = dt.date.fromisoformat(earliest)
        except ValueError:
            pass
    _expect(isinstance(earliest, dt.date) and not isinstance(earliest, dt.datetime), label,
            "dates.earliest", "a date YYYY-MM-DD", raw.get("earliest"))
    years = _years(raw.get("max_years_ahead", 1), label, "dates.max_years_ahead")
    words = _str_list(raw["open_words"], label, "dates.open_words") if raw.get("open_words") \
        else ()
    default = DateSpec(earliest, years)
    columns: dict[str, DateSpec] = {}
    cols = raw.get("columns") or {}
    _expect(isinstance(cols, dict), label, "dates.columns", "a mapping", cols)
    for name, spec in cols.items():
        key = f"dates.columns.{name}"
        table, _, column = str(name).rpartition(".")
        known = [k for k, t in tables.items() if column in t.columns and table in ("", k)]
        _expect(bool(known), label, key, "a column (or table.column) declared under tables",
                name)
        _expect(isinstance(spec, dict), label, key, "a mapping", spec)
        for part in spec:
            _expect(part in ("max_years_ahead", "open_ended"), label, f"{key}.{part}",
                    "max_years_ahead or open_ended", part)
        open_ended = spec.get("open_ended", False)
        _expect(isinstance(open_ended, bool), label, f"{key}.open_ended", "true or false",
                open_ended)
        ahead = _years(spec.get("max_years_ahead", years), label, f"{key}.max_years_ahead")
        columns[str(name)] = DateSpec(earliest, ahead, words if open_ended else ())
    return DateSettings(default, columns)


def defaults_folder() -> Any:
    """configs/ beside the package in a checkout (the source tree this module was imported from,
    so a second checkout or worktree reads its own configs, not those an editable install points
    at), else as installed (package cardcheck.configs)."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "configs" / "columns.yaml").is_file():
        return root / "configs"
    try:
        return resources.files("cardcheck.configs")
    except ModuleNotFoundError:
        return root / "configs"


def _defaults() -> tuple[dict[str, Any], list[str]]:
    """The default files of configs/ merged, and their texts (for the digest)."""
    raw: dict[str, Any] = {}
    texts = []
    folder = defaults_folder()
    for name in DEFAULT_FILES:
        res = folder / name
        if res.is_file():
            part = _read_yaml(res, f"configs/{name}")
            texts.append(res.read_text(encoding="utf-8"))
            raw = _merge(raw, part)
    return raw, texts


def load_config(user_file: str | Path | None = None) -> Config:
    """Defaults from configs/, then the user's file on top; validated as a whole."""
    raw, texts = _defaults()
    if user_file is None:
        return _merged(raw, {}, "configs/", texts, ("configs/",))
    path = Path(user_file)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    label = str(path)
    user = _read_yaml(path, label)
    texts.append(path.read_text(encoding="utf-8"))
    return _merged(raw, user, label, texts, ("configs/", label))


def config_with(overrides: dict[str, Any], label: str = "overrides") -> Config:
    """The defaults of configs/ with `overrides` over them: what load_config gives for a user's
    file holding that mapping (merged and validated alike, errors named by `label`). For code
    that sets a few keys, such as a rule case's `config:`."""
    if not overrides:
        return load_config()
    raw, texts = _defaults()
    texts.append(yaml.safe_dump(overrides, allow_unicode=True, sort_keys=False))
    return _merged(raw, copy.deepcopy(overrides), label, texts, ("configs/", label))


def _merged(raw: dict[str, Any], user: dict[str, Any], label: str, texts: list[str],
            sources: tuple[str, ...]) -> Config:
    """The defaults `raw` with a user's mapping over them, validated (rule settings against the
    defaults' rules.yaml)."""
    shipped_rules = raw.get("rules") or {}
    if "tables" in user:
        if not isinstance(user["tables"], dict):
            raise ConfigError(f"{label}: tables: expected a mapping")
        raw["tables"] = _merge_aliases(raw.get("tables", {}), user.pop("tables"), label)
    raw = _merge(raw, user)
    layouts = raw.pop("layouts", None)  # a user's section, checked against the tables below
    limits = raw.pop("limits", None)
    config = _validate(raw, label, shipped_rules)
    config.layouts = validate_layouts(layouts, config.tables, label)
    config.limits = validate_limits(limits, label)
    config.sources = sources
    config.digest = hashlib.sha256("\n---\n".join(texts).encode()).hexdigest()
    return config


# ------------------------------------------------------------------ layouts (bank text files)

LAYOUT_KEYS = ("kind", "files", "encoding", "delimiter", "widths", "header", "skip", "columns",
               "units")
WIDTH_UNITS = ("chars", "bytes")


@dataclass(frozen=True)
class LayoutSpec:
    """How one kind of bank text file (报盘/回盘) is laid out: `layouts:` of a user's config,
    read by cardcheck/ingest/layout.py (docs/bank-layouts.md)."""

    name: str
    kind: str
    columns: tuple[str | None, ...]  # the canonical column of each field; None: not read
    widths: tuple[int, ...] = ()  # fixed width: each field's width (empty when delimited)
    delimiter: str | None = None
    width_unit: str = "chars"  # widths count characters after decoding, or the file's bytes
    files: tuple[str, ...] = ()  # globs on the file name; empty: any headerless text file
    encoding: str | None = None  # None: detected as for any text file
    header: bool = False  # a header line follows the batch header lines (it is skipped)
    skip_first: int = 0  # batch header lines
    skip_last: int = 0  # batch trailer lines
    units: dict[str, str] = field(default_factory=dict)  # money column -> "fen" or "yuan"
    source: str = ""  # the config file that declares it


def _count(value: Any, label: str, key: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool) and value >= 0, label, key,
            "a whole number 0 or more", value)
    return int(value)


def _layout_fields(spec: dict[str, Any], columns: dict[str, tuple[str, ...]], label: str,
                   key: str) -> tuple[tuple[str | None, ...], tuple[int, ...]]:
    """(column of each field, widths) from `columns:` (delimited) or `widths:` (fixed)."""
    example = "[[card_no, 19], [account_name, 20], [amount, 12]]"
    names: list[Any] = []
    widths: list[int] = []
    if "widths" in spec:
        items = spec["widths"]
        _expect(isinstance(items, list) and bool(items), label, f"{key}.widths",
                f"a list of [column, width] pairs, e.g. {example}", items)
        for i, item in enumerate(items):
            if isinstance(item, dict) and len(item) == 1:
                item = list(next(iter(item.items())))
            _expect(isinstance(item, list) and len(item) == 2, label, f"{key}.widths[{i}]",
                    f"a pair [column, width], e.g. {example}", item)
            width = item[1]
            _expect(isinstance(width, int) and not isinstance(width, bool) and width > 0, label,
                    f"{key}.widths[{i}]", "a width of 1 or more (characters, or bytes with "
                    "units: bytes)", width)
            names.append(item[0])
            widths.append(width)
        _expect("columns" not in spec, label, f"{key}.columns",
                "no columns beside widths (each pair of widths names its column)",
                spec.get("columns"))
        where = f"{key}.widths"
    else:
        given = spec.get("columns")
        _expect(isinstance(given, list) and bool(given), label, f"{key}.columns",
                "a list of canonical columns by position (null or \"\" for a field not read)",
                given)
        names = list(given or [])
        where = f"{key}.columns"
    out: list[str | None] = []
    for i, col in enumerate(names):
        if col is None or col == "":
            out.append(None)
            continue
        _expect(isinstance(col, str) and col in columns, label, f"{where}[{i}]",
                f"a column of the table {spec['kind']} ({', '.join(columns)}) or null", col)
        _expect(col not in out, label, f"{where}[{i}]", "each column once", col)
        out.append(col)
    _expect(any(out), label, where, "at least one column to read", names)
    return tuple(out), tuple(widths)


def _layout_units(value: Any, fixed: bool, columns: tuple[str | None, ...], label: str,
                  key: str) -> tuple[str, dict[str, str]]:
    """(width unit, money units): `units: bytes`, `units: {amount: fen}` or both in one
    mapping, `units: {widths: bytes, amount: fen}`."""
    if value is None:
        return "chars", {}
    if isinstance(value, str):
        value = {"widths": value}
    _expect(isinstance(value, dict), label, f"{key}.units",
            "bytes or chars (how widths count), or a mapping such as {amount: fen}", value)
    width_unit = value.get("widths", "chars")
    _expect(width_unit in WIDTH_UNITS, label, f"{key}.units.widths",
            "chars (characters after decoding) or bytes (bytes of the file)", width_unit)
    _expect(fixed or "widths" not in value, label, f"{key}.units.widths",
            "no width unit for a delimited layout (it has no widths)", width_unit)
    money: dict[str, str] = {}
    for col, unit in value.items():
        if col == "widths":
            continue
        _expect(col in columns, label, f"{key}.units",
                f"columns of this layout ({', '.join(c for c in columns if c)})", col)
        _expect(unit in ("yuan", "fen"), label, f"{key}.units.{col}", "yuan or fen", unit)
        money[col] = unit
    return width_unit, money


def _codec(name: str) -> bool:
    try:
        "".encode(name)
    except LookupError:
        return False
    return True


def validate_layouts(raw: Any, tables: dict[str, TableSpec], label: str
                     ) -> dict[str, LayoutSpec]:
    """The `layouts:` section of a user's config; ConfigError naming the file and the key."""
    if raw is None:
        return {}
    _expect(isinstance(raw, dict), label, "layouts", "a mapping of layout names to layouts", raw)
    kinds = [*tables, "other_roll"]
    out: dict[str, LayoutSpec] = {}
    for name, spec in raw.items():
        key = f"layouts.{name}"
        _expect(isinstance(spec, dict), label, key, "a mapping (kind, delimiter or widths, "
                "columns …)", spec)
        for part in spec:
            _expect(part in LAYOUT_KEYS, label, f"{key}.{part}",
                    f"one of {', '.join(LAYOUT_KEYS)}", part)
        kind = spec.get("kind")
        _expect(kind in kinds, label, f"{key}.kind", f"one of {', '.join(kinds)}", kind)
        table = tables["roll" if kind == "other_roll" else kind]
        delimiter = spec.get("delimiter")
        fixed = "widths" in spec
        _expect(fixed or "delimiter" in spec, label, key,
                'a delimiter (e.g. delimiter: "|") or fixed widths (widths: [[card_no, 19], …])',
                sorted(spec))
        _expect(not (fixed and "delimiter" in spec), label, key,
                "either delimiter or widths, not both", sorted(spec))
        if not fixed:
            _expect(isinstance(delimiter, str) and delimiter != "" and "\n" not in delimiter
                    and "\r" not in delimiter, label, f"{key}.delimiter",
                    'the text between fields, e.g. "|"', delimiter)
        columns, widths = _layout_fields(spec, table.columns, label, key)
        width_unit, money = _layout_units(spec.get("units"), fixed, columns, label, key)
        files = spec.get("files") or []
        globs = _str_list([files] if isinstance(files, str) else files, label,
                          f"{key}.files") if files else ()
        encoding = spec.get("encoding")
        if encoding is not None:
            _expect(isinstance(encoding, str) and _codec(encoding), label, f"{key}.encoding",
                    "an encoding name (gbk, gb18030, utf-8)", encoding)
            encoding = encoding.lower()
        header = spec.get("header", False)
        _expect(isinstance(header, bool), label, f"{key}.header",
                "true (a header line follows the batch header) or false", header)
        skip = spec.get("skip") or {}
        _expect(isinstance(skip, dict), label, f"{key}.skip",
                "a mapping {first: N, last: N} of batch header and trailer lines", skip)
        for part in skip:
            _expect(part in ("first", "last"), label, f"{key}.skip.{part}", "first or last",
                    part)
        out[str(name)] = LayoutSpec(
            name=str(name), kind=kind, columns=columns, widths=widths, delimiter=delimiter,
            width_unit=width_unit, files=globs, encoding=encoding, header=header,
            skip_first=_count(skip.get("first", 0), label, f"{key}.skip.first"),
            skip_last=_count(skip.get("last", 0), label, f"{key}.skip.last"),
            units=money, source=label)
    return out
