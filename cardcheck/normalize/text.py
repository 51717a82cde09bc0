"""Clean text cells: full-width forms folded (NFKC), invisible characters and stray spaces removed."""

from __future__ import annotations

import polars as pl

# zero-width space/joiners, BOM, soft hyphen, word joiner
INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"
SPACES = r"[\s\u00a0\u3000]+"


def clean(expr: pl.Expr) -> pl.Expr:
    """NFKC (１２３Ｘ → 123X, full-width brackets → ASCII), drop invisibles, trim; '' → null."""
    out = (
        expr.cast(pl.String)
        .str.normalize("NFKC")
        .str.replace_all(INVISIBLE, "")
        .str.replace_all(SPACES, " ")
        .str.strip_chars()
    )
    return pl.when(out == "").then(None).otherwise(out)


def squeeze(expr: pl.Expr) -> pl.Expr:
    """clean() and then every space removed (for codes and numbers)."""
    out = clean(expr).str.replace_all(r"\s", "")
    return pl.when(out == "").then(None).otherwise(out)
