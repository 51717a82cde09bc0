"""Canonical table schemas: what every reader produces and every rule may rely on.

Conventions: money is integer fen (Int64); dates are Date; months are Int32 yyyymm (202304);
ID and card numbers are strings, always. Names come with a `*_key` twin: the name with spaces,
full-width forms and middle-dot variants folded, for comparison only.

Every loaded row keeps `source_file` and `source_line` (the line as the user sees it in Excel or a
text editor, header = the header's own line), so a finding can be traced to its file and line.
"""

from __future__ import annotations

import polars as pl

from cardcheck.masking import mask_text

# id_status values (normalize/ids.py); E09 reports all but ok/upgraded15.
ID_OK = "ok"
ID_UPGRADED = "upgraded15"  # a valid 15-digit legacy number, upgraded to 18 digits
ID_PRECISION_LOST = "precision_lost"  # stored as a number by Excel: digits lost, never matched
ID_BAD_CHECKSUM = "bad_checksum"
ID_BAD_DATE = "bad_birth_date"
ID_BAD_FORMAT = "bad_format"
ID_MISSING = "missing"
ID_TOKEN = "token"  # a keyed pseudonym from `cardcheck tokenize`: matchable, not checkable
ID_USABLE = (ID_OK, ID_UPGRADED, ID_TOKEN)

# a column's dtype: a class (pl.String) or an instance (pl.Datetime("us"))
Schema = dict[str, pl.DataType | type[pl.DataType]]

SOURCE = {"source_file": pl.String, "source_line": pl.Int64}

ROLL: Schema = {
    **SOURCE,
    "region_code": pl.String,
    "township": pl.String,
    "village": pl.String,
    "household_id": pl.String,
    "name": pl.String,
    "name_key": pl.String,
    "id_number": pl.String,  # 18-digit match key when usable, else the cleaned text as given
    "id_status": pl.String,
    "relation": pl.String,
    "fund": pl.String,  # canonical fund name (configs/funds.yaml)
    "monthly_amount": pl.Int64,  # fen; for household-level funds the household's amount
    "start_date": pl.Date,
    "end_date": pl.Date,
    "card_no": pl.String,
    "payee_name": pl.String,
    "payee_name_key": pl.String,
    "payee_id": pl.String,
    "phone": pl.String,
    # a member roll's head of household, as the row gives them (the member is name/id_number)
    "head_name": pl.String,
    "head_id": pl.String,
    # why the row's card number was dropped (E09 reports it): it could not be trusted
    "card_damage": pl.String,
}

# Rolls of other regions (E07) have the roll's columns and the region they came from.
OTHER_ROLL: Schema = {**ROLL, "source_region": pl.String}

ACCOUNTS: Schema = {
    **SOURCE,
    "card_no": pl.String,
    "holder_name": pl.String,
    "holder_name_key": pl.String,
    "holder_id": pl.String,
    "holder_id_status": pl.String,
    "open_date": pl.Date,
    "branch": pl.String,
    "phone": pl.String,
    "address": pl.String,
    "agent_name": pl.String,
    "agent_name_key": pl.String,
    "agent_id": pl.String,
    "status": pl.String,
}

PAYMENTS: Schema = {
    **SOURCE,
    "pay_date": pl.Date,
    "pay_month": pl.Int32,  # yyyymm of pay_date
    "card_no": pl.String,
    "account_name": pl.String,
    "account_name_key": pl.String,
    "id_number": pl.String,
    "amount": pl.Int64,  # fen
    "memo": pl.String,
    "memo_fund": pl.String,  # the one canonical fund the memo names, null if none or several
    "memo_family": pl.String,  # the fund family it names (城乡低保 for 低保金), null if none
    "memo_funds": pl.Int32,  # how many distinct funds the memo names (0, 1, 2 …)
    "memo_generic": pl.Boolean,  # memo is empty, generic (代发, 工资 …) or only a name
    "memo_period": pl.Int32,  # yyyymm the memo names (2023年04月, 202304, 4月份), null if none
    "batch": pl.String,
    "payer": pl.String,
}

