"""The identity graph: typed edges, the shared-identifier projection, hubs, a finding's
neighbourhood, its tree, and GraphML that networkx reads back."""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from rich.console import Console

from cardcheck.config import load_config
from cardcheck.graph.build import build_projection, edges, largest_hubs, neighbourhood
from cardcheck.graph.export import export_graphml
from cardcheck.graph.tree import evidence_tree
from cardcheck.rules.cases import frames

CONFIG = load_config()
A1, A2, B1, D1, E1, M1 = ("110101195001010016", "110101195203040021", "110101196001010012",
                          "110101195501010019", "110101194501010014", "110101197001010033")
C1, C2, C3, C4 = (f"621700000000000{i}" for i in range(1, 5))
P, Q, X = "13812345678", "13900001111", "6222000000001234"


@pytest.fixture(scope="module")
def county() -> dict[str, pl.DataFrame]:
    roll = [
        {"household_id": "H1", "name": "张三", "relation": "户主", "id_number": A1, "fund": "农村低保",
         "monthly_amount": 30000, "card_no": C1, "phone": P},
        {"household_id": "H1", "name": "王芳", "relation": "配偶", "id_number": A2, "fund": "农村低保",
         "monthly_amount": 20000, "card_no": C1},
        {"household_id": "H2", "name": "李四", "relation": "户主", "id_number": B1, "fund": "农村低保",
         "monthly_amount": 30000, "card_no": C2},
        {"household_id": "H3", "name": "赵六", "relation": "户主", "id_number": D1, "fund": "特困供养",
         "monthly_amount": 60000, "card_no": C3},
        {"household_id": "H4", "name": "孙七", "relation": "户主", "id_number": E1, "fund": "农村低保",
         "monthly_amount": 30000, "card_no": C4},
    ]
    accounts = [
        {"card_no": C1, "holder_name": "张三", "holder_id": A1, "phone": P, "address": "东关村<5>&号"},
        {"card_no": C2, "holder_name": "李四", "holder_id": B1, "phone": P},
        {"card_no": C3, "holder_name": "赵六", "holder_id": D1, "phone": P, "agent_name": "马六",
         "agent_id": M1},
        {"card_no": C4, "holder_name": "孙七", "holder_id": E1, "phone": Q, "agent_name": "马六",
         "agent_id": M1},
    ]
    payments = [
        {"pay_date": "2023-04-10", "card_no": C1, "amount": 50000, "memo": "2023年04月农村低保"},
        {"pay_date": "2023-05-10", "card_no": C1, "amount": 50000, "memo": "2023年05月农村低保"},
        {"pay_date": "2023-04-10", "card_no": C3, "amount": 60000, "memo": "特困供养"},
    ]
    transactions = [
        {"card_no": C1, "txn_time": "2023-04-11 09:00:00", "direction": "D", "amount": 45000,
         "counterparty_account": X, "counterparty_name": "钱八"},
        {"card_no": C2, "txn_time": "2023-04-12 09:00:00", "direction": "D", "amount": 20000,
         "counterparty_account": X, "counterparty_name": "钱八"},
        {"card_no": C4, "txn_time": "2023-04-13 09:00:00", "direction": "D", "amount": 10000,
         "counterparty_account": C1},
    ]
    return frames({"roll": roll, "accounts": accounts, "payments": payments,
                   "transactions": transactions}, CONFIG)


def test_edges_are_typed_and_aggregated(county) -> None:
    e = edges(county, CONFIG)
    counts = dict(e.group_by("type").len().iter_rows())
    assert counts == {"member_of": 5, "registered_card": 5, "holds": 4, "opened_by": 2,
                      "has_phone": 5, "has_address": 1, "paid_to": 2, "transfers_to": 3}
    money = e.filter(pl.col("type").is_in(["paid_to", "transfers_to"])).sort("src", "dst")
    assert money.select("src", "dst", "fund", "amount", "months").rows() == [
        (f"card:{C1}", f"account:{X}", None, 45000, 1),
        (f"card:{C2}", f"account:{X}", None, 20000, 1),
        (f"card:{C4}", f"card:{C1}", None, 10000, 1),
        ("household:H1", f"card:{C1}", "农村低保", 100000, 2),
        (f"person:{D1}", f"card:{C3}", "特困供养", 60000, 1),
    ]


def test_projection_joins_households_through_shared_identifiers(county) -> None:
    graph = build_projection(county, CONFIG)
    assert {frozenset(e) for e in graph.edges()} == {
        frozenset(e) for e in [
            (f"phone:{P}", "household:H1"), (f"phone:{P}", "household:H2"),
            (f"phone:{P}", "household:H3"), (f"person:{M1}", "household:H3"),
            (f"person:{M1}", "household:H4"), (f"account:{X}", "household:H1"),
            (f"account:{X}", "household:H2")]}
    assert graph.number_of_nodes() == 7
    assert graph.nodes[f"phone:{P}"]["type"] == "phone"
    assert graph.nodes[f"person:{M1}"]["kind"] == "agent"
    assert nx.number_connected_components(graph) == 1
    assert "address:东关村<5>&号" not in graph  # one household only


