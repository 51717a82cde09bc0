"""Dates and times as the files write them, parsed whole-column.

Accepted: 2019-04-15, 2019/4/15, 2019.04.15, 20190415, 2019年4月15日, 2019年4月 and 2019-04
(→ the 1st), 201904, Excel serial numbers (43570, 43570.4375), and for times also
'2023-04-15 10:30:00', '2023/4/15 10:30', '2023-04-15T10:30:00', '2023-04-15T10:30:00.000000'
(fractional seconds dropped), '20230415103000'.
A date before 1900 or more than a year ahead is a problem (a reject reason), as is text that is
not a date. Each column may have its own window (configs/dates.yaml, a `DateSpec`): the end of a
sentence, a certificate or an entitlement may lie years ahead; and in an end-date column the
open words (长期, 至今, 无, — …) mean no end: an empty date, not a problem.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from cardcheck.config import DateSpec
from cardcheck.normalize.text import clean

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

EXCEL_EPOCH = dt.date(1899, 12, 30)
EARLIEST = dt.date(1900, 1, 1)
UNREADABLE = "无法识别的日期"
OUT_OF_RANGE = "日期早于1900年或晚于一年之后，不合常理"
DEFAULT = DateSpec(EARLIEST, 1)


def _latest(years: int = 1) -> dt.date:
    return dt.date.today() + dt.timedelta(days=366 * years)


def out_of_range(spec: DateSpec = DEFAULT) -> str:
    """The problem of a date outside the window of `spec`."""
    if (spec.earliest, spec.years_ahead) == (EARLIEST, 1):
        return OUT_OF_RANGE
    start = f"{spec.earliest.year}年" if (spec.earliest.month, spec.earliest.day) == (1, 1) \
        else spec.earliest.isoformat()
    ahead = "一年" if spec.years_ahead == 1 else f"{spec.years_ahead}年"
    return f"日期早于{start}或晚于{ahead}之后，不合常理"


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])


def _split(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(date text, time text) of a cleaned cell: '2019年4月15日 10:30' → ('2019-4-15', '10:30')."""
    t = (
        text.str.replace(r"(:\d{2})\.\d+$", "$1")  # fractional seconds (ISO as written by tools)
        .str.replace_all(r"[年/.]", "-").str.replace_all(r"月", "-")
        .str.replace_all(r"[日号]", "").str.replace("T", " ").str.strip_chars()
    )
    compact = t.str.contains(r"^\d{14}$")
    date_txt = pl.when(compact).then(t.str.slice(0, 8)).otherwise(t.str.extract(r"^(\S+)", 1))
    time_txt = (
        pl.when(compact)
        .then(pl.concat_str([t.str.slice(8, 2), pl.lit(":"), t.str.slice(10, 2), pl.lit(":"),
                             t.str.slice(12, 2)]))
        .otherwise(t.str.extract(r"^\S+\s+(.+)$", 1))
    )
    return date_txt, time_txt


def _date_text(d: pl.Expr) -> pl.Expr:
    """'YYYY-MM-DD' from the date part, or null."""
    full = r"^(\d{4})-(\d{1,2})-(\d{1,2})$"
    month = r"^(\d{4})-(\d{1,2})-?$"
    return (
        pl.when(d.str.contains(full))
        .then(_ymd(d.str.extract(full, 1), d.str.extract(full, 2), d.str.extract(full, 3)))
        .when(d.str.contains(r"^\d{8}$"))
        .then(_ymd(d.str.slice(0, 4), d.str.slice(4, 2), d.str.slice(6, 2)))
        .when(d.str.contains(month))
        .then(_ymd(d.str.extract(month, 1), d.str.extract(month, 2), pl.lit("1")))
        .when(d.str.contains(r"^(19|20)\d{2}(0[1-9]|1[0-2])$"))
        .then(_ymd(d.str.slice(0, 4), d.str.slice(4, 2), pl.lit("1")))
        .otherwise(None)
    )


def _serial(d: pl.Expr) -> pl.Expr:
    """Excel serial day number (5 digits, optional fraction) as float days, else null."""
    return pl.when(d.str.contains(r"^\d{5}(\.\d+)?$")).then(d.cast(pl.Float64, strict=False))


def date_value(expr: pl.Expr) -> pl.Expr:
    """The date the cell writes (pl.Date), before the range check; null when unreadable."""
    text = clean(expr)
    d, _ = _split(text)
    serial = _serial(text)
    from_serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64))
    return (
        pl.when(serial.is_not_null()).then(from_serial.cast(pl.Date))
        .otherwise(_date_text(d).str.to_date("%Y-%m-%d", strict=False))
    )


def parse_date(expr: pl.Expr, spec: DateSpec = DEFAULT) -> tuple[pl.Expr, pl.Expr]:
    """(pl.Date or null, problem text or null), in the window of `spec`."""
    return _checked(clean(expr), date_value(expr), spec)


