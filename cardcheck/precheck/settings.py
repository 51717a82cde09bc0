"""The `precheck:` section (configs/precheck.yaml), validated: which rules screen a batch line,
which open ledger findings hold a card, and the words of the hold list's 放行 column.

Each screening rule is linked to the lines its findings concern in one of a few ways
(cardcheck/precheck/link.py): by the line's roll entry (P03, P04, P06), by the people the
entry pays (E06 and every reference-list rule, E01–E05 and a province's own), by the card and
fund of a line the roll does not know (P01), by the card (C03), or by the card and the memo's
problem (C05). A rule with no such link cannot screen a line and is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cardcheck.config import Config
from cardcheck.errors import ConfigError
from cardcheck.report.spec import report_spec

# how a rule's findings reach the batch lines (link.py)
ENTRY, TWICE, PERSON, UNLISTED, CARD, MEMO = "entry", "twice", "person", "unlisted", "card", "memo"
LINKS = {"P01": UNLISTED, "P03": ENTRY, "P04": TWICE, "P06": ENTRY, "E06": PERSON, "C03": CARD,
         "C05": MEMO}
LEDGER_LINKABLE = ("C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08")  # card findings


@dataclass(frozen=True)
class PrecheckSettings:
    rules: tuple[str, ...]
    links: dict[str, str]  # rule code -> how its findings reach a line
    ledger_rules: tuple[str, ...]
    open_statuses: tuple[str, ...]
    release_words: tuple[str, ...]
    hold_words: tuple[str, ...]


def _words(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}.{key}: expected a list of words, got {value!r}")
    return tuple(v.strip() for v in value)


def precheck_settings(config: Config) -> PrecheckSettings:
    """configs/precheck.yaml with the user's --config on top; ConfigError names the key."""
    raw, where = config.precheck, "precheck"
    known = ("rules", "ledger_rules", "open_statuses", "release_words", "hold_words")
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(known)})")
    lists = {spec.code for spec in config.lists.values()}
    links = {**LINKS, **dict.fromkeys(sorted(lists), PERSON)}
    rules = _words(raw, "rules", where)
    for code in rules:
        if code not in links:
            raise ConfigError(
                f"{where}.rules: {code} cannot screen a batch line (the rules that can: "
                f"{', '.join(sorted(links))})")
    ledger_rules = _words(raw, "ledger_rules", where) if raw.get("ledger_rules") else ()
    for code in ledger_rules:
        if code not in LEDGER_LINKABLE:
            raise ConfigError(f"{where}.ledger_rules: {code} is not a card rule (expected some "
                              f"of {', '.join(LEDGER_LINKABLE)})")
    statuses = report_spec(config).statuses
    open_statuses = _words(raw, "open_statuses", where)
    for status in open_statuses:
        if status not in statuses:
            raise ConfigError(f"{where}.open_statuses: {status} is not a status of "
                              f"report.statuses ({'、'.join(statuses)})")
    release, hold = _words(raw, "release_words", where), _words(raw, "hold_words", where)
    both = set(release) & set(hold)
    if both:
        raise ConfigError(f"{where}: {'、'.join(sorted(both))} is both a release and a hold word")
    return PrecheckSettings(rules, {c: links[c] for c in rules}, ledger_rules, open_statuses,
                            release, hold)
