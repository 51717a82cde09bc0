"""Card transactions (交易流水): a credit per payment and the debits a living household makes.

Ordinary cards are drawn on in almost every month a subsidy arrives (ATM withdrawals mostly, POS
purchases, now and then a transfer to a relative's own account); never two months in a row
without a debit, so only planted cards look idle. Planted cards carry a profile: a bit mask of the
months they may be drawn on (C08), or an outside account that takes most of each credit (C07).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cardcheck.demo.payments import PAYER_ACCOUNT

PROFILE = {"card_no": pl.String, "debit_mask": pl.Int64, "funnel_account": pl.String,
           "funnel_name": pl.String}
COLUMNS = ["card_no", "txn_time", "channel", "direction", "amount", "terminal",
           "counterparty_account", "counterparty_name"]
ALL_MONTHS = (1 << 12) - 1


def _time(date: pl.Expr, seconds: pl.Expr) -> pl.Expr:
    return date.cast(pl.Datetime("us")) + pl.duration(seconds=seconds)


def month_chunk(rng: np.random.Generator, pays: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """Transactions of the payments of one month (credits, and the debits that follow them)."""
    credits = pays.select(
        "card_no", "month",
        _time(pl.col("pay_date"),
              pl.lit(pl.Series(rng.integers(8 * 3600 + 1800, 11 * 3600, pays.height))))
        .alias("txn_time"),
        pl.lit("代发").alias("channel"), pl.lit("C").alias("direction"), "amount",
        pl.lit(None, pl.String).alias("terminal"),
        pl.col("payer").replace_strict(PAYER_ACCOUNT, return_dtype=pl.String)
        .alias("counterparty_account"),
        pl.col("payer").alias("counterparty_name"),
    )
    monthly = (
        pays.group_by("card_no", "month")
        .agg(pl.col("amount").sum().alias("total"), pl.col("pay_date").max(), pl.col("t").first())
        .sort("card_no", "month")
        .join(profiles, on="card_no", how="left")
    )
    n = monthly.height
    # per-card traits from the card number, so they hold across the monthly chunks
    serial = monthly["card_no"].str.slice(-7, 6).cast(pl.Int64).to_numpy()
    phase = serial % 5
    month = monthly["month"].to_numpy()
    mask = monthly["debit_mask"].fill_null(-1).to_numpy()
    planted = mask >= 0
    skip = ((month + phase) % 5 == 0) & (rng.random(n) < 0.5)
    allowed = np.where(planted, (np.maximum(mask, 0) >> (month - 1)) & 1 == 1, ~skip)
    funnel = monthly["funnel_account"].is_not_null().to_numpy()
    transfer = serial % 53 == 7  # a few cards send a share on to a relative's own account
    relative = pl.lit("62170") + pl.col("card_no").str.slice(-14)
    m = monthly.with_columns(
        pl.Series("allowed", allowed & ~funnel), pl.Series("funnel", funnel),
        pl.Series("atm", rng.random(n) < 0.75), pl.Series("u", rng.uniform(0.7, 1.0, n)),
        pl.Series("v", rng.uniform(0.3, 0.95, n)), pl.Series("lag", rng.integers(0, 10, n)),
        pl.Series("sec", rng.integers(8 * 3600, 20 * 3600, n)),
        pl.Series("second", rng.random(n) < 0.25), pl.Series("w", rng.uniform(0.05, 0.2, n)),
        pl.Series("transfer", transfer),
        pl.Series("pos_no", rng.integers(10**7, 10**8, n)),
    )
    when = _time(pl.col("pay_date") + pl.duration(days=pl.col("lag")), pl.col("sec"))
    atm_amt = (pl.col("total") * pl.col("u") / 10000).floor().cast(pl.Int64) * 10000
    use_atm = pl.col("atm") & (atm_amt >= 10000)
    base = m.filter(pl.col("allowed"))
    main = base.select(
        "card_no", "month", when.alias("txn_time"),
        pl.when(use_atm).then(pl.lit("ATM")).otherwise(pl.lit("POS")).alias("channel"),
        pl.lit("D").alias("direction"),
        pl.when(use_atm).then(atm_amt)
        .otherwise((pl.col("total") * pl.col("v")).round().cast(pl.Int64)).alias("amount"),
        pl.when(use_atm).then(pl.lit("ATM") + pl.col("t").add(1).cast(pl.String).str.zfill(2)
                              + pl.lit("0") + (pl.col("pos_no") % 3 + 1).cast(pl.String))
        .otherwise(pl.lit("POS") + pl.col("pos_no").cast(pl.String)).alias("terminal"),
        pl.lit(None, pl.String).alias("counterparty_account"),
        pl.lit(None, pl.String).alias("counterparty_name"),
    )
    extra = base.filter(pl.col("second") & ~pl.col("transfer")).select(
        "card_no", "month", (when + pl.duration(hours=2)).alias("txn_time"), pl.lit("POS").alias("channel"),
        pl.lit("D").alias("direction"),
        (pl.col("total") * pl.col("w")).round().cast(pl.Int64).alias("amount"),
        (pl.lit("POS") + (pl.col("pos_no") // 7).cast(pl.String)).alias("terminal"),
        pl.lit(None, pl.String).alias("counterparty_account"),
        pl.lit(None, pl.String).alias("counterparty_name"),
    )
    family = base.filter(pl.col("transfer")).select(
        "card_no", "month", (when + pl.duration(hours=1)).alias("txn_time"),
        pl.lit("转账").alias("channel"), pl.lit("D").alias("direction"),
        (pl.col("total") * pl.col("w")).round().cast(pl.Int64).alias("amount"),
        pl.lit(None, pl.String).alias("terminal"), relative.alias("counterparty_account"),
        pl.lit(None, pl.String).alias("counterparty_name"),
    )
    pooled = m.filter(pl.col("funnel")).select(
        "card_no", "month",
        _time(pl.col("pay_date") + pl.duration(days=pl.col("lag") % 2), pl.col("sec"))
        .alias("txn_time"),
        pl.lit("转账").alias("channel"), pl.lit("D").alias("direction"),
        (pl.col("total") * 0.9).floor().cast(pl.Int64).alias("amount"),
        pl.lit(None, pl.String).alias("terminal"), pl.col("funnel_account").alias("counterparty_account"),
        pl.col("funnel_name").alias("counterparty_name"),
    )
    out = pl.concat([credits, main, extra, family, pooled], how="vertical_relaxed")
    return out.filter(pl.col("amount") > 0).sort("txn_time", "card_no", "direction", "amount") \
        .select(COLUMNS)


def profiles(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Planted card profiles as a frame (a handful of rows)."""
    return pl.DataFrame(rows, schema=PROFILE)
