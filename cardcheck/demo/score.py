"""Compare a run's findings with the demo's truth.csv.

A planted row is found when some finding of its rule matches every non-empty key among
household_id, id_number and card_no; a look-alike must match no finding of its rule. Findings that
match no truth row are "extra" (the demo keeps ordinary households clean, so there should be none).
"""

from __future__ import annotations

import polars as pl

KEYS = ("household_id", "id_number", "card_no")


def _matches(truth: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """(truth row, finding row) pairs of one rule whose keys agree."""
    t = truth.with_row_index("truth_row")
    f = findings.select("rule", *KEYS).with_row_index("finding_row")
    pairs = t.join(f, on="rule", how="inner", suffix="_f")
    ok = pl.lit(True)
    for key in KEYS:
        ok = ok & (pl.col(key).is_null() | (pl.col(key) == pl.col(f"{key}_f")).fill_null(False))
    return pairs.filter(ok).select("truth_row", "finding_row")


def score(findings: pl.DataFrame, truth: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(truth with a `matched` column and `ok`, findings that match no truth row)."""
    truth = truth.with_columns([pl.col(k).cast(pl.String) for k in KEYS])
    pairs = _matches(truth, findings)
    hit = pairs["truth_row"].unique()
    scored = truth.with_row_index("truth_row").with_columns(
        pl.col("truth_row").is_in(hit.implode()).alias("matched")
    ).with_columns(
        pl.when(pl.col("kind") == "planted").then(pl.col("matched"))
        .otherwise(~pl.col("matched")).alias("ok")
    ).drop("truth_row")
    planted_pairs = pairs.join(truth.with_row_index("truth_row").select("truth_row", "kind"),
                               on="truth_row").filter(pl.col("kind") == "planted")
    extra = findings.with_row_index("finding_row").join(
        planted_pairs.select("finding_row").unique(), on="finding_row", how="anti").drop("finding_row")
    return scored, extra


def report(scored: pl.DataFrame, extra: pl.DataFrame) -> str:
    """A few lines: planted found, look-alikes clean, extra findings per rule."""
    planted = scored.filter(pl.col("kind") == "planted")
    looks = scored.filter(pl.col("kind") == "lookalike")
    lines = [(f"planted found: {planted['ok'].sum()}/{planted.height}; "
              f"look-alikes not flagged: {looks['ok'].sum()}/{looks.height}; "
              f"findings matching no planted case: {extra.height}")]
    for row in scored.filter(~pl.col("ok")).iter_rows(named=True):
        keys = ", ".join(f"{k}={row[k]}" for k in KEYS if row[k])
        lines.append(f"  {'MISSED' if row['kind'] == 'planted' else 'FLAGGED'} {row['rule']} {keys}"
                     f" ({row['note']})")
    if extra.height:
        per = extra.group_by("rule").len().sort("rule")
        lines.append("  extra per rule: " + ", ".join(f"{r} {n}" for r, n in per.iter_rows()))
    return "\n".join(lines)
