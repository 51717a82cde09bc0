"""What personal data and hostile text may show: the one masking rule every output follows, and
the one function that makes text from an input safe for a terminal.

Masking (on by default; `--unmask` turns it off where a command offers it):
- an ID of 18 characters or more shows its first six and last four: 110102********1234 (the
  region and the last four; the birth date is always hidden);
- a card or account number of 16 digits or more shows its first four (the bank) and last four:
  6217****5678;
- a phone number of 11 digits or more shows its first three and last four: 138****5678;
- any shorter value (a bad 8-digit ID, a 12-digit account, a phone without its area code) shows
  only its last ⌊n/3⌋ characters, at most four: 12345678 → ****78, so at least two thirds of it
  is hidden and a malformed value never shows more than a proper one;
- in free text (evidence, memos, addresses, rejected cells) every run of 15 or more digits (an
  ID's trailing X included) is masked where it stands: an 18-character run as an ID, 16, 17 and
  19 or more digits as a card, 15 digits (an old ID) showing its last four.
The stars never tell a value's length. The same functions take polars or narwhals expressions
(outputs and rule evidence), `mask_value` and `mask_text_value` plain strings, and `masked` a
whole frame by its column names. 户编号 (household_id) is not personal data and is kept.

`terminal_text` is for every text from an input that reaches a terminal (file and sheet names,
townships, names, addresses, evidence, error messages): control characters (C0, DEL, C1, and
the bidirectional overrides) become visible escapes such as \\x1b, so nothing from a file moves
the cursor, sets a window title or reorders a line. Rich output shows such text as `Text`
(never parsed as markup); `markup=True` escapes rich markup for the places that parse it.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import narwhals.stable.v2 as nw
import polars as pl
from rich.markup import escape

E = TypeVar("E", pl.Expr, nw.Expr)
# form -> (shortest value masked in full form, characters kept at the start, at the end, stars)
FORMS = {"id": (18, 6, 4, 8), "card": (16, 4, 4, 4), "phone": (11, 3, 4, 4)}
SHORT_STARS = "****"
SHORT_MAX = 4  # a too-short value keeps at most this many characters at its end, and n // 3

# the columns of outputs that hold IDs, cards and phones (canonical and findings names)
ID_COLUMNS = ("id_number", "holder_id", "payee_id", "agent_id", "official_id", "relative_id",
              "head_id", "listed_id")
CARD_COLUMNS = ("card_no", "counterparty_account", "odd_card")
PHONE_COLUMNS = ("phone",)
# text columns kept as they are: identifiers of cardcheck's own, not of a person
PLAIN_COLUMNS = ("household_id", "finding_id", "object", "rule", "severity", "rule_name")
# hub kinds (findings' hub column, `kind:value`) whose value is an ID, a phone, a card
ID_HUBS = ("holder", "agent", "official", "person", "relative")
CARD_HUBS = ("account", "card")
# free text: (pattern, replacement), longest runs first, so each pass sees whole runs only
# (a longer run is already broken by stars when a shorter pattern is tried)
TEXT_PASSES = (
    (r"(\d{4})\d{11,}(\d{4})", "card"),  # 19 digits or more
    (r"(\d{6})\d{8}(\d{3}[\dXx])", "id"),  # 18, an ID's X included
    (r"(\d{4})\d{9}(\d{4})", "card"),  # 17
    (r"(\d{4})\d{8}(\d{4})", "card"),  # 16
    (r"()\d{11}(\d{4})", "short"),  # 15: an old ID
)
STARS = {"id": "*" * 8, "card": "****", "short": SHORT_STARS}
DIGIT_RUN = r"\d{15}"  # what free text must hold for any pass to change it
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FILE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _ns(expr: Any) -> Any:
    return pl if isinstance(expr, pl.Expr) else nw


def _mask(expr: E, form: str) -> E:
    ns = _ns(expr)
    shortest, head, tail, stars = FORMS[form]
    n = expr.str.len_chars()
    full = ns.concat_str([expr.str.slice(0, head), ns.lit("*" * stars), expr.str.slice(-tail)])
    # null stays null, '' stays '' (a concat with a null is null)
    short = ns.when(n == 0).then(expr).otherwise(
        ns.concat_str([ns.lit(SHORT_STARS), expr.str.slice(0, 0)]))
    for keep in range(1, SHORT_MAX + 1):  # the last n // 3 characters, at most SHORT_MAX
        short = ns.when(n >= 3 * keep).then(
            ns.concat_str([ns.lit(SHORT_STARS), expr.str.slice(-keep)])).otherwise(short)
    return ns.when(n >= shortest).then(full).otherwise(short)


def mask_id(expr: E) -> E:
    return _mask(expr, "id")


def mask_card(expr: E) -> E:
    return _mask(expr, "card")


def mask_phone(expr: E) -> E:
    return _mask(expr, "phone")


def mask_value(form: str, value: str) -> str:
    """A plain string masked as `form` (id, card or phone)."""
    if not value:
        return value
    shortest, head, tail, stars = FORMS[form]
    if len(value) >= shortest:
        return value[:head] + "*" * stars + value[-tail:]
    keep = min(SHORT_MAX, len(value) // 3)
    return SHORT_STARS + (value[-keep:] if keep else "")


def mask_text(expr: pl.Expr) -> pl.Expr:
    """Free text with every run of 15 or more digits masked where it stands (polars)."""
    out = expr
    for pattern, form in TEXT_PASSES:
        out = out.str.replace_all(pattern, "${1}" + STARS[form] + "${2}")
    return out


def mask_text_value(text: str) -> str:
    """`mask_text` for a plain string."""
    for pattern, form in TEXT_PASSES:
        text = re.sub(pattern, r"\g<1>" + STARS[form] + r"\g<2>", text)
    return text


def mask_hub(expr: pl.Expr) -> pl.Expr:
    """A hub 'kind:value' (holder:1101…, agent:…, phone:138…, account:6217…, address:…): the
    value masked by its kind; text (addresses, names, memo problems) as free text."""
    kind = expr.str.extract(r"^([a-z_]+):", 1)
    value = pl.when(kind.is_null()).then(expr).otherwise(expr.str.replace(r"^[a-z_]+:", ""))
    n = value.str.len_chars()
    masked = (
        pl.when(kind == "region").then(value)  # another region's code names no one
        .when(~value.str.contains(r"^[0-9]+[Xx]?$")).then(mask_text(value))
        .when(kind.is_in(ID_HUBS)).then(mask_id(value))
        .when(kind == "phone").then(mask_phone(value))
        .when(kind.is_in(CARD_HUBS)).then(mask_card(value))
        .when(n == 11).then(mask_phone(value))
        .when(n >= 18).then(mask_id(value))
        .otherwise(mask_card(value))
    )
    return pl.when(kind.is_null()).then(masked).otherwise(kind + pl.lit(":") + masked)


def column_mask(col: str) -> pl.Expr | None:
    """The masking of an output column by its name: None for the columns kept as they are."""
    if col in PLAIN_COLUMNS:
        return None
    c = pl.col(col)
    if col in ID_COLUMNS:
        return mask_id(c)
    if col in CARD_COLUMNS:
        return mask_card(c)
    if col in PHONE_COLUMNS:
        return mask_phone(c)
    if col == "hub":
        return mask_hub(c)
    return mask_text(c)


def masked(df: pl.DataFrame, unmask: bool = False, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """`df` with its ID, card, phone and hub columns masked and every other text column's long
    digit runs masked (`keep`, PLAIN_COLUMNS and non-text columns as they are), unless `unmask`."""
    if unmask or df.is_empty():
        return df
    text = [c for c, t in df.schema.items() if t == pl.String and c not in keep
            and column_mask(c) is not None]
    # free-text columns are rewritten only when some value holds a long digit run
    free = [c for c in text if c not in (*ID_COLUMNS, *CARD_COLUMNS, *PHONE_COLUMNS, "hub")]
    hit = df.select(pl.col(c).str.contains(DIGIT_RUN).any() for c in free).row(0) if free else ()
    skip = {c for c, h in zip(free, hit) if not h}
    exprs = [e.alias(c) for c in text if c not in skip and (e := column_mask(c)) is not None]
    return df.with_columns(exprs) if exprs else df


def terminal_text(value: object, markup: bool = False, newlines: bool = False) -> str:
    """Text from an input as a terminal may show it: every control character (escape
    sequences, carriage returns and line breaks among them; with `newlines`, line breaks
    kept, for a message of several lines) as a visible escape; with `markup`, rich markup
    escaped too (for text printed where rich reads markup)."""
    text = "" if value is None else str(value)
    if newlines:
        return "\n".join(terminal_text(line, markup) for line in text.split("\n"))
    text = CONTROL.sub(lambda m: _visible(m.group(0)), text)
    return escape(text) if markup else text


def visible_controls(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with the control characters of its text cells as visible escapes (terminal_text's),
    tab and line break kept: for files a user may print (CSV), so that no escape sequence from
    an input reaches a terminal through them."""
    cols = [c for c, t in df.schema.items() if t == pl.String]
    if not cols or df.is_empty():
        return df
    pattern = FILE_CONTROL.pattern
    hit = df.select(pl.col(c).str.contains(pattern).any() for c in cols).row(0)
    cols = [c for c, h in zip(cols, hit) if h]
    if not cols:
        return df
    found = df.select(pl.col(c).str.extract_all(pattern).explode().drop_nulls().unique()
                      .implode() for c in cols).row(0)
    exprs = []
    for col, chars in zip(cols, found):
        expr = pl.col(col)
        for char in sorted(chars):
            expr = expr.str.replace_all(char, _visible(char), literal=True)
        exprs.append(expr.alias(col))
    return df.with_columns(exprs)


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