def datetime_value(expr: pl.Expr) -> pl.Expr:
    """The time the cell writes (pl.Datetime('us'); a date alone is midnight), before the range
    check; null when unreadable."""
    text = clean(expr)
    d, t = _split(text)
    hms = r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$"
    time_txt = (
        pl.when(t.is_null()).then(pl.lit("00:00:00"))
        .when(t.str.contains(hms))
        .then(pl.concat_str([
            t.str.extract(hms, 1).str.zfill(2), pl.lit(":"), t.str.extract(hms, 2), pl.lit(":"),
            t.str.extract(hms, 3).fill_null("00"),
        ]))
        .otherwise(None)
    )
    serial = _serial(text)
    from_serial = (
        pl.lit(dt.datetime(1899, 12, 30)).cast(pl.Datetime("us"))
        + pl.duration(seconds=(serial * 86400).round(0).cast(pl.Int64))
    )
    parsed = pl.concat_str([_date_text(d), pl.lit(" "), time_txt]).str.to_datetime(
        "%Y-%m-%d %H:%M:%S", time_unit="us", strict=False
    )
    return pl.when(serial.is_not_null()).then(from_serial).otherwise(parsed)


def parse_datetime(expr: pl.Expr, spec: DateSpec = DEFAULT) -> tuple[pl.Expr, pl.Expr]:
    """(pl.Datetime('us') or null, problem text or null); a date alone means midnight."""
    return _checked(clean(expr), datetime_value(expr), spec, times=True)


def is_open(text: pl.Expr, spec: DateSpec) -> pl.Expr:
    """The cleaned cell is one of the spec's open words (no end date); False without words."""
    if not spec.open_words:
        return pl.lit(False)
    return text.str.replace_all(r"\s", "").is_in(list(spec.open_words)).fill_null(False)


def _checked(text: pl.Expr, value: pl.Expr, spec: DateSpec, times: bool = False
             ) -> tuple[pl.Expr, pl.Expr]:
    earliest: object = spec.earliest
    latest: object = _latest(spec.years_ahead)
    if times:
        earliest = dt.datetime.combine(spec.earliest, dt.time())
        latest = dt.datetime.combine(_latest(spec.years_ahead), dt.time())
    unless: Then | ChainedThen = pl.when(text.is_null()).then(None)
    if spec.open_words:
        unless = unless.when(is_open(text, spec)).then(None)
    problem = (
        unless.when(value.is_null()).then(pl.lit(UNREADABLE))
        .when((value < pl.lit(earliest)) | (value > pl.lit(latest)))
        .then(pl.lit(out_of_range(spec)))
        .otherwise(None)
    )
    return pl.when(problem.is_null()).then(value).otherwise(None), problem


# Most cells of a machine export are already ISO: read those directly (no cleaning, no
# rewriting), with the same range check as the full parse. Each fast reader is a pair: the value
# of the text, and the problem of a value already computed into a column (computing the value
# once and checking the column is ~4× faster than one expression that parses inside each test).
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ISO_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def iso_date(expr: pl.Expr) -> pl.Expr:
    return expr.str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def iso_datetime(expr: pl.Expr) -> pl.Expr:
    return expr.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)


def date_problem(text: pl.Expr, value: pl.Expr, spec: DateSpec = DEFAULT) -> pl.Expr:
    """The problem of a parsed date column (unreadable or out of range), else null."""
    return _checked(text, value, spec)[1]


def datetime_problem(text: pl.Expr, value: pl.Expr, spec: DateSpec = DEFAULT) -> pl.Expr:
    return _checked(text, value, spec, times=True)[1]


def to_date(expr: pl.Expr, spec: DateSpec = DEFAULT) -> pl.Expr:
    """The date, or null when unreadable, out of range or open (an open word)."""
    return parse_date(expr, spec)[0]


# A term written in one cell (刑期起止): two dates with 至/到/~/— between them, or a hyphen
# between two dates that are whole (2021-03-05-2029-03-04, 20210305-20290304, 2021.3-2029.3).
RANGE_WORDS = r"至|到|~|—+|–|―"
WHOLE = r"\d{4}[./年-]\d{1,2}[./月-]\d{1,2}[日号]?|\d{8}|\d{4}[./年]\d{1,2}月?"


def term_dates(expr: pl.Expr, start: DateSpec = DEFAULT, end: DateSpec = DEFAULT
               ) -> tuple[pl.Expr, pl.Expr]:
    """(start, end) dates of a term cell; a part that is no plausible date (至今, 无期, a
    sentence length such as 有期徒刑三年) is null: an open side, never a reject."""
    t = clean(expr).str.replace_all(r"\s", "")
    split = t.str.replace(RANGE_WORDS, "\x1f")
    worded = split.str.contains("\x1f", literal=True)
    dashed = rf"^({WHOLE})-({WHOLE})$"
    first = pl.when(worded).then(split.str.split("\x1f").list.get(0, null_on_oob=True)) \
        .otherwise(t.str.extract(dashed, 1))
    second = pl.when(worded).then(split.str.split("\x1f").list.get(1, null_on_oob=True)) \
        .otherwise(t.str.extract(dashed, 2))
    return parse_date(first, start)[0], parse_date(second, end)[0]
