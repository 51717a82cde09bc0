"""One masking rule for every output: polars (workbooks, screens), narwhals (rule evidence) and
plain strings (the graph's tree) mask alike; a short or malformed value never shows more than a
full one, nor more than a third of itself; free text is masked where the numbers stand; and text
from an input reaches a terminal with its control characters made visible."""

from __future__ import annotations

import random
import re

import narwhals.stable.v2 as nw
import polars as pl
import pytest

from cardcheck.graph.tree import mask
from cardcheck.masking import (
    mask_card,
    mask_hub,
    mask_id,
    mask_phone,
    mask_text,
    mask_text_value,
    mask_value,
    masked,
    terminal_text,
)

CASES = [
    ("id", "110101195001010017", "110101********0017"),
    ("id", "11010119500101001X", "110101********001X"),
    ("id", "12345678", "****78"),  # a bad 8-digit ID: not 123456********5678
    ("id", "110101500101001", "****1001"),  # an old 15-digit ID, unusable: its last four
    ("id", "1101011950010100", "****0100"),  # 16 characters: no region, no birth date shown
    ("card", "6217000000000001", "6217****0001"),
    ("card", "6217000000000001234", "6217****1234"),
    ("card", "621700000001", "****0001"),  # a 12-digit account: only its last four
    ("card", "621700", "****00"),
    ("phone", "13800000001", "138****0001"),
    ("phone", "12345", "****5"),
    ("phone", "12", "****"),
    ("id", "", ""),
]
FUNCS = {"id": mask_id, "card": mask_card, "phone": mask_phone}
SHOWN = re.compile(r"[^*]")


@pytest.mark.parametrize("form, value, want", CASES)
def test_every_form_of_masking_agrees(form: str, value: str, want: str) -> None:
    df = pl.DataFrame({"v": [value]})
    assert df.select(FUNCS[form](pl.col("v"))).item() == want
    lazy = nw.from_native(df.lazy())
    assert nw.to_native(lazy.select(FUNCS[form](nw.col("v")))).collect().item() == want
    assert mask_value(form, value) == want
    kind = {"id": "person", "card": "card", "phone": "phone"}[form]
    assert mask(kind, value) == want and mask(kind, value, unmask=True) == value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_value_shows_more_than_the_rule_allows(seed: int) -> None:
    # every length from 1 to 25: a full-form value shows at most 6+4 (ID), 4+4 (card), 3+4
    # (phone); anything shorter at most a third of itself and never more than 4
    rng = random.Random(seed)
    values = ["".join(rng.choice("0123456789") for _ in range(n)) for n in range(1, 26)]
    for form, (shortest, most) in {"id": (18, 10), "card": (16, 8), "phone": (11, 7)}.items():
        got = pl.DataFrame({"v": values}).select(FUNCS[form](pl.col("v"))).to_series()
        for value, shown in zip(values, got):
            kept = len(SHOWN.findall(shown))
            assert kept <= (most if len(value) >= shortest else min(4, len(value) // 3)), shown
            head, _, tail = shown.partition("****")
            assert value.startswith(head) and value.endswith(tail.lstrip("*")), shown


def test_nulls_stay_null() -> None:
    df = pl.DataFrame({"v": [None]}, schema={"v": pl.String})
    assert df.select(mask_id(pl.col("v"))).item() is None
    assert df.select(mask_text(pl.col("v"))).item() is None


TEXT = ("代领人身份证110101195001010017，转卡6217000000000001234。电话13800000001 "
        "旧证110101500101001 户14112500100200001 账户14050170880800000123 "
        "ID11010119500101001x，日期20230105084130")
MASKED_TEXT = ("代领人身份证110101********0017，转卡6217****1234。电话13800000001 "
               "旧证****1001 户1411****0001 账户1405****0123 "
               "ID110101********001x，日期20230105084130")


def test_free_text_is_masked_where_the_numbers_stand() -> None:
    # 15+ digit runs wherever they stand, by their length; phones and times stay
    assert mask_text_value(TEXT) == MASKED_TEXT
    assert pl.DataFrame({"t": [TEXT]}).select(mask_text(pl.col("t"))).item() == MASKED_TEXT
    assert mask_text_value(MASKED_TEXT) == MASKED_TEXT  # masking twice changes nothing
    assert mask_text_value("１１０１０１１９５００１０１００１７") == "１１０１０１********００１７"


def test_hubs_are_masked_by_their_kind() -> None:
    hubs = ["holder:110101195001010017", "agent:~张三", "official:110101195001010017",
            "phone:13800000001", "account:14050170880800000123",
            "address:东关村5号（身份证110101195001010017）", "memo:generic", "bad_format"]
    got = pl.DataFrame({"h": hubs}).select(mask_hub(pl.col("h"))).to_series().to_list()
    assert got == ["holder:110101********0017", "agent:~张三", "official:110101********0017",
                   "phone:138****0001", "account:1405****0123",
                   "address:东关村5号（身份证110101********0017）", "memo:generic", "bad_format"]


def test_a_frame_is_masked_by_its_column_names() -> None:
    df = pl.DataFrame({
        "finding_id": ["1234567890123456"], "household_id": ["14112500100200001"],
        "id_number": ["110101195001010017"], "card_no": ["6217000000000001"],
        "phone": ["13800000001"], "hub": ["holder:110101195001010017"],
        "evidence": [TEXT], "name": ["张三"], "amount": [1]})
    got = masked(df).row(0, named=True)
    assert got == {"finding_id": "1234567890123456", "household_id": "14112500100200001",
                   "id_number": "110101********0017", "card_no": "6217****0001",
                   "phone": "138****0001", "hub": "holder:110101********0017",
                   "evidence": MASKED_TEXT, "name": "张三", "amount": 1}
    assert masked(df, unmask=True).equals(df)


def test_terminal_text_shows_controls_and_escapes_markup() -> None:
    hostile = "[/]镇\x1b]0;title\x07\x1b[2J\r\n\x9b\u202e"
    assert terminal_text(hostile) == "[/]镇\\x1b]0;title\\x07\\x1b[2J\\x0d\\x0a\\x9b\\u202e"
    assert terminal_text(hostile, markup=True).startswith("\\[/]镇\\x1b]0;title")
    assert terminal_text("第一行\n第二行\x1b", newlines=True) == "第一行\n第二行\\x1b"
    assert terminal_text(None) == ""
