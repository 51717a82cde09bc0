"""What happened to the rows of one input file (the manifest and the summary show it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class FileCounts:
    """What happened to the rows of one input file."""

    file: str
    kind: str
    format: str
    encoding: str | None
    header_line: int | None
    read: int = 0  # every row below the header row
    loaded: int = 0
    rejected: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    title_lines: int = 0  # lines above the header row(s) (not part of `read`)
    # what was read and what was not, for the summary and `cardcheck inspect` (not compared)
    sheets: list[str] = field(default_factory=list, compare=False)  # the sheets read, in order
    ignored_sheets: list[tuple[str, str]] = field(default_factory=list, compare=False)
    ignored_headers: list[tuple[str, str]] = field(default_factory=list, compare=False)
    # rows loaded with a damaged field emptied (each also a line in rejects.csv), among `loaded`
    dropped: int = field(default=0, compare=False)
    # the 填报单位 a title line above the header names (填报单位：柳林县民政局), "" if none
    issuer: str = field(default="", compare=False)


ISSUER = re.compile(r"(?:填报|填表|报送|制表)单位[（(]?(?:盖章)?[)）]?\s*[:：]\s*([^\s,，:：;；]+)")


def issuer_of(rows: list[list[str]]) -> str:
    """The 填报单位 of the title rows above a header ('' when no line names one)."""
    for row in rows:
        match = ISSUER.search(" ".join(c for c in row if c))
        if match:
            return match.group(1)
    return ""
