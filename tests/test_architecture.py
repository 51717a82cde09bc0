"""The package's import graph: no cycle, layers that only import downward, and no import inside a
function except where a command loads what it runs (cardcheck/cli/) or an optional engine."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "cardcheck"
# lowest first: a module may import its own layer and the layers before it
LAYERS = [
    # masking: what personal data and hostile text may show, for progress lines too
    ("cardcheck", "cardcheck.errors", "cardcheck.masking", "cardcheck.progress",
     "cardcheck.configs"),
    ("cardcheck.config",),
    ("cardcheck.model",),
    ("cardcheck.normalize",),
    ("cardcheck.ingest",),
    ("cardcheck.rules",),
    ("cardcheck.engines",),
    ("cardcheck.canonical", "cardcheck.ledger.store"),
    ("cardcheck.report", "cardcheck.graph", "cardcheck.demo"),
    ("cardcheck.ledger",),  # the 表4 round trip and the visit lists are workbooks
    ("cardcheck.pipeline.options",),
    ("cardcheck.outputs",),
    ("cardcheck.pipeline", "cardcheck.tokenize", "cardcheck.inspect", "cardcheck.example",
     "cardcheck.precheck"),
    ("cardcheck.cli", "cardcheck.__main__"),
]
OPTIONAL = ("duckdb", "pyspark")
# the demo generator still imports its writer inside functions (its Demo type and the writers
# import each other); being reworked with the rare demo shapes, then taken out of this list
NOT_YET: tuple[str, ...] = ()


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> tuple[set[str], list[tuple[str, str]]]:
    """(the cardcheck modules `path` imports at module level, incl. under TYPE_CHECKING;
    (function, module) for every import inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: list[tuple[str, str]] = []
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    nested.add(id(sub))
                    names = [sub.module or ""] if isinstance(sub, ast.ImportFrom) else \
                        [a.name for a in sub.names]
                    inside.extend((node.name, n) for n in names)
    top: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in nested:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cardcheck"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                top.add(full if full in known else str(node.module))
        elif isinstance(node, ast.Import):
            top.update(a.name for a in node.names if a.name.startswith("cardcheck"))
    return top, inside


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {d for d in imports(path, known)[0] if d in known and d != name}
            for name, path in known.items()}


def layer(name: str) -> int:
    best = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if name == p or name.startswith(p + "."):
                best = max(best, (len(p), i))
    assert best[1] >= 0, f"{name} is in no layer of tests/test_architecture.py"
    return best[1]


def test_no_import_cycle() -> None:
    edges = {a: deps for a, deps in graph().items() if not a.startswith(NOT_YET)}
    seen: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(edges[node]):
            if seen.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for start in sorted(edges):
        if start not in seen:
            visit(start, [start])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_import_only_downward() -> None:
    upward = [f"{a} imports {b}" for a, deps in graph().items() for b in deps
              if layer(b) > layer(a)]
    assert upward == []


def test_no_import_inside_a_function_but_commands_and_optional_engines() -> None:
    known = modules()
    found = [f"{name}.{fn} imports {mod}"
             for name, path in known.items()
             if not name.startswith(("cardcheck.cli", *NOT_YET))
             for fn, mod in imports(path, known)[1]
             if not mod.startswith(OPTIONAL)]
    assert found == []
