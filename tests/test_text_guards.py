"""Text guards of spreadsheet exports (="…", a leading apostrophe or tab) are no part of any
value: a guarded date, amount, name or code reads as the same cell without its guard, on the
fast paths and on the full parsers alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from cardcheck.config import load_config
from cardcheck.ingest import load_file
from cardcheck.normalize.text import clean, squeeze

ACCOUNTS = (
    "卡号,户名,证件号码,开户日期,预留手机号,开户网点\n"
    '="6217000000000001","\'张三",="110101195001010016",="20230105",="13800000001",城关支行\n'
    "'6217000000000002,\t李四,'110101196001010012,'2023-01-06,'13800000002,\t城关支行\n"
    '6217000000000003,王五,110101194001010013,"\t2023/1/7",13800000003,城关支行\n'
    "6217000000000004,赵六,110101194501010011,2023-01-08,13800000004,城关支行\n"
)

PAYMENTS = (
    "代发日期,账号,户名,金额,摘要,批次号\n"
    '="20230110",="6217000000000001",张三,="300.00",="2023年01月农村低保",\'NDB01\n'
    "'2023-02-10,'6217000000000001,张三,'300,'2023年02月农村低保,\tNDB02\n"
)


def test_clean_takes_off_every_guard() -> None:
    df = pl.DataFrame({"x": ['="20230105"', "'张三", "\t2023-01-05", "＝＂0123＂", "`0123",
                             "a'b", "'", '="x', None]})
    assert df.select(clean(pl.col("x"))).to_series().to_list() == [
        "20230105", "张三", "2023-01-05", "0123", "0123", "a'b", None, '="x', None]
    assert df.select(squeeze(pl.col("x"))).to_series().to_list()[:3] == [
        "20230105", "张三", "2023-01-05"]


def test_guarded_accounts_load_with_their_dates(tmp_path: Path) -> None:
    (tmp_path / "账户.csv").write_text(ACCOUNTS, encoding="utf-8")
    got = load_file(tmp_path / "账户.csv", "accounts", load_config())
    assert got.rejects.height == 0, got.rejects.to_dicts()
    assert got.frame.select("card_no", "holder_name", "holder_id", "open_date", "phone",
                            "branch").rows() == [
        ("6217000000000001", "张三", "110101195001010016", dt.date(2023, 1, 5), "13800000001",
         "城关支行"),
        ("6217000000000002", "李四", "110101196001010012", dt.date(2023, 1, 6), "13800000002",
         "城关支行"),
        ("6217000000000003", "王五", "110101194001010013", dt.date(2023, 1, 7), "13800000003",
         "城关支行"),
        ("6217000000000004", "赵六", "110101194501010011", dt.date(2023, 1, 8), "13800000004",
         "城关支行"),
    ]


def test_guarded_payments_load_with_amount_memo_and_batch(tmp_path: Path) -> None:
    (tmp_path / "代发.csv").write_text(PAYMENTS, encoding="utf-8")
    got = load_file(tmp_path / "代发.csv", "payments", load_config())
    assert got.rejects.height == 0, got.rejects.to_dicts()
    assert got.frame.select("pay_date", "card_no", "amount", "memo", "memo_fund", "memo_period",
                            "batch").rows() == [
        (dt.date(2023, 1, 10), "6217000000000001", 30000, "2023年01月农村低保", "农村低保",
         202301, "NDB01"),
        (dt.date(2023, 2, 10), "6217000000000001", 30000, "2023年02月农村低保", "农村低保",
         202302, "NDB02"),
    ]
