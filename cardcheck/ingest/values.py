"""Turn the mapped text columns of one file into canonical values, and say which rows cannot load.

Each column is read by what it is (IDs, cards, money, dates, funds, direction, yes/no, names,
codes, text); dates and money are parsed once per distinct value. A row with any problem goes to
the rejects with its line, the column header as written, the value and the reason; IDs that fail
their checks are not problems here (they load with an id_status that E09 reports).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from cardcheck.config import Config
from cardcheck.ingest.header import header_key
from cardcheck.model import ID_MISSING
from cardcheck.normalize.cards import card_problem, clean_card
from cardcheck.normalize.dates import (
    ISO_DATE,
    ISO_DATETIME,
    date_problem,
    date_value,
    datetime_problem,
    datetime_value,
    iso_date,
    iso_datetime,
)
from cardcheck.normalize.funds import canonical_fund, fund_lookup
from cardcheck.normalize.ids import id_reading, join_ids
from cardcheck.normalize.money import (
    MAX_MONTHLY_YUAN,
    MAX_ROW_YUAN,
    PLAIN_FEN,
    PLAIN_YUAN,
    parse_money,
    plain_fen,
    range_problem,
)
from cardcheck.normalize.names import name
from cardcheck.normalize.text import clean, squeeze

ID_COLUMNS = {"id_number": "id_status", "holder_id": "holder_id_status", "agent_id": None,
              "payee_id": None, "official_id": None, "relative_id": None,
              "head_id": None}
CARD_COLUMNS = ("card_no", "counterparty_account")
MONEY_LIMITS = {"monthly_amount": MAX_MONTHLY_YUAN, "amount": MAX_ROW_YUAN,
                "monthly_pension": MAX_MONTHLY_YUAN, "credit_amount": MAX_ROW_YUAN,
                "debit_amount": MAX_ROW_YUAN}
PAIR = ("credit_amount", "debit_amount")  # transactions with 收入金额 and 支出金额 columns
NAME_COLUMNS = ("name", "holder_name", "agent_name", "account_name", "payee_name",
                "official_name", "relative_name", "counterparty_name", "head_name")
CODE_COLUMNS = ("region_code", "household_id", "batch", "terminal")
DIRECTIONS: dict[str, tuple[str, ...]] = {
    "D": ("借", "借方", "支出", "支", "出", "付", "D", "DR", "DEBIT", "-", "转出", "取"),
    "C": ("贷", "贷方", "收入", "收", "入", "存", "C", "CR", "CREDIT", "+", "转入")}
YES = ["是", "已备案", "备案", "有", "Y", "YES", "TRUE", "1", "√", "已"]
NO = ["否", "未备案", "没有", "无", "N", "NO", "FALSE", "0", "×", "未"]
# key fields: a row without all of a group's columns cannot be used (any one present is enough)
KEYS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "roll": [(("id_number", "name"), "既无身份证号也无姓名"), (("fund",), "缺少救助类别")],
    "other_roll": [(("id_number", "name"), "既无身份证号也无姓名"), (("fund",), "缺少救助类别")],
    "accounts": [(("card_no",), "缺少卡号")],
    "payments": [(("card_no",), "缺少卡号"), (("amount",), "缺少金额"), (("pay_date",), "缺少发放日期")],
    "transactions": [(("card_no",), "缺少卡号"), (("txn_time",), "缺少交易时间"),
                     (("amount",), "缺少金额")],
    "relatives": [(("official_id",), "缺少干部身份证号"), (("relative_id",), "缺少亲属身份证号")],
}


MAX_CELL_CHARS = 10_000  # longer cells are damage (a broken quote swallowing lines), not data
TOO_LONG = f"单元格超过 {MAX_CELL_CHARS} 个字符，文件可能已损坏（如引号不配对）"
NUL_CELL = "单元格含有空字符（\\0），文件可能已损坏"


def date_column(col: str) -> bool:
    return col.endswith("_date")


@dataclass(frozen=True)
class Fast:
    """Cells already in machine form: `pattern` says which, `value` reads them cheaply, and
    `problem` (if any) checks the value once it is a column, e.g. a date's range."""

    pattern: str
    value: Callable[[pl.Expr], pl.Expr] = lambda e: e
    problem: Callable[[pl.Expr, pl.Expr], pl.Expr] | None = None


