"""Dates with meaning: the plausible window depends on the column (configs/dates.yaml). The end of
a sentence, a certificate or an entitlement may lie years ahead; birth, start, pay and death
dates may not; and an end written 长期 / 至今 / 无 / — means no end (an empty date, not a reject)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from cardcheck.config import DateSpec, load_config
from cardcheck.errors import ConfigError
from cardcheck.ingest import load_file
from cardcheck.ingest.values import DROPPED, column_reader, read_column
from cardcheck.normalize.dates import OUT_OF_RANGE, parse_date

NEXT = dt.date.today().year + 5  # a plan five years ahead
FAR = dt.date.today().year + 40  # beyond the 30 years an end may lie ahead

PRISONERS = (
    "姓名,身份证号,入监日期,出监日期\n"
    f"甲,110101195001010016,2021-03-05,{NEXT}-03-04\n"
    "乙,110101196001010012,2020/6/1,长期\n"
    "丙,110101194001010013,2019-01-01,无期\n"
    "丁,110101194501010011,2022-05-01,—\n"
    "戊,110101197001010014,2022-05-01, 至 今 \n"
    f"己,110101198001010010,{NEXT}-01-01,\n"
    f"庚,110101199001010015,2022-01-01,{FAR}-01-01\n"
)

ROLL = (
    "户编号,姓名,身份证号,救助类别,保障起始日期,终止日期\n"
    f"H1,张三,110101195001010016,孤儿基本生活费,2020-01-01,{NEXT}年6月30日\n"
    "H2,李四,110101196001010012,农村低保,2021-01-01,长期\n"
    "H3,王五,110101194001010013,农村低保,2021-01-01,/\n"
    f"H4,赵六,110101194501010011,农村低保,{NEXT}-01-01,\n"
)


def test_prisoners_end_dates_may_lie_ahead_or_be_open(tmp_path: Path) -> None:
    (tmp_path / "服刑.csv").write_text(PRISONERS, encoding="utf-8")
    got = load_file(tmp_path / "服刑.csv", "prisoners", load_config())
    assert got.frame.select("name", "start_date", "end_date").rows() == [
        ("甲", dt.date(2021, 3, 5), dt.date(NEXT, 3, 4)),
        ("乙", dt.date(2020, 6, 1), None),
        ("丙", dt.date(2019, 1, 1), None),
        ("丁", dt.date(2022, 5, 1), None),
        ("戊", dt.date(2022, 5, 1), None),
    ]
    assert got.rejects.select("line", "column", "value", "reason").rows() == [
        (7, "入监日期", f"{NEXT}-01-01", OUT_OF_RANGE),
        (8, "出监日期", f"{FAR}-01-01", "日期早于1900年或晚于30年之后，不合常理"),
    ]


def test_roll_entitlements_end_years_ahead_starts_do_not(tmp_path: Path) -> None:
    (tmp_path / "名册.csv").write_text(ROLL, encoding="utf-8")
    got = load_file(tmp_path / "名册.csv", "roll", load_config())
    assert got.frame.select("household_id", "start_date", "end_date").rows() == [
        ("H1", dt.date(2020, 1, 1), dt.date(NEXT, 6, 30)),
        ("H2", dt.date(2021, 1, 1), None),
        ("H3", dt.date(2021, 1, 1), None),
        # a start years ahead is damage: the row loads without it (the beneficiary stays)
        ("H4", None, None),
    ]
    assert got.rejects.select("line", "column", "reason").rows() == [
        (5, "保障起始日期", DROPPED + OUT_OF_RANGE)]


def test_open_words_are_only_for_end_dates() -> None:
    config = load_config()
    values = ["长期", "—", "2023-04-01", f"{NEXT}-04-01", "无"]
    df = pl.DataFrame({"x": values})
    rows = {}
    for col in ("start_date", "end_date"):
        parser, fast, _ = column_reader(col, "roll", config, {}, [col])
        fast_rows = read_column(df, "x", parser, fast).select("__v_x", "__p_x").rows()
        slow_rows = read_column(df, "x", parser).select("__v_x", "__p_x").rows()
        assert fast_rows == slow_rows  # the fast path checks as the full parser does
        rows[col] = fast_rows
    assert rows["start_date"] == [
        (None, "无法识别的日期"), (None, "无法识别的日期"), (dt.date(2023, 4, 1), None),
        (None, OUT_OF_RANGE), (None, "无法识别的日期")]
    assert rows["end_date"] == [
        (None, None), (None, None), (dt.date(2023, 4, 1), None), (dt.date(NEXT, 4, 1), None),
        (None, None)]


def test_windows_are_configured_per_column_and_table(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "dates:\n  max_years_ahead: 0\n  columns:\n    prisoners.end_date: {max_years_ahead: 60}\n"
        "    open_date: {open_ended: true}\n", encoding="utf-8")
    config = load_config(tmp_path / "mine.yaml")
    assert config.dates.spec("prisoners", "end_date").years_ahead == 60
    assert config.dates.spec("prisoners", "end_date").open_words == ()  # not open-ended here
    assert config.dates.spec("roll", "end_date").years_ahead == 30  # the default's entry
    assert config.dates.spec("other_roll", "end_date").open_words[:3] == ("长期", "长期有效", "至今")
    assert config.dates.spec("payments", "pay_date") == DateSpec(dt.date(1900, 1, 1), 0)
    assert "无" in config.dates.spec("accounts", "open_date").open_words
    df = pl.DataFrame({"x": [f"{dt.date.today().year + 1}-12-31"]})
    assert df.select(parse_date(pl.col("x"), config.dates.spec("payments", "pay_date"))[1]
                     ).item() == "日期早于1900年或晚于0年之后，不合常理"


@pytest.mark.parametrize("text, message", [
    ("dates: {max_years_ahead: -1}", "dates.max_years_ahead: expected a whole number"),
    ("dates: {earliest: soon}", "dates.earliest: expected a date YYYY-MM-DD"),
    ("dates: {columns: {no_such_date: {max_years_ahead: 3}}}",
     "dates.columns.no_such_date: expected a column (or table.column) declared under tables"),
    ("dates: {columns: {end_date: {ahead: 3}}}", "dates.columns.end_date.ahead: expected"),
    ("dates: {columns: {end_date: {open_ended: 1}}}",
     "dates.columns.end_date.open_ended: expected true or false"),
    ("dates: {open_words: 长期}", "dates.open_words: expected a list of non-empty texts"),
])
def test_bad_date_settings_name_their_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(tmp_path / "bad.yaml")
