"""A finding's evidence neighbourhood as a rich Tree an inspector can read: the person, their
cards, who holds and opened them, and who else shares the phone, address or account.

ID, card, phone and account numbers are masked unless `unmask` is given, and so are the long
digit runs of names and addresses (cardcheck/masking.py); every label is shown through
`terminal_text` as rich `Text`, never read as markup.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import networkx as nx
from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from cardcheck.graph.explain import Line, Section
from cardcheck.masking import mask_text_value, mask_value, terminal_text

FORWARD = {"member_of": "所在户", "registered_card": "名册登记卡", "paid_to": "发放至",
           "holds": "持有卡", "opened_by": "代办人", "has_phone": "银行预留手机号",
           "has_address": "开户登记地址", "transfers_to": "转出至"}
REVERSE = {"member_of": "户成员", "registered_card": "名册登记对象", "paid_to": "款项来自",
           "holds": "开户人", "opened_by": "代办开户的卡", "has_phone": "预留此手机号的卡",
           "has_address": "登记此地址的卡", "transfers_to": "转入自"}
# a phone edge from a person is the roll's phone (名册联系电话); from a card, the bank's
PERSON_PHONE = ("名册联系电话", "名册登记此电话的人")
ORDER = ("member_of", "registered_card", "holds", "opened_by", "paid_to", "has_phone",
         "has_address", "transfers_to")
TYPE_ORDER = {"person": 0, "household": 1, "card": 2, "phone": 3, "address": 4, "account": 5}


def mask(kind: str, value: str, unmask: bool = False) -> str:
    """110101********0016, 6217****0001, 138****5678 (cardcheck/masking.py); other values
    (addresses, names) with their long digit runs masked."""
    if unmask or not value:
        return value
    form = {"person": "id", "card": "card", "account": "card", "phone": "phone"}.get(kind)
    return mask_value(form, value) if form else mask_text_value(value)


def show_node(attrs: dict[str, Any], node: str, unmask: bool = False) -> str:
    kind, _, value = node.partition(":")
    kind = attrs.get("type") or kind
    label = mask("label", attrs.get("label") or "", unmask)
    if kind == "person":
        ident = "无有效证件号" if value.startswith("~") else mask(kind, value, unmask)
        return f"{label or '（姓名不详）'} {ident}"
    if kind == "household":
        return f"{label or '户'}（户号 {value}）"
    if kind == "card":
        return f"卡 {mask(kind, value, unmask)}" + (f"（开户人 {label}）" if label else "")
    if kind == "account":
        return f"外部账户 {mask(kind, value, unmask)}" + (f"（户名 {label}）" if label else "")
    if kind == "phone":
        return mask(kind, value, unmask)
    return mask(kind, value if kind == "address" else node, unmask)


def yuan(fen: int) -> str:
    """1234567 fen as 12,345.67."""
    return f"{fen // 100:,}.{fen % 100:02d}" if fen >= 0 else "-" + yuan(-fen)


def month(yyyymm: int) -> str:
    return f"{yyyymm // 100}-{yyyymm % 100:02d}"


def show_edge(graph: nx.DiGraph, parent: str, child: str) -> str:
    forward = graph.has_edge(parent, child)
    data = graph.edges[parent, child] if forward else graph.edges[child, parent]
    words = FORWARD if forward else REVERSE
    from_person = graph.nodes[parent if forward else child].get("type") == "person"
    types = [t for t in str(data.get("type", "")).split(",") if t]
    text = "/".join(PERSON_PHONE[0 if forward else 1] if t == "has_phone" and from_person
                    else words.get(t, t) for t in sorted(types, key=_order))
    if data.get("fund"):
        text += f"［{data['fund']}］"
    if data.get("amount") is not None and data.get("months"):
        text += f" {yuan(int(data['amount']))} 元，{data['months']} 个月"
        if data.get("first_month"):
            text += f"（{month(int(data['first_month']))} 至 {month(int(data['last_month']))}）"
    return text


def _order(edge_type: str) -> int:
    return ORDER.index(edge_type) if edge_type in ORDER else len(ORDER)


def evidence_tree(graph: nx.DiGraph, title: str, unmask: bool = False,
                  max_depth: int = 4) -> Tree:
    """Breadth first from the finding's first node present (person, household, card, hub);
    each node appears once, under the first node that reached it."""
    tree = Tree(Text(terminal_text(title, newlines=True), style="bold"))
    seeds = [s for s in graph.graph.get("seeds", []) if s in graph]
    if not seeds:
        tree.add("（该发现涉及的人、户、卡在本次输入中找不到）")
        return tree
    undirected = graph.to_undirected(as_view=True)
    root = seeds[0]
    branches = {root: tree.add(Text(terminal_text(show_node(graph.nodes[root], root, unmask)),
                                    style="bold"))}
    seen, queue = {root}, deque([(root, 0)])
    while queue:
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        children = [c for c in undirected.neighbors(node) if c not in seen]
        children.sort(key=lambda c: (TYPE_ORDER.get(graph.nodes[c].get("type", ""), 9), c))
        for child in children:
            seen.add(child)
            style = "bold" if child in seeds else ""
            label = f"{show_edge(graph, node, child)}：{show_node(graph.nodes[child], child, unmask)}"
            branches[child] = branches[node].add(Text(terminal_text(label), style=style))
            queue.append((child, depth + 1))
    return tree


def section_tree(section: Section) -> Tree:
    """A section of `cardcheck explain` (graph/explain.py) as a tree under its bold title."""
    tree = Tree(Text(terminal_text(section.title), style="bold"))

    def add(branch: Tree, lines: list[Line]) -> None:
        for line in lines:
            add(branch.add(Text(terminal_text(line.text))), line.under)

    add(tree, section.lines)
    return tree


def explain_view(head: list[str], facts: list[Section], graph: nx.DiGraph, ledger: Section,
                 checklist: Section, unmask: bool = False) -> Group:
    """The whole of `cardcheck explain`: the finding, the facts a visit checks, the ledger, the
    evidence graph and the checklist; every text as rich Text (never markup)."""
    parts: list[Any] = [Text(terminal_text(head[0]), style="bold"),
                        *(Text(terminal_text(line)) for line in head[1:])]
    parts += [section_tree(s) for s in facts]
    parts.append(section_tree(ledger))
    parts.append(evidence_tree(graph, "关联关系（名册、银行账户、代发明细和交易流水）", unmask))
    parts.append(section_tree(checklist))
    return Group(*parts)