@dataclass(frozen=True)
class Staged:
    """A full parser in two steps: the `value` of a cell, then the `problem` of the cell and
    its value, the value read from a column computed once (as one expression the value is
    computed again inside each test of the problem: 13k distinct dates took 8× longer)."""

    value: Callable[[pl.Expr], pl.Expr]
    problem: Callable[[pl.Expr, pl.Expr], pl.Expr]


Parser = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr | None]] | Staged
Step = Callable[[pl.LazyFrame], pl.LazyFrame]


def read_column(df: pl.DataFrame, col: str, parser: Parser, fast: Fast | None = None,
                extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """`df` with `col` read on its own as `normalise` reads it: __v_<col> its value, __p_<col>
    its reject reason (null when it loads). `parser` and `fast` as `column_reader` gives them
    (without `fast`, every cell takes the full parser, once per distinct value; see
    `_reading`)."""
    df, counts = _with_easy(df, {col: (fast, extra)} if fast else {})
    return _reading(df, col, parser, fast, extra, counts.get(col))(df.lazy()).collect()


def _easy(col: str, fast: Fast, extra: tuple[str, ...]) -> pl.Expr:
    raw = pl.col(col)
    easy = raw.str.contains(fast.pattern) | raw.is_null()
    for e in extra:
        easy = easy & ~pl.col(e).fill_null(False)
    return easy.fill_null(False)


def _with_easy(df: pl.DataFrame, fasts: dict[str, tuple[Fast, tuple[str, ...]]]
               ) -> tuple[pl.DataFrame, dict[str, int]]:
    """`df` with __easy_<col> (the fast path reads the cell) for each column of `fasts`, worked
    out for all columns in one parallel query, and how many cells of each column that is."""
    if not fasts:
        return df, {}
    df = df.lazy().with_columns(
        [_easy(c, f, e).alias(f"__easy_{c}") for c, (f, e) in fasts.items()]).collect()
    row = df.select([pl.col(f"__easy_{c}").sum().alias(c) for c in fasts]).row(0, named=True)
    return df, {c: int(row[c] or 0) for c in fasts}


def _reading(df: pl.DataFrame, col: str,
             parser: Parser,
             fast: Fast | None, extra: tuple[str, ...], n_easy: int | None) -> Step:
    """The step adding __v_col and __p_col to a lazy frame of `df`'s rows. Cells `fast` matches
    (and empty cells: __easy_col, `n_easy` of them, see `_with_easy`) are read over the whole
    column at once; the other cells get the full `parser`, once per distinct raw value. A
    machine export is usually all fast: then nothing is de-duplicated, joined or parsed the
    slow way."""
    v_name, p_name = f"__v_{col}", f"__p_{col}"
    keys = [col, *extra]

    def join_slow(lf: pl.LazyFrame, rows: pl.LazyFrame) -> pl.LazyFrame:
        slow = _parse_distinct(rows, col, extra, parser)
        return lf.join(slow.lazy(), on=keys, how="left", nulls_equal=True, maintain_order="left")

    if fast is None or not n_easy:
        return lambda lf: join_slow(lf, df.lazy()).drop(f"__easy_{col}", strict=False)
    raw = pl.col(col)
    if n_easy == df.height:
        use: pl.Expr = pl.lit(True)

        def values(lf: pl.LazyFrame) -> pl.LazyFrame:
            return lf.with_columns(fast.value(raw).alias(v_name),
                                   pl.lit(None, pl.String).alias(p_name))
    else:
        use = pl.col(f"__easy_{col}")
        slow_rows = df.lazy().filter(~use)

        def values(lf: pl.LazyFrame) -> pl.LazyFrame:
            lf = join_slow(lf, slow_rows)
            return lf.with_columns(pl.when(use).then(fast.value(raw)).otherwise(pl.col(v_name))
                                   .alias(v_name))

    def step(lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = values(lf)
        if fast.problem is not None:
            lf = lf.with_columns(pl.when(use).then(fast.problem(raw, pl.col(v_name)))
                                 .otherwise(pl.col(p_name)).alias(p_name))
            lf = lf.with_columns(pl.when(pl.col(p_name).is_null()).then(pl.col(v_name))
                                 .alias(v_name))
        return lf.drop(f"__easy_{col}", strict=False)
    return step


def _parse_distinct(rows: pl.LazyFrame, col: str, extra: tuple[str, ...],
                    parser: Parser) -> pl.DataFrame:
    """The distinct (col, *extra) of `rows` with their parsed __v_col and problem __p_col."""
    distinct = rows.select(col, *extra).unique().collect().lazy()
    v_name, p_name = f"__v_{col}", f"__p_{col}"
    if isinstance(parser, Staged):
        v, p = pl.col(v_name), pl.col(p_name)
        return distinct.with_columns(parser.value(pl.col(col)).alias(v_name)).with_columns(
            parser.problem(pl.col(col), v).cast(pl.String).alias(p_name)).with_columns(
            pl.when(p.is_null()).then(v).alias(v_name)).collect()
    value, problem = parser(pl.col(col))
    problem = pl.lit(None, dtype=pl.String) if problem is None else problem
    return distinct.with_columns(value.alias(v_name), problem.cast(pl.String).alias(p_name)
                                 ).collect()


def column_reader(col: str, kind: str, config: Config, units: dict[str, str],
                  columns: list[str], codes: dict[str, dict[str, tuple[str, ...]]] | None = None,
                  header: str = "") -> tuple[Parser, Fast | None, tuple[str, ...]]:
    """(full parser, fast path, extra key columns) of the canonical column `col` of a `kind`
    file, by what it holds: `units` its money units, `columns` the file's columns, `codes` the
    table's coded values and `header` the column's header as written (direction codes)."""
    if col in CARD_COLUMNS:
        num = f"__num_{col}" if f"__num_{col}" in columns else None
        return (lambda e: (clean_card(e), card_problem(e, pl.col(num) if num else None)),
                FAST["card"], (num,) if num else ())
    if col in MONEY_LIMITS:
        unit = units.get(col, "yuan")
        plain = Fast(PLAIN_FEN if unit == "fen" else PLAIN_YUAN, lambda e: plain_fen(e, unit))
        return (lambda e: parse_money(e, unit)), plain, ()
    if col == "txn_time":
        when = config.dates.spec(kind, col)  # the column's window (configs/dates.yaml)
        return Staged(datetime_value, lambda e, v: datetime_problem(clean(e), v, when)), \
            Fast(ISO_DATETIME, iso_datetime, lambda e, v: datetime_problem(e, v, when)), ()
    if date_column(col):
        when = config.dates.spec(kind, col)  # window and open words (configs/dates.yaml)
        return Staged(date_value, lambda e, v: date_problem(clean(e), v, when)), \
            Fast(ISO_DATE, iso_date, lambda e, v: date_problem(e, v, when)), ()
    if col == "fund" and kind in ("roll", "other_roll"):
        return (lambda e: _fund(e, config)), _canonical_funds(config), ()
    if col == "direction":
        codes = codes or {}
        by_header = codes.get(f"direction.{header_key(header)}") if header else None
        table = {k: list(v) for k, v in (by_header or codes.get("direction", DIRECTIONS)).items()}
        known = "、".join(w for words in table.values() for w in words[:3])
        return (lambda e: _words(e, table, f"无法识别的借贷方向（可用：{known} 等，见 "
                                 "configs/columns.yaml 的 codes.direction）")), Fast(r"^[DC]$"), ()
    if col == "filed":
        return (lambda e: _words(e, {"Y": YES, "N": NO}, "无法识别的是/否值")), Fast(r"^[YN]$"), ()
    if col in NAME_COLUMNS:
        return _text(name), FAST["name"], ()
    if col == "phone":
        return _text(_phone), FAST["phone"], ()
    if col in CODE_COLUMNS:
        return _text(_code), FAST["code"], ()
    return _text(clean), FAST["text"], ()


def _text(fn: Callable[[pl.Expr], pl.Expr]) -> Callable[[pl.Expr], tuple[pl.Expr, None]]:
    return lambda e: (fn(e), None)


def _phone(e: pl.Expr) -> pl.Expr:
    return squeeze(e).str.replace_all(r"[-()（）]", "").str.replace(r"^\+?86(1\d{10})$", "$1")


def _code(e: pl.Expr) -> pl.Expr:
    return squeeze(e).str.replace(r"^(\d+)\.0+$", "$1")


HAN = "\u4e00-\u9fff"
# clean_card and card_problem leave plain digits as they are (unless Excel stored them as a number)
FAST = {"card": Fast(r"^[0-9]+$"), "name": Fast(f"^[{HAN}]{{1,10}}$"),
        "text": Fast(f"^[{HAN}0-9A-Za-z]+$"), "code": Fast(r"^[0-9A-Za-z]+$"),
        "phone": Fast(r"^[0-9]{1,12}$"),
        "date": Fast(ISO_DATE, iso_date, date_problem),
        "datetime": Fast(ISO_DATETIME, iso_datetime, datetime_problem)}


def _map_words(expr: pl.Expr, table: dict[str, list[str]]) -> pl.Expr:
    key = squeeze(expr).str.to_uppercase()
    lookup = {w.upper(): value for value, words in table.items() for w in words}
    return key.replace_strict(lookup, default=None, return_dtype=pl.String)


def normalise(df: pl.DataFrame, kind: str, config: Config, headers: dict[str, str],
              units: dict[str, str], required: tuple[str, ...] = (),
              codes: dict[str, dict[str, tuple[str, ...]]] | None = None
              ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(loaded rows with canonical values, rejected rows as (line, column, value, reason))."""
    cols = [c for c in df.columns if not c.startswith("__")]
    if codes is None:
        spec = config.tables.get("roll" if kind == "other_roll" else kind)
        codes = spec.codes if spec is not None else {}
    problems: list[str] = []  # columns whose __p_<col> holds a reject reason
    df, damaged = _damaged_cells(df, cols)
    problems += damaged

    if kind == "transactions" and "txn_date" in cols:
        df, cols = _date_and_time(df, cols), [c for c in cols if c != "txn_date"]
        if "txn_time" not in headers:
            headers = {**headers, "txn_time": headers.get("txn_date", "txn_date")}
        elif "txn_date" in headers:
            headers = {**headers, "txn_time": f"{headers['txn_date']}/{headers['txn_time']}"}
    readers = {col: column_reader(col, kind, config, units, df.columns, codes, headers.get(col, ""))
               for col in cols if col not in ID_COLUMNS}  # IDs are read below
    df, counts = _with_easy(df, {c: (f, e) for c, (_, f, e) in readers.items() if f is not None})
    lf = df.lazy()
    for col, (parser, fast, extra) in readers.items():
        lf = _reading(df, col, parser, fast, extra, counts.get(col))(lf)
        if col in MONEY_LIMITS:
            rng = range_problem(pl.col(f"__v_{col}"), MONEY_LIMITS[col],
                                allow_negative=kind in ("transactions", "payments"))
            lf = lf.with_columns(pl.coalesce(pl.col(f"__p_{col}"), rng).alias(f"__p_{col}"))
        problems.append(col)

    if "__extra" in df.columns:  # a line with more fields than the header: its cells shifted
        lf = lf.with_columns(pl.when(pl.col("__extra") > 0).then(pl.format(
            "这一行比表头多 {} 个有内容的字段（可能有未加引号的分隔符），各列可能错位",
            pl.col("__extra"))).alias("__p_extra"))
        problems.append("extra")
    pair = [c for c in PAIR if c in cols]
    if kind == "transactions" and "amount" not in cols and pair:
        lf, headers = _from_pair(lf, pair, headers), {**headers, "amount": "/".join(
            headers.get(c, c) for c in pair)}
        cols = [c for c in cols if c not in PAIR] + ["amount"]
        problems = [p for p in problems if p not in PAIR] + ["amount"]
    if kind == "transactions" and "amount" in cols:
        lf = _direction(lf, "direction" in cols, bool(pair) and "direction" not in cols)
        problems.append("__sign")

    # IDs are read before the key checks: a blank ID is one whose status is missing (cleaning
    # every raw cell again to test for blanks cost as much as reading the IDs)
    for col in ID_COLUMNS:
        if col in cols:
            num = f"__num_{col}" if f"__num_{col}" in df.columns else None
            lf = join_ids(lf, id_reading(df, col, num), col, f"__s_{col}", num)

    keys = KEYS.get(kind) or [((c,), f"缺少{headers.get(c, c)}") for c in required]
    labels: dict[str, str] = {}
    for group, reason in keys:
        present = [c for c in group if c in cols]
        if not present:
            continue
        labels[f"key_{group[0]}"] = "/".join(headers.get(c, c) for c in present)
        missing = pl.all_horizontal([_blank(c) for c in present])
        lf = lf.with_columns(pl.when(missing).then(pl.lit(reason)).alias(f"__p_key_{group[0]}"))
        problems.append(f"key_{group[0]}")

    def header(col: str) -> str:
        return labels.get(col) or headers.get(col, col)

    hard = [c for c in problems if _hard(c, kind, required)]
    soft = [c for c in problems if c not in hard]
    rejected = pl.any_horizontal([pl.col(f"__p_{c}").is_not_null() for c in hard]) \
        if hard else pl.lit(False)
    dropped = pl.any_horizontal([pl.col(f"__p_{c}").is_not_null() for c in soft]) \
        if soft else pl.lit(False)
    df = lf.with_columns(rejected.alias("__rejected"), (~rejected & dropped).alias("__dropped")
                         ).collect()

    def lines(rows: pl.LazyFrame, which: list[str], prefix: str, flag: bool) -> pl.LazyFrame:
        reason = pl.concat_str([pl.col(f"__p_{c}") for c in which], separator="；",
                               ignore_nulls=True)
        return rows.select(
            pl.col("__line").alias("line"),
            pl.concat_str([pl.when(pl.col(f"__p_{c}").is_not_null()).then(pl.lit(_label(c, header)))
                           for c in which], separator="；", ignore_nulls=True).alias("column"),
            pl.concat_str([pl.when(pl.col(f"__p_{c}").is_not_null()).then(_raw(c, cols))
                           for c in which], separator="；", ignore_nulls=True).alias("value"),
            (pl.lit(prefix) + reason if prefix else reason).alias("reason"),
            pl.lit(flag).alias("dropped"),
        )

    parts = []
    if problems:
        parts.append(lines(df.lazy().filter(pl.col("__rejected")), problems, "", False))
    if soft:
        parts.append(lines(df.lazy().filter(pl.col("__dropped")), soft, DROPPED, True))
    rej = pl.concat([p.collect() for p in parts], how="vertical") if parts else pl.DataFrame(
        schema={"line": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String,
                "dropped": pl.Boolean})
    ok = df.lazy().filter(~pl.col("__rejected")).with_columns(
        [_value(c, kind, f"__p_{c}" if c in soft or f"bad_{c}" in soft else None,
                f"__p_bad_{c}" if f"bad_{c}" in soft else None) for c in cols])
    if kind in ("roll", "other_roll") and "card_no" in soft:  # for E09: the card to correct
        ok = ok.with_columns(pl.col("__p_card_no").alias("card_damage"))
    if kind == "transactions" and "direction" not in cols and "__v_direction" in df.columns:
        ok = ok.with_columns(pl.col("__v_direction").alias("direction"))
    ok = ok.with_columns([pl.col(f"__s_{col}").alias(status) for col, status in ID_COLUMNS.items()
                          if col in cols and status and _has_status(kind, status)])
    names = ok.collect_schema().names()
    keep = [c for c in names if not c.startswith("__")] + ["__line"]
    return ok.select(keep).collect(), rej


# a damaged cell the row can do without: the row loads with the field empty, and rejects.csv
# has a line for it beginning with this
DROPPED = "字段已置空，行已载入："
# kinds whose rows load without a damaged secondary field; a reference list's row is only as
# good as its dates (a death without its date would be a death before every payment)
SOFT_KINDS = ("roll", "other_roll", "accounts", "payments", "transactions")


def _hard(problem: str, kind: str, required: tuple[str, ...]) -> bool:
    """A problem that makes the row unusable: a key column's, a required column's, the sign of a
    transaction, anything in a reference list."""
    if problem.startswith("key_") or problem in ("__sign", "extra") or kind not in SOFT_KINDS:
        return True
    col = problem.removeprefix("bad_")
    keys = {c for group, _ in KEYS.get(kind, []) for c in group}
    return col in keys or col in required or (kind == "transactions" and col == "direction")


def _damaged_cells(df: pl.DataFrame, cols: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Cells no real table holds: longer than MAX_CELL_CHARS, or with NUL characters (a damaged
    file). The row is rejected (problem column __p_bad_<col>); the cell is emptied so no parser
    works on it, and the rejects show its first characters only."""
    stats = df.lazy().select(
        *[pl.col(c).str.len_bytes().max().alias(f"len_{c}") for c in cols],
        *[pl.col(c).str.contains("\x00", literal=True).any().alias(f"nul_{c}") for c in cols],
    ).collect().row(0, named=True) if df.height else {}
    suspect = [c for c in cols
               if (stats.get(f"len_{c}") or 0) > MAX_CELL_CHARS or stats.get(f"nul_{c}")]
    for c in suspect:
        long = pl.col(c).str.len_chars() > MAX_CELL_CHARS
        nul = pl.col(c).str.contains("\x00", literal=True)
        reason = (pl.when(long).then(pl.lit(TOO_LONG)).when(nul).then(pl.lit(NUL_CELL)))
        shown = pl.when(long).then(pl.concat_str([
            pl.col(c).str.slice(0, 50).str.replace_all(r"\r?\n", "\\n"), pl.lit("…（共 "),
            pl.col(c).str.len_chars().cast(pl.String), pl.lit(" 个字符）")]))
        df = df.with_columns(
            reason.alias(f"__p_bad_{c}"),
            pl.coalesce(shown, pl.col(c).str.replace_all("\x00", "\\0", literal=True))
            .alias(f"__raw_bad_{c}"),
            pl.when(long | nul).then(None).otherwise(pl.col(c)).alias(c),
        )
    return df, [f"bad_{c}" for c in suspect]


def _blank(col: str) -> pl.Expr:
    """The cell is empty (a parsed column: no value and no parse problem)."""
    if col in ID_COLUMNS:
        return pl.col(f"__s_{col}") == ID_MISSING
    return pl.col(f"__v_{col}").is_null() & pl.col(f"__p_{col}").is_null()


def _has_status(kind: str, status: str) -> bool:
    return status == "holder_id_status" or kind != "accounts"


def _label(col: str, header: Callable[[str], str]) -> str:
    if col == "extra":
        return "整行"
    if col == "__sign":
        return header("amount")
    if col.startswith("bad_"):
        return header(col.removeprefix("bad_"))
    return header(col)


def _raw(col: str, cols: list[str]) -> pl.Expr:
    if col == "extra":
        return pl.lit(None, dtype=pl.String)
    if col == "__sign":
        return pl.col("amount")
    if col.startswith("key_"):
        return pl.lit(None, dtype=pl.String)
    if col.startswith("bad_"):
        return pl.col(f"__raw_{col}")
    return pl.col(col)


def _value(col: str, kind: str, problem: str | None = None, damage: str | None = None
           ) -> pl.Expr:
    """The canonical value of a column (computed as __v_<col>); IDs are normalised later. With
    `problem`/`damage` (a field the row loads without), null where the cell had one."""
    if col in ID_COLUMNS:
        return pl.col(col)
    v = pl.col(f"__v_{col}")
    for p in (problem, damage):
        if p is not None:
            v = pl.when(pl.col(p).is_null()).then(v)
    if col == "filed":
        v = v == "Y"
    if col == "amount" and kind == "transactions":  # signed only for a reversed credit
        v = pl.when((v < 0) & (pl.col("__v_direction") == "C")).then(v).otherwise(v.abs())
    return v.alias(col)


def _canonical_funds(config: Config) -> Fast:
    """Fund cells already spelled as configs/funds.yaml names them."""
    lookup = fund_lookup(config)
    names = sorted(n for n in {f.name for f in config.funds.values()} if lookup.get(n) == n)
    return Fast("^(?:" + "|".join(re.escape(n) for n in names) + ")$" if names else r"[^\s\S]")


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


TIME_ONLY = r"^\s*(\d{1,2})[:：]?(\d{2})[:：]?(\d{2})?\s*$"


def _date_and_time(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """txn_time from a date column and a time column (交易日期 20230105, 交易时间 083554): a
    time cell without a date gets the row's date; with no time column the date is the moment."""
    date = clean(pl.col("txn_date"))
    if "txn_time" not in cols:
        return df.with_columns(pl.col("txn_date").alias("txn_time")).drop("txn_date")
    time = clean(pl.col("txn_time"))
    parts = time.str.extract_groups(TIME_ONLY)
    hms = pl.concat_str([parts.struct.field("1").str.zfill(2), parts.struct.field("2"),
                         parts.struct.field("3").fill_null("00")], separator=":")
    joined = pl.when(time.str.contains(TIME_ONLY) & date.is_not_null()).then(
        pl.concat_str([date, pl.lit(" "), hms])).when(time.is_null()).then(date).otherwise(
        pl.col("txn_time"))
    return df.with_columns(joined.alias("txn_time")).drop("txn_date")


def _from_pair(lf: pl.LazyFrame, pair: list[str], headers: dict[str, str]) -> pl.LazyFrame:
    """amount and direction from 收入金额 / 支出金额 columns: the one that holds money is the
    amount (credit C, debit D); both filled is a problem, neither an empty amount."""
    def v(c: str) -> pl.Expr:
        return pl.col(f"__v_{c}").fill_null(0) if c in pair else pl.lit(0, pl.Int64)

    def p(c: str) -> pl.Expr:
        return pl.col(f"__p_{c}") if c in pair else pl.lit(None, pl.String)

    credit, debit = v("credit_amount"), v("debit_amount")
    both = (credit != 0) & (debit != 0)
    raw = pl.concat_str([pl.col(c).fill_null("") for c in pair], separator="/")
    return lf.with_columns(
        pl.when(credit != 0).then(credit).when(debit != 0).then(debit)
        .otherwise(pl.when(pl.any_horizontal([pl.col(f"__v_{c}").is_not_null() for c in pair]))
                   .then(0)).alias("__v_amount"),
        pl.coalesce(p("credit_amount"), p("debit_amount"),
                    pl.when(both).then(pl.lit("收入金额和支出金额同时有值，无法确定方向")))
        .alias("__p_amount"),
        pl.when(credit != 0).then(pl.lit("C")).when(debit != 0).then(pl.lit("D"))
        .alias("__v_pair_direction"),
        raw.alias("amount"),
    )


def _direction(lf: pl.LazyFrame, has_column: bool, from_pair: bool = False) -> pl.LazyFrame:
    """Direction from its column, from the 收入/支出 columns, or from the amount's sign; a
    negative credit is a problem."""
    amount = pl.col("__v_amount")
    if from_pair:
        return lf.with_columns(pl.lit(None, dtype=pl.String).alias("__p___sign"),
                               pl.col("__v_pair_direction").alias("__v_direction"))
    if has_column:  # a negative credit is a reversed credit (netted later, ingest/reversals.py)
        sign_problem = pl.lit(None, dtype=pl.String)
        direction = pl.col("__v_direction")
    else:
        sign_problem = pl.lit(None, dtype=pl.String)
        direction = pl.when(amount < 0).then(pl.lit("D")).when(amount.is_not_null()).then(pl.lit("C"))
    return lf.with_columns(sign_problem.alias("__p___sign"), direction.alias("__v_direction"))
