"""What a rule is, the findings schema every rule returns, and helpers rules share.

A rule is one small unit: a fixed code (C01 …, never reused), a Chinese name, a severity, the
canonical tables and columns it needs, and a pure function from narwhals LazyFrames to a findings
LazyFrame. Its settings and their defaults are in configs/rules.yaml under its code, the one place
they are declared; the rule reads them from ctx.params.
Rules never call an engine directly, so the same catalogue runs on polars, DuckDB and Spark.

Writing rules that agree on every engine:
- filter nulls before `n_unique()` and before joins on keys that may be null;
- compare names through their `*_key` columns, never the raw names;
- cast sums to Int64 (DuckDB returns decimals);
- build evidence text with `nw.concat_str` and the helpers below; it never holds a raw ID or
  card number (use `mask_id`/`mask_card` of cardcheck/masking.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import narwhals.stable.v2 as nw

from cardcheck.config import Config
from cardcheck.model import FINDINGS, ID_USABLE

NW_TYPES = {"String": nw.String(), "Int32": nw.Int32(), "Int64": nw.Int64(), "Boolean": nw.Boolean()}
FINDINGS_NW = {c: NW_TYPES[str(t)] for c, t in FINDINGS.items()}


# how an engine keeps a frame one query uses more than once (Engine.keep, Context.keep)
Keep = Callable[[nw.LazyFrame], nw.LazyFrame]


def as_is(lf: nw.LazyFrame) -> nw.LazyFrame:
    """The Keep that keeps nothing: the frame's plan as it is."""
    return lf


@dataclass
class Context:
    """What a rule sees: the canonical tables present in this run, its settings, the config."""

    tables: dict[str, nw.LazyFrame]
    config: Config
    params: dict[str, Any] = field(default_factory=dict)
    # frames several rules share (payments attributed to the roll …), one dict per run, and how
    # the engine materialises them; without them a shared frame is simply rebuilt lazily
    shared: dict[str, nw.LazyFrame] = field(default_factory=dict)
    materialize: Callable[[nw.LazyFrame], nw.LazyFrame] | None = None
    reuse: Keep | None = None  # the engine's Engine.keep

    def table(self, name: str) -> nw.LazyFrame:
        return self.tables[name]

    def once(self, key: str, build: Callable[[], nw.LazyFrame]) -> nw.LazyFrame:
        """The frame `build()` makes, built and materialised once per run under `key`.

        The key must name everything the frame depends on besides the run's tables and config
        (rule settings never go into a shared frame)."""
        if key not in self.shared:
            lf = build()
            self.shared[key] = self.materialize(lf) if self.materialize else lf
        return self.shared[key]

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """`lf` as the engine keeps a frame one query uses more than once (Engine.keep):
        materialised on polars and DuckDB, which otherwise compute it again for every use;
        as it is without an engine."""
        return self.reuse(lf) if self.reuse else lf

    def has(self, name: str) -> bool:
        return name in self.tables


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # Chinese name, as in the campaign documents
    title: str  # short English title
    severity: str  # high / medium / low / warning
    # table -> columns without which the rule cannot answer: it is skipped when a table is
    # absent or one of these columns is empty in it (engines/runner.py, missing_inputs)
    needs: dict[str, tuple[str, ...]]
    check: Callable[[Context], nw.LazyFrame]
    doc: str = ""  # what it finds, why it matters, a known false positive
    optional: tuple[str, ...] = ()  # tables the rule uses when present but can do without
    # table -> columns the rule also reads when they are there: a file without them leaves them
    # null and the rule still runs (place, names, months …). `needs` and `uses` together list
    # every column the rule and the shared frames it asks for read (tests/test_rule_needs.py)
    uses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # looks at this run's frames before the rule runs: settings it adds to ctx.params (facts
    # of the inputs, such as a list without dates) and a note for the run's summary
    prepare: Callable[[Mapping[str, Any]], tuple[dict[str, Any], str]] | None = None

    def params(self, config: Config) -> dict[str, Any]:
        """Its settings: configs/rules.yaml under its code, a user's values over them (checked
        against the shipped ones when the config loaded, cardcheck/config.py)."""
        return config.rule_settings(self.code)

    def enabled(self, config: Config) -> bool:
        return bool(config.rule_params(self.code).get("enabled", True))

    def severity_for(self, config: Config) -> str:
        return str(config.rule_params(self.code).get("severity", self.severity))


def findings(lf: nw.LazyFrame, rule: str, severity: str) -> nw.LazyFrame:
    """Shape a rule's result into the findings schema: missing columns become null."""
    present = set(lf.collect_schema().names())
    cols = []
    for name, dtype in FINDINGS_NW.items():
        if name == "rule":
            cols.append(nw.lit(rule).cast(dtype).alias(name))
        elif name == "severity" and "severity" not in present:
            cols.append(nw.lit(severity).cast(dtype).alias(name))
        elif name in present:
            cols.append(nw.col(name).cast(dtype).alias(name))
        else:
            cols.append(nw.lit(None).cast(dtype).alias(name))
    return lf.select(cols)


# ---------------------------------------------------------------- evidence-text helpers


def text(expr: nw.Expr) -> nw.Expr:
    """An expression as text, with '' for null (so concat_str does not null the whole line)."""
    return expr.cast(nw.String).fill_null("")


def yuan(fen: nw.Expr) -> nw.Expr:
    """Integer fen as '1234.50' (元, two decimals); negative amounts keep their sign."""
    absval = fen.abs()
    sign = nw.when(fen < 0).then(nw.lit("-")).otherwise(nw.lit(""))
    return nw.concat_str(
        [sign, (absval // 100).cast(nw.String), nw.lit("."),
         (absval % 100).cast(nw.String).str.zfill(2)]
    )


def month_text(yyyymm: nw.Expr) -> nw.Expr:
    """202304 as '2023-04'."""
    return nw.concat_str(
        [(yyyymm // 100).cast(nw.String), nw.lit("-"), (yyyymm % 100).cast(nw.String).str.zfill(2)]
    )


def usable(col: str = "id_status") -> nw.Expr:
    """The ID whose status is in `col` is a match key (ok, upgraded15 or a tokenize token)."""
    return nw.col(col).is_in(list(ID_USABLE)).fill_null(False)


def ym(date: nw.Expr) -> nw.Expr:
    """A date's month as Int32 yyyymm."""
    return (date.dt.year() * 100 + date.dt.month()).cast(nw.Int32)


def month_index(yyyymm: nw.Expr) -> nw.Expr:
    """yyyymm as a running month number, so that consecutive months differ by one."""
    return (yyyymm // 100) * 12 + (yyyymm % 100) - 1
