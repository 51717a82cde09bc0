"""Turn the mapped text columns of one file into canonical values, and say which rows cannot load.

Each column is read by what it is (IDs, cards, money, dates, funds, direction, yes/no, names,
codes, text); dates and money are parsed once per distinct value. A row with any problem goes to
the rejects with its line, the column header as written, the value and the reason; IDs that fail
their checks are not problems here (they load with an id_status that E09 reports).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from cardcheck.config import Config
from cardcheck.normalize.cards import card_problem, clean_card
from cardcheck.normalize.dates import parse_date, parse_datetime
from cardcheck.normalize.funds import canonical_fund
from cardcheck.normalize.ids import normalise_ids
from cardcheck.normalize.money import MAX_MONTHLY_YUAN, MAX_ROW_YUAN, parse_money, range_problem
from cardcheck.normalize.names import name
from cardcheck.normalize.text import clean, squeeze

ID_COLUMNS = {"id_number": "id_status", "holder_id": "holder_id_status", "agent_id": None,
              "payee_id": None, "official_id": None, "relative_id": None}
CARD_COLUMNS = ("card_no", "counterparty_account")
MONEY_LIMITS = {"monthly_amount": MAX_MONTHLY_YUAN, "amount": MAX_ROW_YUAN,
                "monthly_pension": MAX_MONTHLY_YUAN}
NAME_COLUMNS = ("name", "holder_name", "agent_name", "account_name", "payee_name",
                "official_name", "relative_name", "counterparty_name")
CODE_COLUMNS = ("region_code", "household_id", "batch", "terminal")
DIRECTIONS = {"D": ["借", "借方", "支出", "支", "出", "付", "D", "DR", "DEBIT", "-", "转出", "取"],
              "C": ["贷", "贷方", "收入", "收", "入", "存", "C", "CR", "CREDIT", "+", "转入"]}
YES = ["是", "已备案", "备案", "有", "Y", "YES", "TRUE", "1", "√", "已"]
NO = ["否", "未备案", "没有", "无", "N", "NO", "FALSE", "0", "×", "未"]
# key fields: a row without all of a group's columns cannot be used (any one present is enough)
KEYS = {
    "roll": [(("id_number", "name"), "既无身份证号也无姓名"), (("fund",), "缺少救助类别")],
    "other_roll": [(("id_number", "name"), "既无身份证号也无姓名"), (("fund",), "缺少救助类别")],
    "accounts": [(("card_no",), "缺少卡号")],
    "payments": [(("card_no",), "缺少卡号"), (("amount",), "缺少金额"), (("pay_date",), "缺少发放日期")],
    "transactions": [(("card_no",), "缺少卡号"), (("txn_time",), "缺少交易时间"),
                     (("amount",), "缺少金额")],
    "relatives": [(("official_id",), "缺少干部身份证号"), (("relative_id",), "缺少亲属身份证号")],
}


def date_column(col: str) -> bool:
    return col.endswith("_date")


def _by_unique(df: pl.DataFrame, col: str,
               parser: Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """Add __v_col and __p_col, computed once per distinct raw value."""
    v, p = parser(pl.col(col))
    read = df.select(col).unique().with_columns(v.alias(f"__v_{col}"), p.alias(f"__p_{col}"))
    return df.join(read, on=col, how="left", nulls_equal=True, maintain_order="left")


def _map_words(expr: pl.Expr, table: dict[str, list[str]]) -> pl.Expr:
    key = squeeze(expr).str.to_uppercase()
    lookup = {w.upper(): value for value, words in table.items() for w in words}
    return key.replace_strict(lookup, default=None, return_dtype=pl.String)


def normalise(df: pl.DataFrame, kind: str, config: Config, headers: dict[str, str],
              units: dict[str, str], required: tuple[str, ...] = ()
              ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(loaded rows with canonical values, rejected rows as (line, column, value, reason))."""
    cols = [c for c in df.columns if not c.startswith("__")]
    problems: list[str] = []  # columns whose __p_<col> holds a reject reason

    for col in cols:
        raw = pl.col(col)
        if col in CARD_COLUMNS:
            num = pl.col(f"__num_{col}") if f"__num_{col}" in df.columns else None
            df = df.with_columns(card_problem(raw, num).alias(f"__p_{col}"),
                                 clean_card(raw).alias(f"__v_{col}"))
        elif col in MONEY_LIMITS:
            unit = units.get(col, "yuan")
            df = _by_unique(df, col, lambda e, u=unit: parse_money(e, u))
            rng = range_problem(pl.col(f"__v_{col}"), MONEY_LIMITS[col],
                                allow_negative=kind == "transactions")
            df = df.with_columns(pl.coalesce(pl.col(f"__p_{col}"), rng).alias(f"__p_{col}"))
        elif col == "txn_time":
            df = _by_unique(df, col, parse_datetime)
        elif date_column(col):
            df = _by_unique(df, col, parse_date)
        elif col == "fund" and kind in ("roll", "other_roll"):
            df = _by_unique(df, col, lambda e: _fund(e, config))
        elif col == "direction":
            df = _by_unique(df, col, lambda e: _words(e, DIRECTIONS, "无法识别的借贷方向"))
        elif col == "filed":
            df = _by_unique(df, col, lambda e: _words(e, {"Y": YES, "N": NO}, "无法识别的是/否值"))
        else:
            continue
        problems.append(col)

    if kind == "transactions" and "amount" in cols:
        df = _direction(df, "direction" in cols)
        problems.append("__sign")

    keys = KEYS.get(kind) or [((c,), f"缺少{headers.get(c, c)}") for c in required]
    labels: dict[str, str] = {}
    for group, reason in keys:
        present = [c for c in group if c in cols]
        if not present:
            continue
        labels[f"key_{group[0]}"] = "/".join(headers.get(c, c) for c in present)
        missing = pl.all_horizontal([clean(pl.col(c)).is_null() for c in present])
        df = df.with_columns(pl.when(missing).then(pl.lit(reason)).alias(f"__p_key_{group[0]}"))
        problems.append(f"key_{group[0]}")

    def header(col: str) -> str:
        return labels.get(col) or headers.get(col, col)

    pcols = [f"__p_{c}" for c in problems]
    rejected = pl.any_horizontal([pl.col(p).is_not_null() for p in pcols]) if pcols else pl.lit(False)
    df = df.with_columns(rejected.alias("__rejected"))
    rej = df.filter(pl.col("__rejected")).select(
        pl.col("__line").alias("line"),
        pl.concat_str([pl.when(pl.col(f"__p_{c}").is_not_null()).then(pl.lit(_label(c, header)))
                       for c in problems], separator="；", ignore_nulls=True).alias("column"),
        pl.concat_str([pl.when(pl.col(f"__p_{c}").is_not_null()).then(_raw(c, cols))
                       for c in problems], separator="；", ignore_nulls=True).alias("value"),
        pl.concat_str([pl.col(p) for p in pcols], separator="；", ignore_nulls=True).alias("reason"),
    ) if pcols else pl.DataFrame(schema={"line": pl.Int64, "column": pl.String,
                                         "value": pl.String, "reason": pl.String})
    ok = df.filter(~pl.col("__rejected"))
    ok = ok.with_columns([_value(c, kind) for c in cols])
    if kind == "transactions" and "direction" not in cols and "__v_direction" in ok.columns:
        ok = ok.with_columns(pl.col("__v_direction").alias("direction"))
    for col, status in ID_COLUMNS.items():
        if col in cols:
            num = f"__num_{col}" if f"__num_{col}" in ok.columns else None
            ok = normalise_ids(ok, col, status if status and _has_status(kind, status) else None, num)
    keep = [c for c in ok.columns if not c.startswith("__")] + ["__line"]
    return ok.select(keep), rej


