"""Find the header row and map its cells to canonical columns (configs/columns.yaml aliases).

Matching ignores case, spaces, full-width forms and a trailing unit in brackets (金额(元),
金额（分）), and treats 帐 and 账 alike. The header is the row, among the first 20, that names
most canonical columns of the table. Extra columns are ignored, in any order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from cardcheck.config import TableSpec
from cardcheck.errors import InputError

UNIT = re.compile(r"^(.+?)\((元|分|人民币元)\)$")
# a table read without these columns can still be used: the sign of the amount gives direction
OPTIONAL_REQUIRED = {"transactions": {"direction"}}


def header_key(text: str) -> str:
    """The comparison form of a header cell."""
    t = unicodedata.normalize("NFKC", text or "")
    t = re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00a0]", "", t).lower().replace("帐", "账")
    return t.lstrip("*※").rstrip(":：")


@dataclass
class Mapping:
    header_index: int  # 0-based row of the header among the rows read
    columns: dict[str, int]  # canonical column -> cell index
    headers: dict[str, str]  # canonical column -> header text as written
    units: dict[str, str] = field(default_factory=dict)  # canonical column -> "fen" when 分
    aliases_used: dict[str, str] = field(default_factory=dict)  # canonical -> matched alias
    header_cells: list[str] = field(default_factory=list)


def _alias_index(spec: TableSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for col, aliases in spec.columns.items():
        for alias in (col, *aliases):
            out.setdefault(header_key(alias), col)
    return out


def match_cell(cell: str, index: dict[str, str]) -> tuple[str | None, str | None]:
    """(canonical column, unit) a header cell names, or (None, None)."""
    key = header_key(cell)
    if not key:
        return None, None
    if key in index:
        return index[key], None
    m = UNIT.match(key)
    if m and m.group(1) in index:
        return index[m.group(1)], "fen" if m.group(2) == "分" else "yuan"
    return None, None


def scorer(spec: TableSpec):
    index = _alias_index(spec)

    def score(row: list[str]) -> int:
        return len({c for c in (match_cell(cell, index)[0] for cell in row) if c})

    return score


ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gbk": "GBK", "gb18030": "GB18030",
                  "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
# characters of a text read in the wrong encoding: Latin-1 letters (UTF-8 read as Latin-1,
# then saved again), the replacement character, box and private-use characters
MOJIBAKE = re.compile(r"[\u00c0-\u00ff\ufffd\ue000-\uf8ff]")


def _encoding_note(head: list[list[str]], encoding: str | None) -> str:
    """How the text was read, when a wrong guess may be why no header was found."""
    if encoding is None:
        return ""
    shown = ENCODING_NAMES.get(encoding, encoding.upper())
    garbled = any(MOJIBAKE.search(cell) for row in head for cell in row)
    if shown == "UTF-8" and not garbled:
        return ""
    return (f"；文件按 {shown} 编码读取，若表头是乱码，说明文件是别的编码（如 Big5、Latin-1），"
            "请在 Excel 中另存为“CSV UTF-8”后重试")


def find_header(head: list[list[str]], spec: TableSpec, kind: str, file: str,
                encoding: str | None = None) -> Mapping:
    """The header row and its column mapping; InputError naming what is wrong. `encoding`: how
    a text file was decoded, named in the message when no header is found."""
    index = _alias_index(spec)
    score = scorer(spec)
    scores = [score(r) for r in head]
    best = max(scores, default=0)
    if best == 0:
        shown = "、".join(spec.columns[c][0] for c in spec.required if spec.columns.get(c))
        raise InputError(
            f"{file}：在前 {len(head)} 行中找不到 {kind} 表的表头（没有一格是已知的列名，"
            f"如 {shown}；全部列名见 configs/columns.yaml{_encoding_note(head, encoding)}）"
        )
    at = scores.index(best)
    row = head[at]
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    units: dict[str, str] = {}
    used: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, cell in enumerate(row):
        col, unit = match_cell(cell, index)
        if col is None:
            continue
        key = header_key(cell)
        if key in seen:
            raise InputError(
                f"{file}：第 {at + 1} 行表头“{cell.strip()}”出现了两次（第 {seen[key] + 1} 列和"
                f"第 {i + 1} 列），无法确定用哪一列"
            )
        seen[key] = i
        if col in columns:
            raise InputError(
                f"{file}：表头“{headers[col]}”和“{cell.strip()}”都对应 {col} 列，"
                "请删去或改名其中一列"
            )
        columns[col], headers[col] = i, cell.strip()
        used[col] = key
        if unit == "fen":
            units[col] = "fen"
    required = [c for c in spec.required if c not in OPTIONAL_REQUIRED.get(kind, set())]
    missing = [c for c in required if c not in columns]
    if missing:
        parts = [f"{c}（已尝试：{'、'.join(spec.columns[c])}）" for c in missing]
        raise InputError(f"{file}：缺少必需的列 {'；'.join(parts)}")
    return Mapping(at, columns, headers, units, used, row)