def test_largest_hubs(county) -> None:
    hubs = largest_hubs(county, 5, CONFIG)
    assert hubs.rows() == [
        (f"phone:{P}", "phone", P, 3, 3),
        (f"account:{X}", "account", X, 2, 2),
        (f"agent:{M1}", "agent", M1, 2, 2),
    ]
    assert largest_hubs(county, 1, CONFIG).height == 1


def test_neighbourhood_of_a_finding(county) -> None:
    row = {"rule": "C04", "household_id": "H2", "id_number": B1, "card_no": C2, "hub": f"phone:{P}"}
    graph = neighbourhood(county, row, config=CONFIG)
    assert graph.graph["seeds"][:3] == [f"person:{B1}", "household:H2", f"card:{C2}"]
    assert graph.edges[f"person:{B1}", f"card:{C2}"]["type"] == "holds,registered_card"
    assert graph.edges[f"card:{C2}", f"phone:{P}"]["type"] == "has_phone"
    # the other households on the phone, and where the money went
    for node in (f"card:{C1}", f"card:{C3}", f"account:{X}", f"person:{A1}", f"person:{D1}"):
        assert node in graph, node
    assert graph.edges[f"card:{C2}", f"account:{X}"]["amount"] == 20000
    assert graph.nodes[f"person:{B1}"]["label"] == "李四"
    assert graph.nodes[f"account:{X}"]["label"] == "钱八"
    small = neighbourhood(county, row, depth=1, config=CONFIG)
    assert f"person:{D1}" not in small and f"card:{C3}" in small


def _render(graph: nx.DiGraph, unmask: bool) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(
        evidence_tree(graph, "C04 代管代取", unmask=unmask))
    return out.getvalue()


def test_tree_is_masked_unless_asked(county) -> None:
    row = {"rule": "C04", "household_id": "H2", "id_number": B1, "card_no": C2, "hub": f"phone:{P}"}
    graph = neighbourhood(county, row, config=CONFIG)
    masked = _render(graph, unmask=False)
    assert "李四 110101********0012" in masked
    assert "名册登记卡/持有卡［农村低保］：卡 6217****0002（开户人 李四）" in masked
    assert "预留此手机号的卡：卡 6217****0001（开户人 张三）" in masked
    assert "转出至 200.00 元，1 个月（2023-04 至 2023-04）：外部账户 6222****1234（户名 钱八）" in masked
    for raw in (B1, C2, P, X):
        assert raw not in masked
    unmasked = _render(graph, unmask=True)
    for raw in (B1, C2, P, X):
        assert raw in unmasked


def test_tree_of_a_finding_whose_people_are_gone(county) -> None:
    graph = neighbourhood(county, {"rule": "C01", "id_number": "999"}, config=CONFIG)
    assert "找不到" in _render(graph, unmask=False)


def test_graphml_reads_back(county, tmp_path: Path) -> None:
    path = tmp_path / "county.graphml"
    counts = export_graphml(county, path, CONFIG, unmask=True)
    graph = nx.read_graphml(path)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (counts["nodes"], counts["edges"])
    assert counts == {"nodes": 18, "edges": 27}  # 6 people, 4 households, 4 cards, 2 phones, 1 address, 1 account
    assert graph.nodes[f"person:{A1}"] == {"type": "person", "value": A1, "label": "张三"}
    assert "address:东关村<5>&号" in graph
    paid = [d for _, _, d in graph.edges("household:H1", data=True) if d["type"] == "paid_to"]
    assert paid == [{"type": "paid_to", "fund": "农村低保", "amount": 100000, "months": 2,
                     "first_month": 202304, "last_month": 202305}]
    assert graph.is_directed()


def test_graphml_is_masked_and_keeps_its_shape(county, tmp_path: Path) -> None:
    # two cards and two IDs that mask alike stay two nodes each (#2), with their own edges
    more = dict(county)
    twin_card, twin_id = "6217999999990001", "110101200001010016"  # masks as C1, A1 do
    more["accounts"] = pl.concat([county["accounts"], county["accounts"].head(1).with_columns(
        pl.lit(twin_card).alias("card_no"), pl.lit(twin_id).alias("holder_id"),
        pl.lit("张三丰").alias("holder_name"), pl.lit("东关村6号 身份证" + D1).alias("address"))])
    full, masked = tmp_path / "full.graphml", tmp_path / "masked.graphml"
    assert export_graphml(more, full, CONFIG, unmask=True) == export_graphml(more, masked, CONFIG)
    g_full, g_masked = nx.read_graphml(full), nx.read_graphml(masked)
    assert sorted(d for _, d in g_full.degree()) == sorted(d for _, d in g_masked.degree())
    assert g_masked.nodes["card:6217****0001"]["value"] == "6217****0001"
    assert g_masked.nodes["card:6217****0001#2"]["value"] == "6217****0001"
    assert g_masked.nodes["person:110101********0016#2"]["label"] == "张三丰"
    assert "address:东关村6号 身份证110101********0019" in g_masked
    text = masked.read_text(encoding="utf-8")
    assert [v for v in (A1, A2, B1, D1, E1, M1, C1, C2, C3, C4, P, Q, X, twin_card, twin_id)
            if v in text] == []
