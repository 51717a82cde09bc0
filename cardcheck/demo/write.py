"""The demo's tables in canonical columns, and writing them out (clean here, messy in mess.py).

Headers are aliases from configs/columns.yaml. Money is written in 元 with two decimals, IDs and
card numbers as text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cardcheck.demo import batch, mess
from cardcheck.demo.county import Demo
from cardcheck.demo.files import FILES, PRECISION_LOST_TEXT, text_frame
from cardcheck.errors import CardcheckError
from cardcheck.model import conform


def canonical(demo: Demo, monthly: bool = True) -> dict[str, pl.DataFrame]:
    """Every table in its canonical columns (model.py), as the readers should load them."""
    w = demo.world
    acc = w.accounts.with_columns(
        pl.when(pl.col("precision_lost")).then(pl.lit(PRECISION_LOST_TEXT))
        .otherwise(pl.col("holder_id")).alias("holder_id"),
        pl.when(pl.col("precision_lost")).then(pl.lit("precision_lost"))
        .otherwise(pl.lit("ok")).alias("holder_id_status"),
    )
    tables = {
        "roll": w.roll.sort("hid", "slot", "fund", "pid"),
        "accounts": acc,
        **({"payments": demo.payments, "transactions": demo.transactions} if monthly else {}),
        **{k: v.with_columns(pl.lit("ok").alias("id_status")) for k, v in w.lists.items()},
        "officials": w.officials.with_columns(pl.lit("ok").alias("id_status")),
        "relatives": w.relatives,
        "other_roll": w.other_roll.with_columns(pl.lit("ok").alias("id_status")),
    }
    return {k: conform(df, k) for k, df in tables.items()}


def inputs_yaml(names: dict[str, str]) -> str:
    refs = ", ".join(f"{k}: {names[k]}" for k in
                     ("deaths", "prisoners", "payroll", "business", "pensions", "officials", "relatives"))
    return (
        "# Which file is which: cardcheck check --inputs <this folder>\n"
        f"roll: {names['roll']}\n"
        f"accounts: {names['accounts']}\n"
        f"payments: [{names['payments']}]\n"
        f"transactions: [{names['transactions']}]\n"
        f"refs: {{{refs}}}\n"
        f"other_rolls: [{names['other_roll']}]\n"
    )


def write_all(demo: Demo, out: Path, clean: bool) -> dict[str, int]:
    """Write every file, inputs.yaml and truth.csv into `out`; returns rows per table."""

    if out.exists() and not out.is_dir():
        raise CardcheckError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    tables = canonical(demo, monthly=False)
    names: dict[str, str] = {}
    counts = {t: df.height for t, df in tables.items()}
    for table, df in tables.items():
        if clean:
            names[table] = FILES[table] + ".csv"
            text_frame(df, table).write_csv(out / names[table])
        else:
            names[table] = mess.write(demo, table, df, out)
    names["payments"] = FILES["payments"] + ".csv"
    names["transactions"] = FILES["transactions"] + ".csv"
    counts["payments"] = counts["transactions"] = 0
    # the months before the batch's, for `cardcheck precheck --payments`
    history = out / (batch.HISTORY + ".csv")
    with open(out / names["payments"], "wb") as pf, open(out / names["transactions"], "wb") as tf, \
            open(history, "wb") as hf:
        if not clean:
            pf.write(b"\xef\xbb\xbf")  # the bank's export starts with a BOM
            hf.write(b"\xef\xbb\xbf")
        for i, (pays, txns) in enumerate(demo.months()):
            pays, txns = conform(pays, "payments"), conform(txns, "transactions")
            if clean:
                ptext, ttext = text_frame(pays, "payments"), text_frame(txns, "transactions")
            else:
                ptext, ttext = mess.payments(pays), mess.transactions(txns, i)
            ptext.write_csv(pf, include_header=i == 0)
            ttext.write_csv(tf, include_header=i == 0)
            if i + 1 < batch.MONTH:
                ptext.write_csv(hf, include_header=i == 0)
            counts["payments"] += pays.height
            counts["transactions"] += txns.height
    lines = batch.batch_lines(demo.world, demo.truth, demo.seed)
    data, batch_truth = batch.batch_text(lines, clean)
    (out / (batch.BATCH + ".csv")).write_bytes(data)
    batch_truth.write_csv(out / (batch.BATCH + "_truth.csv"))
    counts["batch"] = lines.height
    for stale in out.glob("*"):  # a previous run in the other mode left other extensions
        if stale.is_file() and stale.stem in FILES.values() and stale.name not in names.values():
            stale.unlink()
    (out / "inputs.yaml").write_text(inputs_yaml(names), encoding="utf-8")
    demo.truth.write_csv(out / "truth.csv")
    return counts
