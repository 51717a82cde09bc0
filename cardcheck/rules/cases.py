"""Canonical frames from plain rows (the rule case files in fixtures/rules/*.yaml).

A case lists only the columns a person would type: dates as '2023-04-15', times as
'2023-04-15 10:30:00', money as integer fen. Derived columns (name keys, months, memo readings)
are filled as the readers fill them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cardcheck.config import Config
from cardcheck.model import SCHEMAS
from cardcheck.normalize.derive import derive


def frame(table: str, rows: list[dict[str, Any]], config: Config) -> pl.DataFrame:
    schema = SCHEMAS[table]
    for row in rows:
        unknown = set(row) - set(schema)
        if unknown:
            raise ValueError(f"{table}: unknown columns {sorted(unknown)}")
    cols: dict[str, pl.Series] = {}
    for col, dtype in schema.items():
        values = [row.get(col) for row in rows]
        if dtype == pl.Date:
            s = pl.Series(col, [None if v is None else str(v) for v in values], dtype=pl.String)
            cols[col] = s.str.to_date("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime) or dtype == pl.Datetime:
            s = pl.Series(col, [None if v is None else str(v) for v in values], dtype=pl.String)
            cols[col] = s.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
        elif dtype == pl.String:
            cols[col] = pl.Series(col, [None if v is None else str(v) for v in values],
                                  dtype=pl.String)
        else:
            cols[col] = pl.Series(col, values, dtype=dtype)
    df = pl.DataFrame(cols)
    if "id_status" in df.columns and "id_number" in df.columns:
        df = df.with_columns(
            pl.when(pl.col("id_status").is_null() & pl.col("id_number").is_not_null())
            .then(pl.lit("ok")).otherwise(pl.col("id_status")).alias("id_status")
        )
    if table == "accounts":
        df = df.with_columns(
            pl.when(pl.col("holder_id_status").is_null() & pl.col("holder_id").is_not_null())
            .then(pl.lit("ok")).otherwise(pl.col("holder_id_status")).alias("holder_id_status")
        )
    return derive(table, df, config)


def frames(tables: dict[str, list[dict[str, Any]]], config: Config) -> dict[str, pl.DataFrame]:
    return {name: frame(name, rows or [], config) for name, rows in tables.items()}
