"""Find the header row(s) and map header cells to canonical columns (configs/columns.yaml aliases).

Matching ignores case, spaces and line breaks, full-width forms, `*`/`※` marks of required
fields, trailing colons, and bracketed units and notes (金额（元）, 保障金额（元/月）,
公民身份号码（18位）, 姓名（必填）); 帐 and 账 are alike. The header is the row, among the first
20, that names most canonical columns of the table, or two rows read together when a printed
roll's header spans two (a group row over a name row, names merged down over both).

Aliases are ranked by their order in columns.yaml. When two header cells name one canonical
column, the better-ranked one is used and the other is reported as ignored; two cells of equal
rank (the same header twice) are compared by value once the rows are read, and only when they
disagree does the file stop (`Mapping.twins`).

Some headers mean different things by what else the table holds: in a member roll 户主姓名 and
户主身份证号 name the head of household (head_name/head_id), while in a roll with one row per
household and no member name column they are the beneficiary's own (`ROLES`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from cardcheck.config import TableSpec
from cardcheck.errors import InputError

# a trailing bracket group: a unit (元, 分, 元/月, 元/人·月 …) or a note (18位, 必填, 选填 …)
BRACKET = re.compile(r"^(.+?)[(\[【<]([^()\[\]【】<>]*)[)\]】>]$")
UNIT_WORDS = re.compile(r"^(人民币)?(元|分|万元)([/每](人|户)?[·.]?(月|年))?$|^(元|分)/(人|户)/?月$")
# a table read without these columns can still be used: the sign of the amount gives direction
OPTIONAL_REQUIRED = {"transactions": {"direction"}}
# canonical columns a table can do without when another column stands in for them
STAND_INS = {"transactions": {"amount": ("credit_amount", "debit_amount"),
                              "txn_time": ("txn_date",)}}
# (table, column, stand-in): when `column` is not in the header, `stand-in`'s cell is read as it
ROLES = {
    "roll": {"name": "head_name", "id_number": "head_id"},
    "other_roll": {"name": "head_name", "id_number": "head_id"},
}
HEAD_PAIRS = 2  # header rows read together at most


def header_key(text: str) -> str:
    """The comparison form of a header cell (brackets kept: see `header_forms`)."""
    t = unicodedata.normalize("NFKC", text or "")
    t = re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00a0]", "", t).lower().replace("帐", "账")
    return t.strip("*※").rstrip(":：").strip("*※")


def header_forms(text: str) -> list[tuple[str, str | None]]:
    """The forms a header cell is matched by, best first: (key, unit) — the cell as written,
    then with each trailing bracket group taken off (its unit, when it is one: "fen"/"yuan")."""
    key = header_key(text)
    forms: list[tuple[str, str | None]] = [(key, None)] if key else []
    unit: str | None = None
    while True:
        m = BRACKET.match(key)
        if not m:
            return forms
        key, inner = header_key(m.group(1)), m.group(2)
        if UNIT_WORDS.match(inner):
            unit = unit or ("fen" if inner.startswith("分") else "yuan")
        if key:
            forms.append((key, unit))


@dataclass
class Mapping:
    header_index: int  # 0-based row of the (last) header row among the rows read
    columns: dict[str, int]  # canonical column -> cell index
    headers: dict[str, str]  # canonical column -> header text as written
    units: dict[str, str] = field(default_factory=dict)  # canonical column -> "fen" when 分
    aliases_used: dict[str, str] = field(default_factory=dict)  # canonical -> matched alias
    header_cells: list[str] = field(default_factory=list)
    header_rows: list[list[str]] = field(default_factory=list)  # every header row as written
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (header, why not used)
    twins: list[tuple[str, int, int]] = field(default_factory=list)  # equal-rank duplicates
    roles: dict[str, str] = field(default_factory=dict)  # canonical -> the role read as it


def _alias_index(spec: TableSpec) -> dict[str, tuple[str, int]]:
    """header key -> (canonical column, rank: 0 for the column's own name, then alias order)."""
    out: dict[str, tuple[str, int]] = {}
    for col, aliases in spec.columns.items():
        for rank, alias in enumerate((col, *aliases)):
            out.setdefault(header_key(alias), (col, rank))
    return out


def match_cell(cell: str, index: dict[str, tuple[str, int]]
               ) -> tuple[str | None, str | None, int]:
    """(canonical column, unit, rank) a header cell names, or (None, None, 0)."""
    for key, unit in header_forms(cell):
        if key in index:
            col, rank = index[key]
            return col, unit, rank
    return None, None, 0


def scorer(spec: TableSpec):
    index = _alias_index(spec)

    def score(row: list[str]) -> int:
        return len({c for c in (match_cell(cell, index)[0] for cell in row) if c})

    return score


def _stacked(upper: list[str], lower: list[str], index: dict[str, tuple[str, int]]) -> list[str]:
    """One header row of two: per column the lower cell when it names a column, else the upper
    (a name merged down over both rows), else the two read as one (银行 over 卡号), else the
    lower as written."""
    width = max(len(upper), len(lower))
    out = []
    for i in range(width):
        up = upper[i] if i < len(upper) else ""
        low = lower[i] if i < len(lower) else ""
        if match_cell(low, index)[0]:
            out.append(low)
        elif match_cell(up, index)[0] and (not low.strip() or low.strip() == up.strip()):
            out.append(up)
        elif up.strip() and low.strip() and match_cell(up.strip() + low.strip(), index)[0]:
            out.append(up.strip() + low.strip())
        else:
            out.append(low if low.strip() else up)
    return out


def _candidates(head: list[list[str]], index: dict[str, tuple[str, int]], score
                ) -> tuple[int, int, int, list[str]]:
    """(score, first and last header row, the header as one row): the best single row or pair
    of rows (a pair only when it names more columns than its better row alone)."""
    best: tuple[int, int, int, list[str]] = (0, 0, 0, [])
    for at, row in enumerate(head):
        s = score(row)
        if s > best[0]:
            best = (s, at, at, row)
    s0, at, _, _ = best
    if s0 == 0:
        return best
    for upper, lower in ((at - 1, at), (at, at + 1)):
        if upper < 0 or lower >= len(head):
            continue
        row = _stacked(head[upper], head[lower], index)
        s = score(row)
        if s > best[0]:
            best = (s, upper, lower, row)
    return best


ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gbk": "GBK", "gb18030": "GB18030",
                  "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
# characters of a text read in the wrong encoding: Latin-1 letters (UTF-8 read as Latin-1,
# then saved again), the replacement character, box and private-use characters
MOJIBAKE = re.compile(r"[\u00c0-\u00ff\ufffd\ue000-\uf8ff]")


def _encoding_note(head: list[list[str]], encoding: str | None) -> str:
    """How the text was read, when the header looks garbled (a wrong guess of the encoding)."""
    if encoding is None:
        return ""
    shown = ENCODING_NAMES.get(encoding, encoding.upper())
    garbled = any(MOJIBAKE.search(cell) for row in head for cell in row)
    if not garbled:
        return ""
    return (f"；文件按 {shown} 编码读取，若表头是乱码，说明文件是别的编码（如 Big5、Latin-1），"
            "请在 Excel 中另存为“CSV UTF-8”后重试")


def find_header(head: list[list[str]], spec: TableSpec, kind: str, file: str,
                encoding: str | None = None) -> Mapping:
    """The header row(s) and the column mapping; InputError naming what is wrong. `encoding`:
    how a text file was decoded, named in the message when the header looks garbled."""
    index = _alias_index(spec)
    score = scorer(spec)
    best, first, at, row = _candidates(head, index, score)
    if best == 0:
        shown = "、".join(spec.columns[c][0] for c in spec.required if spec.columns.get(c))
        raise InputError(
            f"{file}：在前 {len(head)} 行中找不到 {kind} 表的表头（没有一格是已知的列名，"
            f"如 {shown}；全部列名见 configs/columns.yaml{_encoding_note(head, encoding)}）"
        )
    cells: dict[str, list[tuple[int, int, str, str | None, str]]] = {}
    for i, cell in enumerate(row):
        col, unit, rank = match_cell(cell, index)
        if col is not None:
            cells.setdefault(col, []).append((rank, i, cell.strip(), unit, header_key(cell)))
    mapping = Mapping(at, {}, {}, header_cells=row,
                      header_rows=[head[r] for r in range(first, at + 1)])
    for col, found in cells.items():
        found.sort()
        rank, i, text, unit, key = found[0]
        mapping.columns[col], mapping.headers[col] = i, text
        mapping.aliases_used[col] = key
        if unit == "fen":
            mapping.units[col] = "fen"
        for other in found[1:]:
            if other[0] == rank:
                mapping.twins.append((col, i, other[1]))
                mapping.ignored.append((other[2], f"与第 {i + 1} 列“{text}”同名，取第 {i + 1} 列"))
            else:
                mapping.ignored.append((other[2], f"已用“{text}”作 {col} 列"))
    for col, role in ROLES.get(kind, {}).items():
        if col not in mapping.columns and role in mapping.columns:
            i = mapping.columns.pop(role)
            mapping.columns[col], mapping.headers[col] = i, mapping.headers.pop(role)
            mapping.aliases_used[col] = mapping.aliases_used.pop(role)
            mapping.roles[col] = role
    named = {h for h, _ in mapping.ignored} | set(mapping.headers.values())
    for cell in row:
        if cell.strip() and cell.strip() not in named:
            mapping.ignored.append((cell.strip(), "不是已知的列名，未读取"))
    stand_ins = STAND_INS.get(kind, {})
    required = [c for c in spec.required if c not in OPTIONAL_REQUIRED.get(kind, set())
                and not (c in stand_ins and any(s in mapping.columns for s in stand_ins[c]))]
    missing = [c for c in required if c not in mapping.columns]
    if missing:
        parts = [f"{c}（已尝试：{'、'.join(spec.columns[c])}）" for c in missing]
        raise InputError(f"{file}：缺少必需的列 {'；'.join(parts)}")
    return mapping
