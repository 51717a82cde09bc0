"""Person names and their comparison key.

The key folds full-width forms, drops spaces, and maps every middle-dot variant of minority names
(· • ・ ･ ‧ ． . ‧ ⋅ ∙ 丶) to one dot, so 阿卜杜·艾力 and 阿卜杜.艾力 compare equal.
"""

from __future__ import annotations

import polars as pl

from cardcheck.normalize.text import clean

DOTS = "[·•・･‧．.⋅∙丶\u00b7\u2027\u2219\u22c5\u30fb\uff65]"


def name(expr: pl.Expr) -> pl.Expr:
    """The name as displayed: cleaned, spaces removed, dots unified."""
    out = clean(expr).str.replace_all(r"\s", "").str.replace_all(DOTS, "·")
    return pl.when(out == "").then(None).otherwise(out)


def name_key(expr: pl.Expr) -> pl.Expr:
    """The comparison key: name() upper-cased (Latin letters in some names)."""
    return name(expr).str.to_uppercase()
