"""ID numbers: GB 11643 check digit, 15→18 upgrade, statuses, and the mess they come in."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.normalize.ids import check_digit, id_number, id_status, normalise_ids, province_ok

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def py_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def apply(values: list[str | None], fn) -> list:
    return pl.DataFrame({"x": values}, schema={"x": pl.String}).select(fn(pl.col("x"))).to_series().to_list()


def test_known_valid_ids() -> None:
    assert apply(["11010519491231002X", "11010519491231002x", "141125195001010014"], id_status) == [
        "ok", "ok", "ok"]


def test_statuses() -> None:
    got = apply([
        "141125195001010015",  # wrong check digit
        "141125195002300013",  # 30 February
        "141125185001010014",  # born 1850
        "14112519500101",  # too short
        "1.41125E+17",  # scientific notation
        "141125195001010000",  # Excel kept 15 digits; the rest became 000
        "141125500101001",  # valid 15-digit legacy
        "141125501301001",  # 15-digit with month 13
        None, "  ",
    ], id_status)
    assert got == ["bad_checksum", "bad_birth_date", "bad_birth_date", "bad_format",
                   "precision_lost", "precision_lost", "upgraded15", "bad_birth_date",
                   "missing", "missing"]


def test_match_key_keeps_unusable_text_as_given() -> None:
    assert apply(["141125500101001", "1.41125E+17", " 14112519500101001５ ", "'141125195001010014",
                  '="141125195001010014"'], id_number) == [
        "141125195001010014", "1.41125E+17", "141125195001010015", "141125195001010014",
        "141125195001010014"]


def test_numeric_excel_cell_means_digits_lost() -> None:
    df = pl.DataFrame({"id": ["141125195001010014", "141125500101001", "141125195001010014"],
                       "num": [True, True, False]})
    out = normalise_ids(df, "id", "st", "num")
    assert out.get_column("st").to_list() == ["precision_lost", "upgraded15", "ok"]
    assert out.get_column("id").to_list() == ["141125195001010014", "141125195001010014",
                                              "141125195001010014"]


def test_province() -> None:
    assert apply(["141125195001010014", "991125195001010012", "821125195001010012"],
                 province_ok) == [True, False, True]


births = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2020, 12, 31))
regions = st.sampled_from(["110101", "141125", "310104", "440305", "650102", "820000"])
seqs = st.integers(min_value=0, max_value=999)


@st.composite
def valid18(draw) -> str:
    body = f"{draw(regions)}{draw(births):%Y%m%d}{draw(seqs):03d}"
    return body + py_check(body)


FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@settings(max_examples=200, deadline=None)
@given(valid18(), st.lists(st.booleans(), min_size=18, max_size=18),
       st.sampled_from([" ", "\u00a0", "\u3000", "\t", "\u200b", ""]))
def test_any_valid_id_survives_full_width_spaces_and_lower_x(ident: str, flips: list[bool],
                                                             gap: str) -> None:
    messy = "".join(ch.translate(FULL) if f else ch for ch, f in zip(ident, flips))
    messy = gap + messy[:6] + gap + messy[6:].replace("X", "x") + gap
    assert apply([messy], id_status) == ["ok"]
    assert apply([messy], id_number) == [ident]


@settings(max_examples=200, deadline=None)
@given(regions, st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(1999, 12, 31)), seqs)
def test_15_digit_ids_upgrade_to_the_right_18(region: str, born: dt.date, seq: int) -> None:
    legacy = f"{region}{born:%y%m%d}{seq:03d}"
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    assert apply([legacy], id_status) == ["upgraded15"]
    assert apply([legacy], id_number) == [body + py_check(body)]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_the_standard(first17: str) -> None:
    assert apply([first17], check_digit) == [py_check(first17)]


PLAIN = st.one_of(
    st.from_regex(r"\A[0-9]{17}[0-9X]\Z", fullmatch=True),  # mostly bad checksums and dates
    st.builds(lambda region, born, seq: f"{region}{born:%Y%m%d}{seq:03d}",
              st.sampled_from(["110105", "141125", "440524"]),
              st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)),
              st.integers(0, 999)).map(lambda s17: s17 + py_check(s17)),  # valid, any date
    st.from_regex(r"\A[0-9]{15}000\Z", fullmatch=True),  # what Excel leaves of a long number
    st.from_regex(r"\A1411251950010[0-9]{3}[1-9]0\Z", fullmatch=True),  # ends 0, not 000
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(PLAIN, st.sampled_from(
    ["141125500101001", " 14112519500101001 4", "1.41125E+17", "T" + "A" * 24, None])),
    st.one_of(st.none(), st.booleans())), min_size=1, max_size=30))
def test_machine_form_ids_read_apart_agree_with_the_full_reading(cells) -> None:
    """normalise_ids reads 18-character IDs in machine form on a shorter path: the same status
    and key, cell by cell, as id_status / id_number on the raw text (with the Excel number flag)."""
    df = pl.DataFrame({"id": [c for c, _ in cells], "num": [n for _, n in cells]},
                      schema={"id": pl.String, "num": pl.Boolean})
    out = normalise_ids(df, "id", "st", "num")
    full = df.select(id_status(pl.col("id"), pl.col("num")).alias("st"))
    full = full.with_columns(df.select(id_number(pl.col("id"), full.to_series())).to_series()
                             .alias("id"))
    assert out.get_column("st").to_list() == full.get_column("st").to_list()
    assert out.get_column("id").to_list() == full.get_column("id").to_list()
