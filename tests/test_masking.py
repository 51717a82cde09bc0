"""One masking rule for every output: polars (workbooks, screens), narwhals (rule evidence) and
plain strings (the graph's tree) mask alike, and a short value never shows more than a full one."""

from __future__ import annotations

import narwhals.stable.v2 as nw
import polars as pl
import pytest

from cardcheck.graph.tree import mask
from cardcheck.masking import mask_card, mask_id, mask_phone, mask_value

CASES = [
    ("id", "110101195001010017", "110101********0017"),
    ("id", "12345678", "****78"),  # a bad 8-digit ID: not 123456********5678
    ("card", "6217000000000001", "6217****0001"),
    ("card", "621700", "****00"),
    ("phone", "13800000001", "138****0001"),
    ("phone", "12345", "****45"),
]
FUNCS = {"id": mask_id, "card": mask_card, "phone": mask_phone}


@pytest.mark.parametrize("form, value, want", CASES)
def test_every_form_of_masking_agrees(form: str, value: str, want: str) -> None:
    df = pl.DataFrame({"v": [value]})
    assert df.select(FUNCS[form](pl.col("v"))).item() == want
    lazy = nw.from_native(df.lazy())
    assert nw.to_native(lazy.select(FUNCS[form](nw.col("v")))).collect().item() == want
    assert mask_value(form, value) == want
    kind = {"id": "person", "card": "card", "phone": "phone"}[form]
    assert mask(kind, value) == want and mask(kind, value, unmask=True) == value


def test_nulls_stay_null() -> None:
    df = pl.DataFrame({"v": [None]}, schema={"v": pl.String})
    assert df.select(mask_id(pl.col("v"))).item() is None
