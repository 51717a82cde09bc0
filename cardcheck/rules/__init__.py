"""The rule catalogue: one module per rule, named by its code (card/C01.py …).

`catalogue(config)` returns every rule: the modules' `RULE` objects and the reference-list rules
that configs/references.yaml declares (E01–E05 and any list a province adds).
"""

from __future__ import annotations

import importlib
import pkgutil

from cardcheck.config import Config
from cardcheck.rules.base import Rule
from cardcheck.rules.eligibility.reference_lists import list_rules

GROUPS = ("card", "payment", "eligibility")


def module_rules() -> list[Rule]:
    rules = []
    for group in GROUPS:
        package = importlib.import_module(f"cardcheck.rules.{group}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"cardcheck.rules.{group}.{info.name}")
            rule = getattr(module, "RULE", None)
            if isinstance(rule, Rule):
                rules.append(rule)
    return rules


def catalogue(config: Config) -> list[Rule]:
    """All rules, sorted by code; reference-list rules built from the config."""
    rules = module_rules()
    rules.extend(list_rules(config))
    return sorted(rules, key=lambda r: r.code)


def by_code(config: Config) -> dict[str, Rule]:
    return {rule.code: rule for rule in catalogue(config)}
