"""Property-based fuzzing of the readers and normalisers (hypothesis).

Any byte string given as a file, and any table of random strings, either loads with consistent
counts (read = loaded + rejected + skipped, canonical columns and types) or fails with a
CardcheckError (a clean message): never another exception. The whole file runs in well under a
minute: examples are few and bounded in size, and there is no deadline (polars compiles on first
use).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from tempfile import TemporaryDirectory

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cardcheck.config import load_config
from cardcheck.errors import CardcheckError
from cardcheck.ingest import load_file
from cardcheck.ingest.values import DROPPED
from cardcheck.model import SCHEMAS
from cardcheck.normalize.cards import card_problem, clean_card
from cardcheck.normalize.dates import parse_date, parse_datetime
from cardcheck.normalize.ids import id_number, id_status
from cardcheck.normalize.money import parse_money

CONFIG = load_config()
KINDS = ("roll", "accounts", "payments", "transactions")
# a load costs ~0.3 s (polars plans per column): examples per test are counted to stay in budget
FUZZ = {"deadline": None, "database": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

# cells a real export holds, and the ones that break readers: quotes, separators, line breaks,
# formula starts, full-width forms, invisibles, NUL, digits in every shape
ALPHABET = st.sampled_from(list(
    "0123456789０１２３.,，;|\t\"'=+-@ \n\r年月日元分￥¥$()（）xX张王李低保农村城市\u200b\u3000\x00"
    "abcAZ/:*#%&<>\\") + ["2023-04-10", "110101195001010019", "6217000000000001", "合计", "制表人："])
CELL = st.lists(ALPHABET, max_size=8).map("".join)


def load_bytes(data: bytes, kind: str, suffix: str = ".csv"):
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            return load_file(path, kind, CONFIG)
        except CardcheckError as error:
            message = str(error)
            assert message and "\n" not in message and "Traceback" not in message
            return None


def consistent(loaded, kind: str) -> None:
    c = loaded.counts
    assert c.read == c.loaded + c.rejected + c.skipped
    assert c.loaded == loaded.frame.height
    assert c.rejected + c.dropped == loaded.rejects.height
    assert sum(c.skipped_reasons.values()) == c.skipped
    assert loaded.frame.columns == list(SCHEMAS[kind])
    assert all(loaded.frame.schema[c] == t for c, t in SCHEMAS[kind].items())
    dropped = loaded.rejects.get_column("reason").str.starts_with(DROPPED)
    hard = loaded.rejects.filter(~dropped).get_column("line").to_list()
    lines = loaded.frame.get_column("source_line").to_list() + hard
    assert len(set(lines)) == len(lines)  # a row is loaded or rejected, once
    # a row loaded without a damaged field has one line in the rejects saying so
    soft = loaded.rejects.filter(dropped).get_column("line").to_list()
    assert len(set(soft)) == len(soft) == c.dropped
    assert set(soft) <= set(loaded.frame.get_column("source_line").to_list())


@settings(max_examples=40, **FUZZ)
@given(data=st.binary(max_size=3000), kind=st.sampled_from(KINDS),
       magic=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
                              b"\xef\xbb\xbf", b"\xff\xfe", b"<html><table>"]))
@example(data=b"\x00" * 100, kind="roll", magic=b"")
@example(data="姓名,身份证号,救助类别\n".encode("gbk") + b"\x81", kind="roll", magic=b"")
def test_any_bytes_load_or_fail_cleanly(data: bytes, kind: str, magic: bytes) -> None:
    loaded = load_bytes(magic + data, kind)
    if loaded is not None:
        consistent(loaded, kind)


def _header(kind: str, pick: list[int]) -> list[str]:
    """A header naming the required columns and some optional ones, by one of their aliases."""
    spec = CONFIG.tables[kind]
    cols = list(spec.columns)
    chosen = [c for c in cols if c in spec.required or pick[cols.index(c) % len(pick)] % 3 == 0]
    return [spec.columns[c][pick[i % len(pick)] % len(spec.columns[c])] if spec.columns[c]
            else c for i, c in enumerate(chosen)]


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[list[str]], bytes]:
    kind = draw(st.sampled_from(KINDS))
    header = _header(kind, draw(st.lists(st.integers(0, 50), min_size=1, max_size=5)))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 2), max_size=25))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    title = draw(st.sampled_from([[], [["某某县发放花名册"]], [["单位：元"], []]]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    grid = [*title, header, *rows]
    writer.writerows(grid)
    text = buf.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]))
    return kind, grid, text.encode(encoding, errors="replace")


@settings(max_examples=25, **FUZZ)
@given(table=tables())
@example(table=("roll", [], "姓名,身份证号,救助类别\n\r,\n张三\r李四,1,农村低保\n".encode()))
def test_any_table_of_strings_loads_with_consistent_counts(
        table: tuple[str, list[list[str]], bytes]) -> None:
    kind, _, data = table
    loaded = load_bytes(data, kind)
    if loaded is not None:
        consistent(loaded, kind)


@settings(max_examples=10, **FUZZ)
@given(table=tables())
def test_any_table_as_xlsx(table: tuple[str, list[list[str]], bytes]) -> None:
    """The same tables written as a workbook (text cells) load the same way or fail cleanly."""
    import xlsxwriter

    kind, rows, _ = table
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            sheet.write_string(r, c, cell.replace("\x00", ""))  # XML cannot hold NUL
    book.close()
    loaded = load_bytes(buf.getvalue(), kind, ".xlsx")
    if loaded is not None:
        consistent(loaded, kind)


@settings(max_examples=8, **FUZZ)  # planning the parsers costs more than running them: long lists
@given(values=st.lists(st.one_of(CELL, st.text(max_size=30)), min_size=1, max_size=300))
def test_normalisers_never_raise_and_keep_their_types(values: list[str]) -> None:
    df = pl.DataFrame({"x": values}, schema={"x": pl.String})
    money, money_problem = parse_money(pl.col("x"))
    date, date_problem = parse_date(pl.col("x"))
    when, when_problem = parse_datetime(pl.col("x"))
    out = df.select(
        money.alias("money"), money_problem.alias("mp"), date.alias("date"),
        date_problem.alias("dp"), when.alias("when"), when_problem.alias("wp"),
        id_status(pl.col("x")).alias("status"), id_number(pl.col("x")).alias("id"),
        clean_card(pl.col("x")).alias("card"), card_problem(pl.col("x")).alias("cp"),
    )
    assert out.schema["money"] == pl.Int64 and out.schema["date"] == pl.Date
    assert out.schema["when"] == pl.Datetime("us")
    # a value or a problem, never both
    for value, problem in (("money", "mp"), ("date", "dp"), ("when", "wp")):
        assert out.filter(pl.col(value).is_not_null() & pl.col(problem).is_not_null()).height == 0
    assert out.get_column("status").is_not_null().all()


@settings(max_examples=60, **FUZZ)
@given(fen=st.integers(-10**12, 10**12), style=st.sampled_from(
    ["{y:.2f}", "{y:,.2f}", "￥{y:.2f}", "{y:.2f}元", "{y:.2f} 元", "RMB {y:.2f}"]))
def test_money_text_round_trips_to_the_fen(fen: int, style: str) -> None:
    sign, whole, cents = ("-" if fen < 0 else ""), abs(fen) // 100, abs(fen) % 100
    text = style.replace("{y:.2f}", f"{sign}{whole}.{cents:02d}").replace(
        "{y:,.2f}", f"{sign}{whole:,}.{cents:02d}")
    value, problem = parse_money(pl.lit(text))
    got = pl.select(value.alias("v"), problem.alias("p")).row(0)
    assert got == (fen, None)
