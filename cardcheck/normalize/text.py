"""Clean text cells: full-width forms folded (NFKC), invisible characters and stray spaces removed,
and the text guards of spreadsheet exports taken off.

Text guards: exports that keep Excel from turning an all-digit field into a number write it as
a formula `="0123…"`, or put a leading apostrophe `'` (Excel's own text prefix) or a tab before
it. The guard is no part of the value, in any column: `="20230105"` is the date 20230105.
"""

from __future__ import annotations

import polars as pl

# zero-width space/joiners, BOM, soft hyphen, word joiner
INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"
SPACES = r"[\s\u00a0\u3000]+"
# ="…" (the whole cell), then a leading apostrophe or backtick; a tab is a space (trimmed)
FORMULA_GUARD = r'^="(.*)"$'
PREFIX_GUARD = r"^['`]"


def clean(expr: pl.Expr) -> pl.Expr:
    """NFKC (１２３Ｘ → 123X, full-width brackets → ASCII), drop invisibles, trim, take off text
    guards (="…", a leading ' or tab); '' → null."""
    out = (
        expr.cast(pl.String)
        .str.normalize("NFKC")
        .str.replace_all(INVISIBLE, "")
        .str.replace_all(SPACES, " ")
        .str.strip_chars()
        .str.replace(FORMULA_GUARD, "$1")
        .str.replace(PREFIX_GUARD, "")
        .str.strip_chars()
    )
    return pl.when(out == "").then(None).otherwise(out)


def squeeze(expr: pl.Expr) -> pl.Expr:
    """clean() and then every space removed (for codes and numbers)."""
    out = clean(expr).str.replace_all(r"\s", "")
    return pl.when(out == "").then(None).otherwise(out)
