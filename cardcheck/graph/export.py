"""Write the full typed identity graph as GraphML (for Gephi, yEd, Cytoscape or networkx).

The XML is produced by polars string expressions over the node and edge frames of graph.py,
written in one pass: no networkx object and no Python loop over rows. Size, measured on the demo
county: 50,000 households (124,000 roll rows, 628,000 payments, 1.3 million transactions) give
≈ 325,000 nodes, ≈ 575,000 edges and ≈ 130 MB of GraphML, written in about 7 s. Gephi opens
that; yEd prefers a township (filter the inputs first).
Node ids are the graph's typed ids (person:<ID>, card:<no> …), unmasked: the file is evidence
and is written owner-only (0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import polars as pl

from cardcheck.config import Config
from cardcheck.graph.build import Frames, edges, nodes

NODE_KEYS = {"type": "string", "value": "string", "label": "string"}
EDGE_KEYS = {"type": "string", "fund": "string", "amount": "long", "months": "int",
             "first_month": "int", "last_month": "int"}
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns \
http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
"""


def escape(expr: pl.Expr) -> pl.Expr:
    """Text safe inside XML: control characters dropped, & < > " ' escaped."""
    out = expr.cast(pl.String).str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("'", "&apos;")):
        out = out.str.replace_all(char, entity, literal=True)
    return out


def _data(keys: dict[str, str], prefix: str) -> list[pl.Expr]:
    """<data key=…>value</data> per attribute; '' when the value is null."""
    return [
        pl.when(pl.col(name).is_null()).then(pl.lit(""))
        .otherwise(pl.lit(f'<data key="{prefix}{name}">') + escape(pl.col(name)) + pl.lit("</data>"))
        for name in keys
    ]


def _write_lines(lines: pl.DataFrame, handle: IO[str]) -> None:
    lines.write_csv(handle, include_header=False, quote_style="never")


def export_graphml(frames: Frames, path: Path, config: Config | None = None) -> dict[str, int]:
    """Write the whole graph to `path`; returns the node and edge counts."""
    edge_frame = edges(frames, config).sort("type", "src", "dst", "fund", nulls_last=True)
    node_frame = nodes(frames, edge_frame).sort("id")  # sorted: same inputs, same bytes
    node_lines = node_frame.select(pl.concat_str(
        [pl.lit('<node id="'), escape(pl.col("id")), pl.lit('">'), *_data(NODE_KEYS, "n_"),
         pl.lit("</node>")]).alias("line"))
    edge_lines = edge_frame.select(pl.concat_str(
        [pl.lit('<edge source="'), escape(pl.col("src")), pl.lit('" target="'),
         escape(pl.col("dst")), pl.lit('">'), *_data(EDGE_KEYS, "e_"),
         pl.lit("</edge>")]).alias("line"))
    keys = [f'<key id="n_{k}" for="node" attr.name="{k}" attr.type="{t}"/>'
            for k, t in NODE_KEYS.items()]
    keys += [f'<key id="e_{k}" for="edge" attr.name="{k}" attr.type="{t}"/>'
             for k, t in EDGE_KEYS.items()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(HEADER + "\n".join(keys) + '\n<graph id="cardcheck" edgedefault="directed">\n')
        handle.flush()
        _write_lines(node_lines, handle)
        _write_lines(edge_lines, handle)
        handle.write("</graph>\n</graphml>\n")
    os.chmod(path, 0o600)  # names and ID numbers: owner-only, like the run's other outputs
    return {"nodes": node_frame.height, "edges": edge_frame.height}
