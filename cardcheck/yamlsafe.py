"""YAML for configuration files and inputs.yaml: PyYAML's safe loader (libyaml's when PyYAML has
it, 8× faster), with aliases bounded.

The safe loader builds only plain values (no tags that run code), but an alias (`*name`) repeats
its anchor's whole value: nine lines of nested aliases (the "billion laughs") stand for 10⁹
values, which every later step that walks the data (merging, validating, hashing, printing an
error) expands — minutes of work, then MemoryError. Here the document's node graph is walked
before anything is built: each node an alias brings back again counts, and past ALIAS_NODES the
file is refused with a ConfigError naming it. A recursive alias (a value that holds itself) is
refused the same way. Real configuration never comes close: an anchor shared by a few keys
repeats a few dozen nodes.
"""

from __future__ import annotations

from typing import Any

import yaml

from cardcheck.errors import ConfigError

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ALIAS_NODES = 10_000  # nodes the aliases of one document may repeat, in all


def load(text: str, label: str) -> Any:
    """The YAML document `text` as plain values (None for an empty one); `label` names the file
    in errors. A syntax error is a yaml.YAMLError, as with yaml.safe_load; too many aliased
    nodes is a ConfigError."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, label)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_aliases(root: yaml.Node, label: str) -> None:
    """ConfigError when the document's aliases repeat more than ALIAS_NODES nodes (a node
    reached a second time was reached through an alias; its children are walked again, as
    building the value would)."""
    seen: set[int] = set()
    repeated = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            repeated += 1
            if repeated > ALIAS_NODES:
                raise ConfigError(
                    f"{label}: its YAML aliases (*name) repeat more than {ALIAS_NODES:,} values "
                    "(an alias nested in aliases, or a value that contains itself); a "
                    "configuration never needs that many: write the values out")
        else:
            seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
