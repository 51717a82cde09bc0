"""Load and validate the YAML configuration: the defaults in configs/ merged with a user's file.

Every error names the file and the dotted key that is wrong, and says what was expected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cardcheck.errors import ConfigError

DEFAULT_FILES = ("columns.yaml", "funds.yaml", "rules.yaml", "references.yaml", "tables.yaml",
                 "dates.yaml")
LEVELS = ("household", "person")
SEVERITIES = ("high", "medium", "low", "warning")


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
    dates: DateSettings = field(default_factory=DateSettings)
    sources: tuple[str, ...] = ()
    digest: str = ""

    @property
    def household_funds(self) -> list[str]:
        return [f.name for f in self.funds.values() if f.level == "household"]

    @property
    def person_funds(self) -> list[str]:
        return [f.name for f in self.funds.values() if f.level == "person"]

    def rule_params(self, code: str) -> dict[str, Any]:
        return dict(self.rules.get(code, {}))


# libyaml's safe loader when PyYAML has it (the defaults load 8× faster), else the Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path | Any, label: str) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
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


def _expect(cond: bool, label: str, key: str, what: str, got: Any) -> None:
    if not cond:
        raise ConfigError(f"{label}: {key}: expected {what}, got {got!r}")


def _str_list(value: Any, label: str, key: str) -> tuple[str, ...]:
    _expect(isinstance(value, list) and all(isinstance(v, str) and v for v in value),
            label, key, "a list of non-empty texts", value)
    return tuple(value)


def _validate(raw: dict[str, Any], label: str) -> Config:
    known = {"tables", "funds", "generic_memos", "exclusive_pairs", "rules", "lists", "report",
             "dates"}
    for key in raw:
        _expect(key in known, label, key, f"one of the sections {sorted(known)}", key)

    tables: dict[str, TableSpec] = {}
    for kind, spec in (raw.get("tables") or {}).items():
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
            _expect(col in columns, label, f"tables.{kind}.codes", "names of its columns", col)
            _expect(isinstance(table, dict) and table, label, f"tables.{kind}.codes.{col}",
                    "a mapping of values to lists of codes", table)
            coded[col] = {str(v): _str_list([str(w) for w in words] if isinstance(words, list)
                                            else words, label, f"tables.{kind}.codes.{col}.{v}")
                          for v, words in table.items()}
        tables[kind] = TableSpec(required, columns, dict(units), coded)

    funds: dict[str, FundSpec] = {}
    for name, spec in (raw.get("funds") or {}).items():
        key = f"funds.{name}"
        _expect(isinstance(spec, dict), label, key, "a mapping", spec)
        level = spec.get("level")
        _expect(level in LEVELS, label, f"{key}.level", f"one of {list(LEVELS)}", level)
        day = spec.get("deadline_day", 15)
        _expect(isinstance(day, int) and 1 <= day <= 31, label, f"{key}.deadline_day",
                "a day of the month 1–31", day)
        funds[name] = FundSpec(
            name=name,
            level=level,
            variants=_str_list(spec.get("variants") or [name], label, f"{key}.variants"),
            memo=_str_list(spec.get("memo") or [name], label, f"{key}.memo"),
            deadline_day=day,
            one_off=bool(spec.get("one_off", False)),
            family=str(spec.get("family") or name),
        )
    _expect(bool(funds), label, "funds", "at least one fund", raw.get("funds"))

    pairs = []
    for i, pair in enumerate(raw.get("exclusive_pairs") or []):
        key = f"exclusive_pairs[{i}]"
        _expect(isinstance(pair, list) and len(pair) == 2, label, key, "a pair [fund, fund]", pair)
        for fund in pair:
            _expect(fund in funds, label, key, f"funds named under funds: {list(funds)}", fund)
        pairs.append((pair[0], pair[1]))

    rules: dict[str, dict[str, Any]] = {}
    for code, params in (raw.get("rules") or {}).items():
        params = params or {}
        _expect(isinstance(params, dict), label, f"rules.{code}", "a mapping of settings", params)
        if "severity" in params:
            _expect(params["severity"] in SEVERITIES, label, f"rules.{code}.severity",
                    f"one of {list(SEVERITIES)}", params["severity"])
        rules[str(code)] = params

    lists: dict[str, RefListSpec] = {}
    for kind, spec in (raw.get("lists") or {}).items():
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
            col = window.get(side)
            _expect(col is None or col in tables[kind].columns, label, f"{key}.window.{side}",
                    f"null or a column of tables.{kind}: {list(tables[kind].columns)}", col)
        lists[kind] = RefListSpec(kind, spec["code"], spec["name"], severity, window.get("from"),
                                  offset, window.get("to"), excludes)

    report = raw.get("report") or {}
    _expect(isinstance(report, dict), label, "report", "a mapping", report)
    dates = _dates(raw.get("dates") or {}, tables, label)
    return Config(
        tables=tables,
        funds=funds,
        generic_memos=_str_list(raw.get("generic_memos") or ["代发"], label, "generic_memos"),
        exclusive_pairs=tuple(pairs),
        rules=rules,
        lists=lists,
        report=report,
        dates=dates,
    )


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
    """configs/ as installed (package cardcheck.configs), or beside the package in a checkout
    (tests run from the repository import the source tree, where the mapping does not exist)."""
    try:
        return resources.files("cardcheck.configs")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "configs"


def load_config(user_file: str | Path | None = None) -> Config:
    """Defaults from configs/, then the user's file on top; validated as a whole."""
    raw: dict[str, Any] = {}
    texts = []
    folder = defaults_folder()
    for name in DEFAULT_FILES:
        res = folder / name
        if res.is_file():
            part = _read_yaml(res, f"configs/{name}")
            texts.append(res.read_text(encoding="utf-8"))
            raw = _merge(raw, part)
    sources = ["configs/"]
    label = "configs/"
    if user_file is not None:
        path = Path(user_file)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        label = str(path)
        user = _read_yaml(path, label)
        texts.append(path.read_text(encoding="utf-8"))
        if "tables" in user:
            if not isinstance(user["tables"], dict):
                raise ConfigError(f"{label}: tables: expected a mapping")
            raw["tables"] = _merge_aliases(raw.get("tables", {}), user.pop("tables"), label)
        raw = _merge(raw, user)
        sources.append(str(path))
    config = _validate(raw, label)
    config.sources = tuple(sources)
    config.digest = hashlib.sha256("\n---\n".join(texts).encode()).hexdigest()
    return config