def _has_status(kind: str, status: str) -> bool:
    return status == "holder_id_status" or kind != "accounts"


def _label(col: str, header: Callable[[str], str]) -> str:
    if col == "__sign":
        return header("amount")
    return header(col)


def _raw(col: str, cols: list[str]) -> pl.Expr:
    if col == "__sign":
        return pl.col("amount")
    if col.startswith("key_"):
        return pl.lit(None, dtype=pl.String)
    return pl.col(col)


def _value(col: str, kind: str) -> pl.Expr:
    """The canonical value of a column (parsed values were computed as __v_<col>)."""
    if col in CARD_COLUMNS or col in MONEY_LIMITS or date_column(col) or col in (
            "txn_time", "direction", "filed") or (col == "fund" and kind in ("roll", "other_roll")):
        v = pl.col(f"__v_{col}")
        if col == "filed":
            v = v == "Y"
        if col == "amount" and kind == "transactions":
            v = v.abs()
        return v.alias(col)
    if col in ID_COLUMNS:
        return pl.col(col)
    if col in NAME_COLUMNS:
        return name(pl.col(col)).alias(col)
    if col == "phone":
        return squeeze(pl.col(col)).str.replace_all(r"[-()（）]", "").str.replace(r"^\+?86(1\d{10})$", "$1").alias(col)
    if col in CODE_COLUMNS:
        return squeeze(pl.col(col)).str.replace(r"^(\d+)\.0+$", "$1").alias(col)
    return clean(pl.col(col)).alias(col)


def _fund(expr: pl.Expr, config: Config) -> tuple[pl.Expr, pl.Expr]:
    value = canonical_fund(expr, config)
    problem = pl.when(clean(expr).is_not_null() & value.is_null()).then(
        pl.concat_str([pl.lit("未知的救助类别“"), clean(expr),
                       pl.lit("”（configs/funds.yaml 中没有这个名称或别名）")])
    )
    return value, problem


def _words(expr: pl.Expr, table: dict[str, list[str]], reason: str) -> tuple[pl.Expr, pl.Expr]:
    value = _map_words(expr, table)
    problem = pl.when(clean(expr).is_not_null() & value.is_null()).then(pl.lit(reason))
    return value, problem


def _direction(df: pl.DataFrame, has_column: bool) -> pl.DataFrame:
    """Direction from its column, or from the amount's sign; a negative credit is a problem."""
    amount = pl.col("__v_amount")
    if has_column:
        sign_problem = pl.when((amount < 0) & (pl.col("__v_direction") == "C")).then(
            pl.lit("金额为负数但借贷标志为贷（收入），方向矛盾"))
        direction = pl.col("__v_direction")
    else:
        sign_problem = pl.lit(None, dtype=pl.String)
        direction = pl.when(amount < 0).then(pl.lit("D")).when(amount.is_not_null()).then(pl.lit("C"))
    return df.with_columns(sign_problem.alias("__p___sign"), direction.alias("__v_direction"))