TRANSACTIONS: Schema = {
    **SOURCE,
    "card_no": pl.String,
    "txn_time": pl.Datetime("us"),
    "txn_month": pl.Int32,  # yyyymm
    "channel": pl.String,  # ATM, 柜面, POS, 网银, 手机银行, 转账 (as given, stripped)
    "direction": pl.String,  # "D" debit (money out) / "C" credit (money in)
    "amount": pl.Int64,  # fen, always positive
    "terminal": pl.String,
    "counterparty_account": pl.String,
    "counterparty_name": pl.String,
}

REF_COMMON = {**SOURCE, "id_number": pl.String, "id_status": pl.String, "name": pl.String}
REFERENCES: dict[str, Schema] = {
    "deaths": {**REF_COMMON, "death_date": pl.Date},
    # term: 刑期起止 as written, both dates in one cell (read into start_date/end_date)
    "prisoners": {**REF_COMMON, "start_date": pl.Date, "end_date": pl.Date, "term": pl.String},
    "payroll": {**REF_COMMON, "employer": pl.String, "start_date": pl.Date, "end_date": pl.Date},
    "business": {**REF_COMMON, "role": pl.String, "entity": pl.String, "start_date": pl.Date,
                 "end_date": pl.Date},
    "pensions": {**REF_COMMON, "monthly_pension": pl.Int64, "start_date": pl.Date,
                 "end_date": pl.Date},
    "officials": {**REF_COMMON, "position": pl.String, "region": pl.String,
                  "household_id": pl.String},
    "relatives": {**SOURCE, "official_id": pl.String, "official_name": pl.String,
                  "relative_id": pl.String, "relative_name": pl.String, "relation": pl.String,
                  "filed": pl.Boolean},
}

SCHEMAS: dict[str, Schema] = {
    "roll": ROLL,
    "other_roll": OTHER_ROLL,
    "accounts": ACCOUNTS,
    "payments": PAYMENTS,
    "transactions": TRANSACTIONS,
    **REFERENCES,
}

# Money columns (fen) and date columns per table, for normalisers and fixtures.
MONEY_COLUMNS = {"monthly_amount", "amount", "monthly_pension"}

REJECTS = {
    "file": pl.String,
    "sheet": pl.String,  # the workbook's sheet (null for text files and web pages)
    "line": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
}



def rejects_csv(rejects: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """rejects.csv's columns: a workbook's line as sheet!row (the cell a user opens), a text
    file's as its line number; the cells quoted with their ID and card numbers masked (every
    run of 15+ digits, cardcheck/masking.py) unless `unmask`."""
    line = pl.col("line").cast(pl.String)
    if "sheet" in rejects.columns:
        line = pl.when(pl.col("sheet").is_not_null()).then(
            pl.concat_str([pl.col("sheet"), pl.lit("!"), line])).otherwise(line)
    value = pl.col("value") if unmask else mask_text(pl.col("value"))
    return rejects.select("file", line.alias("line"), "column", value.alias("value"), "reason")


# The findings every rule returns (rules/base.py fills what a rule leaves out with null).
FINDINGS = {
    "rule": pl.String,
    "severity": pl.String,
    "region_code": pl.String,
    "township": pl.String,
    "village": pl.String,
    "household_id": pl.String,
    "id_number": pl.String,
    "name": pl.String,
    "card_no": pl.String,
    "fund": pl.String,
    "hub": pl.String,  # what ties the finding to others: a holder, agent, phone, account …
    "first_month": pl.Int32,  # yyyymm
    "last_month": pl.Int32,
    "months": pl.Int32,  # number of months involved
    "amount": pl.Int64,  # fen: over-paid, unpaid or at risk
    "evidence": pl.String,  # one line an inspector can read aloud
}


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the canonical schema of `table`."""
    return pl.DataFrame(schema=SCHEMAS[table])


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Add missing canonical columns as nulls, cast, and order them; extra columns are dropped."""
    schema = SCHEMAS[table]
    return df.select(
        [
            (pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in schema.items()
        ]
    )
