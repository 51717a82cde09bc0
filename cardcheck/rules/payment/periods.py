"""Month and day arithmetic and per-fund settings as narwhals expressions (engine-neutral).

Months are Int32 yyyymm. Day numbers are whole days since 1970-01-01, computed from year, month
and day with integer arithmetic only (H. Hinnant's days_from_civil), so that date differences
agree on polars, DuckDB and Spark without relying on each engine's interval types.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

from cardcheck.config import Config
from cardcheck.rules.base import usable  # noqa: F401  (re-exported for payment rules)

NO_START = 0  # a roll row without start_date is active from the beginning
NO_END = 999912  # … and without end_date until further notice


def month_of(date: nw.Expr) -> nw.Expr:
    """A date's month as Int32 yyyymm (null stays null)."""
    return (date.dt.year().cast(nw.Int64) * 100 + date.dt.month().cast(nw.Int64)).cast(nw.Int32)


def add_months(yyyymm: nw.Expr, n: nw.Expr | int) -> nw.Expr:
    """yyyymm plus n months (n may be negative)."""
    idx = (yyyymm.cast(nw.Int64) // 100) * 12 + (yyyymm.cast(nw.Int64) % 100) - 1 + n
    return ((idx // 12) * 100 + (idx % 12) + 1).cast(nw.Int32)


def civil_day(y: nw.Expr, m: nw.Expr, d: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of the calendar date (y, m, d), as Int64."""
    y = y.cast(nw.Int64)
    m = m.cast(nw.Int64)
    y2 = y - nw.when(m <= 2).then(nw.lit(1)).otherwise(nw.lit(0))
    era = y2 // 400
    yoe = y2 - era * 400
    mp = nw.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (mp * 153 + 2) // 5 + d.cast(nw.Int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468).cast(nw.Int64)


def with_days_late(lf: nw.LazyFrame, pay_date: str, period: str, deadline: nw.Expr) -> nw.LazyFrame:
    """Add `days_late`: days from the deadline day of month `period` (capped at the month's last
    day) to `pay_date`; 0 or less is on time.

    Built in stages of plain columns: the same arithmetic as one nested expression is expanded
    in full by SQL engines and is many times slower there."""
    p = nw.col(period).cast(nw.Int64)
    lf = lf.with_columns(
        _dl=deadline.cast(nw.Int64), _py=p // 100, _pm=p % 100,
        _ny=nw.when(p % 100 == 12).then(p // 100 + 1).otherwise(p // 100),
        _nm=nw.when(p % 100 == 12).then(nw.lit(1)).otherwise(p % 100 + 1),
        _y=nw.col(pay_date).dt.year(), _m=nw.col(pay_date).dt.month(),
        _d=nw.col(pay_date).dt.day(),
    ).with_columns(
        _first=civil_day(nw.col("_py"), nw.col("_pm"), nw.lit(1)),
        _next=civil_day(nw.col("_ny"), nw.col("_nm"), nw.lit(1)),
        _paid=civil_day(nw.col("_y"), nw.col("_m"), nw.col("_d")),
    ).with_columns(
        _due=nw.when(nw.col("_dl") < nw.col("_next") - nw.col("_first")).then(nw.col("_dl"))
        .otherwise(nw.col("_next") - nw.col("_first")),
    )
    return lf.with_columns(
        days_late=nw.col("_paid") - (nw.col("_first") + nw.col("_due") - 1),
    ).drop("_dl", "_py", "_pm", "_ny", "_nm", "_y", "_m", "_d", "_first", "_next", "_paid", "_due")


def fund_map(config: Config, values: dict[str, Any], col: str = "fund",
             default: Any = None) -> nw.Expr:
    """An expression mapping a fund column through `values` (fund name -> literal)."""
    expr: Any = nw.lit(default)
    for fund, value in values.items():
        expr = nw.when(nw.col(col) == fund).then(nw.lit(value)).otherwise(expr)
    return expr


def family_of(config: Config, col: str = "fund") -> nw.Expr:
    return fund_map(config, {f.name: f.family for f in config.funds.values()}, col).cast(nw.String)


def deadline_of(config: Config, col: str = "fund") -> nw.Expr:
    days = {f.name: f.deadline_day for f in config.funds.values()}
    return fund_map(config, days, col, default=15).cast(nw.Int64)


def one_off_funds(config: Config) -> list[str]:
    return [f.name for f in config.funds.values() if f.one_off]


def fmt_date(date: nw.Expr) -> nw.Expr:
    return date.dt.to_string("%Y-%m-%d")
