"""Memo reading: the fund a memo names, its family, the period, and whether it says nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cardcheck.config import load_config
from cardcheck.normalize.derive import derive

CASES = [
    # memo, pay date, fund, family, funds named, generic, period
    ("2023年4月农村低保金", dt.date(2023, 4, 10), "农村低保", "城乡低保", 1, False, 202304),
    ("低保金202303", dt.date(2023, 4, 10), None, "城乡低保", 2, False, 202303),
    ("农低保202304", dt.date(2023, 4, 10), "农村低保", "城乡低保", 1, False, 202304),
    ("代发", dt.date(2023, 4, 10), None, None, 0, True, None),
    ("批量代发工资", dt.date(2023, 4, 10), None, None, 0, True, None),
    ("张三", dt.date(2023, 4, 10), None, None, 0, True, None),
    ("XX村委", dt.date(2023, 4, 10), None, None, 0, True, None),
    (None, dt.date(2023, 4, 10), None, None, 0, True, None),
    ("特困供养3月份", dt.date(2023, 4, 10), "特困供养", "特困供养", 1, False, 202303),
    ("12月残疾人护理补贴", dt.date(2023, 1, 8), "重度残疾人护理补贴", "重度残疾人护理补贴", 1, False, 202212),
    ("2023年05月", dt.date(2023, 5, 8), None, None, 0, False, 202305),
    ("２０２３年０６月　临时救助", dt.date(2023, 6, 8), "临时救助", "临时救助", 1, False, 202306),
    # months in Chinese numerals; a quarter or a half-year is no month (C05 reads it as a period)
    ("一月城市低保", dt.date(2023, 1, 10), "城市低保", "城乡低保", 1, False, 202301),
    ("十一月低保金", dt.date(2023, 12, 8), None, "城乡低保", 2, False, 202311),
    ("十二月孤儿金", dt.date(2023, 1, 8), "孤儿基本生活费", "孤儿基本生活费", 1, False, 202212),
    ("2023年1季度城市低保", dt.date(2023, 1, 10), "城市低保", "城乡低保", 1, False, None),
    ("2023年第一季度孤儿金", dt.date(2023, 1, 10), "孤儿基本生活费", "孤儿基本生活费", 1, False,
     None),
    ("三个月低保", dt.date(2023, 4, 10), None, "城乡低保", 2, False, None),
    ("城市低保金", dt.date(2023, 4, 10), "城市低保", "城乡低保", 1, False, None),
]


@pytest.mark.parametrize("memo, paid, fund, family, named, generic, period", CASES)
def test_memo_reading(memo, paid, fund, family, named, generic, period) -> None:
    df = pl.DataFrame({"pay_date": [paid], "card_no": ["6217000000000001"], "amount": [100],
                       "account_name": ["张三"], "memo": [memo]},
                      schema_overrides={"memo": pl.String})
    row = derive("payments", df, load_config()).row(0, named=True)
    assert (row["memo_fund"], row["memo_family"], row["memo_funds"], row["memo_generic"],
            row["memo_period"]) == (fund, family, named, generic, period)


def test_each_memo_read_once_rows_keep_order() -> None:
    memos = ["2023年4月农村低保", "代发"] * 500
    df = pl.DataFrame({"pay_date": [dt.date(2023, 4, 10)] * 1000, "card_no": ["1"] * 1000,
                       "amount": list(range(1000)), "account_name": ["李四"] * 1000, "memo": memos})
    out = derive("payments", df, load_config())
    assert out.get_column("amount").to_list() == list(range(1000))
    assert out.get_column("memo_generic").to_list() == [False, True] * 500
