"""The identity graph: who is tied to which household, card, phone, address and outside account.

The full typed graph is built as two polars frames (nodes, edges) by group-bys, never row by row:

  nodes  person:<ID> (or person:~<household>/<name key>, person:~<name key> without a usable ID),
         household:<id>, card:<no>, phone:<digits>, address:<text>, account:<no> (outside)
  edges  member_of        person → household          (roll)
         registered_card  person → card              (roll; funds listed)
         paid_to          household|person → card    (payments, one edge per payer, fund and
                                                       card, with amount, months, first/last)
         holds            person → card              (accounts holder)
         opened_by        card → person              (accounts agent)
         has_phone        card|person → phone        (accounts phone, roll phone)
         has_address      card → address             (accounts address)
         transfers_to     card → account|card        (debits with a counterparty; totals)

networkx only sees small graphs: `build_projection` (households and the identifiers two or more
of them share) and `neighbourhood` (a finding's evidence, a few hops around it).
`largest_hubs` ranks shared identifiers for the terminal report. The GraphML export lives in
graph_export.py.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import networkx as nx
import polars as pl

from cardcheck.config import Config, load_config
from cardcheck.model import ID_USABLE, empty
from cardcheck.rules.card.C04 import hub_edges
from cardcheck.rules.card.common import ID_LIKE, attribute

Frames = dict[str, pl.DataFrame]
EDGE_COLUMNS = {"src": pl.String, "dst": pl.String, "type": pl.String, "fund": pl.String,
                "amount": pl.Int64, "months": pl.Int32, "first_month": pl.Int32,
                "last_month": pl.Int32}
MONEY = ("amount", "months", "first_month", "last_month")
HUB_NODE = {"holder": "person", "agent": "person", "phone": "phone", "address": "address",
            "account": "account"}


def _table(frames: Frames, name: str) -> pl.DataFrame:
    return frames[name] if name in frames else empty(name)


def _lazy(df: pl.DataFrame) -> nw.LazyFrame:
    return nw.from_native(df.lazy())


def _node(kind: str, value: pl.Expr) -> pl.Expr:
    return pl.lit(kind + ":") + value


def person_id(id_col: str, ok: pl.Expr, key_col: str, scope: pl.Expr | None = None) -> pl.Expr:
    """person:<ID> when the ID is usable, else person:~<scope>/<name key> (or ~<name key>)."""
    fallback = pl.col(key_col) if scope is None else scope + pl.lit("/") + pl.col(key_col)
    return (pl.when(ok).then(_node("person", pl.col(id_col)))
            .otherwise(_node("person", pl.lit("~") + fallback)))


def _roll_person() -> pl.Expr:
    return person_id("id_number", pl.col("id_status").is_in(list(ID_USABLE)), "name_key",
                     pl.col("household_id").fill_null(""))


def _holder() -> pl.Expr:
    return person_id("holder_id", pl.col("holder_id_status").is_in(list(ID_USABLE)),
                     "holder_name_key")


def _agent() -> pl.Expr:
    return person_id("agent_id", pl.col("agent_id").str.contains(ID_LIKE).fill_null(False),
                     "agent_name_key")


def _edges(df: pl.DataFrame, kind: str, *extra: str) -> pl.DataFrame:
    """Edges of one type: src, dst and the `extra` attribute columns; others null."""
    keep = ("src", "dst", *extra)
    df = df.filter(pl.col("src").is_not_null() & pl.col("dst").is_not_null())
    return df.select(
        [pl.lit(kind).alias(c) if c == "type" else
         (pl.col(c) if c in keep else pl.lit(None)).cast(t).alias(c)
         for c, t in EDGE_COLUMNS.items()]).unique(subset=["src", "dst", "type", "fund"])


def _money(df: pl.DataFrame, keys: list[str], month: str) -> pl.DataFrame:
    return df.group_by(keys).agg(
        pl.col("amount").sum().cast(pl.Int64), pl.col(month).n_unique().cast(pl.Int32).alias("months"),
        pl.col(month).min().cast(pl.Int32).alias("first_month"),
        pl.col(month).max().cast(pl.Int32).alias("last_month"))


def edges(frames: Frames, config: Config | None = None) -> pl.DataFrame:
    """Every typed edge of the identity graph (EDGE_COLUMNS), built by group-bys."""
    config = config or load_config()
    roll, acct = _table(frames, "roll"), _table(frames, "accounts")
    pays, txns = _table(frames, "payments"), _table(frames, "transactions")
    card = _node("card", pl.col("card_no"))
    people = roll.with_columns(_roll_person().alias("src"))
    parts = [
        _edges(people.with_columns(_node("household", pl.col("household_id")).alias("dst")),
               "member_of"),
        _edges(people.filter(pl.col("card_no").is_not_null()).group_by("src", "card_no")
               .agg(pl.col("fund").drop_nulls().unique().sort().str.join("、"))
               .with_columns(card.alias("dst")), "registered_card", "fund"),
        _edges(acct.with_columns(_holder().alias("src"), card.alias("dst")), "holds"),
        _edges(acct.with_columns(card.alias("src"), _agent().alias("dst")), "opened_by"),
        _edges(acct.with_columns(card.alias("src"), _node("phone", _digits("phone")).alias("dst")),
               "has_phone"),
        _edges(people.with_columns(_node("phone", _digits("phone")).alias("dst")), "has_phone"),
        _edges(acct.with_columns(card.alias("src"), _node("address", pl.col("address")).alias("dst")),
               "has_address"),
        _paid_to(roll, people, pays, config),
        _transfers(frames, txns),
    ]
    return pl.concat(parts, how="vertical")


def _digits(col: str) -> pl.Expr:
    digits = pl.col(col).str.replace_all(r"\D", "")
    digits = (pl.when((digits.str.len_chars() == 13) & digits.str.starts_with("86"))
              .then(digits.str.slice(2)).otherwise(digits))
    return pl.when(digits.str.len_chars() >= 7).then(digits)


def _paid_to(roll: pl.DataFrame, people: pl.DataFrame, pays: pl.DataFrame,
             config: Config) -> pl.DataFrame:
    """Who each payment pays: the household (household-level funds), the registered person, or
    the person whose usable ID the payment carries."""
    paid = attribute(_lazy(pays), _lazy(roll), config).to_native().collect()
    entity = (people.filter(pl.col("card_no").is_not_null())
              .with_columns(pl.when(pl.col("fund").is_in(config.household_funds))
                            .then(_node("household", pl.col("household_id")))
                            .otherwise(pl.col("src")).alias("_payer"))
              .group_by("card_no", "fund").agg(pl.col("_payer").min()))
    usable_ids = people.filter(pl.col("id_status").is_in(list(ID_USABLE))).select(
        "id_number", pl.col("src").alias("by_id")).unique()
    paid = (paid.join(entity, on=["card_no", "fund"], how="left")
            .join(usable_ids, on="id_number", how="left")
            .with_columns(pl.coalesce("by_id", "_payer").alias("src"),
                          _node("card", pl.col("card_no")).alias("dst")))
    return _edges(_money(paid, ["src", "dst", "fund"], "period"), "paid_to", *MONEY, "fund")


def _transfers(frames: Frames, txns: pl.DataFrame) -> pl.DataFrame:
    ours = _our_cards(frames)
    out = (txns.filter((pl.col("direction") == "D") & pl.col("counterparty_account").is_not_null())
           .with_columns(pl.col("counterparty_account").is_in(ours.implode()).alias("ours")))
    out = out.with_columns(
        _node("card", pl.col("card_no")).alias("src"),
        pl.when(pl.col("ours")).then(_node("card", pl.col("counterparty_account")))
        .otherwise(_node("account", pl.col("counterparty_account"))).alias("dst"))
    return _edges(_money(out, ["src", "dst"], "txn_month"), "transfers_to", *MONEY)


def _our_cards(frames: Frames) -> pl.Series:
    """Every beneficiary card: on the roll, the account master, the payments or transactions."""
    cols = [frames[t].get_column("card_no") for t in ("roll", "accounts", "payments",
                                                        "transactions") if t in frames]
    return pl.concat(cols).drop_nulls().unique() if cols else pl.Series("card_no", [], pl.String)


def nodes(frames: Frames, edge_frame: pl.DataFrame) -> pl.DataFrame:
    """(id, type, value, label): every node of the edges, labelled with a name where known."""
    roll, acct = _table(frames, "roll"), _table(frames, "accounts")
    ids = pl.concat([edge_frame.get_column("src"), edge_frame.get_column("dst")]).unique()
    out = pl.DataFrame({"id": ids}).with_columns(
        pl.col("id").str.extract(r"^([a-z]+):", 1).alias("type"),
        pl.col("id").str.replace(r"^[a-z]+:", "").alias("value"))
    heads = roll.sort((pl.col("relation") != "户主").fill_null(True), "id_number").group_by(
        "household_id").agg(
        pl.col("name").first())
    names = pl.concat([
        roll.select(_roll_person().alias("id"), pl.col("name").alias("label")),
        acct.select(_holder().alias("id"), pl.col("holder_name").alias("label")),
        acct.select(_agent().alias("id"), pl.col("agent_name").alias("label")),
        heads.select(_node("household", pl.col("household_id")).alias("id"),
                     (pl.col("name") + pl.lit("户")).alias("label")),
        acct.select(_node("card", pl.col("card_no")).alias("id"),
                    pl.col("holder_name").alias("label")),
        _table(frames, "transactions").select(
            _node("account", pl.col("counterparty_account")).alias("id"),
            pl.col("counterparty_name").alias("label")),
    ]).drop_nulls().group_by("id").agg(pl.col("label").min())
    return out.join(names, on="id", how="left")


# ---------------------------------------------------------------- shared identifiers


def shared_identifiers(frames: Frames, config: Config | None = None) -> pl.DataFrame:
    """(kind, value, node, household_id, card_no): holder, agent, phone, address (with a house
    number) and outside-account identifiers, kept only when tied to two or more households."""
    roll, acct = _table(frames, "roll"), _table(frames, "accounts")
    links = hub_edges(_lazy(acct), _lazy(roll), ["holder", "agent", "phone", "address"])
    links = links.to_native().collect().select("kind", "value", "card_no", "household_id")
    card_hh = roll.filter(pl.col("card_no").is_not_null() & pl.col("household_id").is_not_null()
                          ).select("card_no", "household_id").unique()
    ours = _our_cards(frames)
    accounts = (_table(frames, "transactions")
                .filter((pl.col("direction") == "D") & pl.col("counterparty_account").is_not_null()
                        & ~pl.col("counterparty_account").is_in(ours.implode()))
                .select(pl.lit("account").alias("kind"), pl.col("counterparty_account").alias("value"),
                        "card_no").unique()
                .join(card_hh, on="card_no", how="inner"))
    links = pl.concat([links, accounts.select(links.columns)], how="vertical").unique()
    shared = (links.group_by("kind", "value").agg(pl.col("household_id").n_unique().alias("n"))
              .filter(pl.col("n") >= 2))
    return links.join(shared, on=["kind", "value"], how="semi").with_columns(
        node=pl.col("kind").replace_strict(HUB_NODE) + pl.lit(":") + pl.col("value"))


def build_projection(frames: Frames, config: Config | None = None) -> nx.Graph:
    """Households joined through the identifiers they share (two or more households each).

    Bipartite form of the household projection: household:<id> — identifier node (person:…,
    phone:…, address:…, account:…); two households are joined when they share a neighbour. A
    phone on k households costs k edges, not k², so a village-wide hub stays cheap.
    """
    links = shared_identifiers(frames, config)
    per = links.group_by("node", "kind", "household_id").agg(pl.len().alias("cards"))
    graph: nx.Graph[str] = nx.Graph()
    for kind in per.get_column("kind").unique().to_list():
        part = per.filter(pl.col("kind") == kind)
        graph.add_nodes_from(part.get_column("node").unique().to_list(), type=HUB_NODE[kind],
                             kind=kind)
    graph.add_nodes_from(("household:" + h for h in links.get_column("household_id").unique()),
                         type="household")
    graph.add_edges_from(
        (n, "household:" + h, {"kind": k, "cards": c})
        for n, k, h, c in per.select("node", "kind", "household_id", "cards").iter_rows())
    return graph


def largest_hubs(frames: Frames, n: int = 10, config: Config | None = None) -> pl.DataFrame:
    """The identifiers tied to the most households: hub (as findings name it: phone:138…),
    hub_type, value, households, cards; most households first."""
    links = shared_identifiers(frames, config)
    return (links.group_by("kind", "value")
            .agg(pl.col("household_id").n_unique().cast(pl.Int64).alias("households"),
                 pl.col("card_no").n_unique().cast(pl.Int64).alias("cards"))
            .sort(["households", "cards", "kind", "value"], descending=[True, True, False, False])
            .head(n)
            .select((pl.col("kind") + pl.lit(":") + pl.col("value")).alias("hub"),
                    pl.col("kind").alias("hub_type"), "value", "households", "cards"))


# ---------------------------------------------------------------- evidence neighbourhood


def hub_nodes(hub: str | None) -> list[str]:
    """The graph nodes a finding's hub may name (holder:ID → person:ID …); [] for memo:…."""
    if not hub or ":" not in hub:
        return []
    kind, value = hub.split(":", 1)
    if kind in ("holder", "agent"):
        return [f"person:{value}", f"person:~{value}"]
    if kind == "account":
        return [f"account:{value}", f"card:{value}"]
    return [f"{kind}:{value}"] if kind in ("phone", "address") else []


def seeds(row: dict[str, Any]) -> list[str]:
    """The nodes a finding names: its person, household, card and hub."""
    out = []
    if row.get("id_number"):
        out.append(f"person:{row['id_number']}")
    if row.get("household_id"):
        out.append(f"household:{row['household_id']}")
    if row.get("card_no"):
        out.append(f"card:{row['card_no']}")
    return out + hub_nodes(row.get("hub"))


def neighbourhood(frames: Frames, finding_row: dict[str, Any], depth: int = 3,
                  per_node: int = 25, config: Config | None = None,
                  edge_frame: pl.DataFrame | None = None) -> nx.DiGraph:
    """The finding's evidence: every node within `depth` hops of its person, household, card
    and hub (at most `per_node` new edges from any one node), with typed edges and labels."""
    all_edges = edge_frame if edge_frame is not None else edges(frames, config)
    start = seeds(finding_row)
    seen, frontier = set(start), list(start)
    kept = []
    for _ in range(depth):
        if not frontier:
            break
        front = pl.Series(frontier, dtype=pl.String).implode()
        step = (all_edges.filter(pl.col("src").is_in(front) | pl.col("dst").is_in(front))
                .with_columns(pl.when(pl.col("src").is_in(front)).then(pl.col("src"))
                              .otherwise(pl.col("dst")).alias("_from"))
                .sort(["_from", "type", "src", "dst"])
                .filter(pl.int_range(pl.len()).over("_from") < per_node))
        kept.append(step.drop("_from"))
        reached = set(step.get_column("src").to_list()) | set(step.get_column("dst").to_list())
        frontier = sorted(reached - seen)
        seen |= reached
    found = pl.concat(kept).unique() if kept else all_edges.clear()
    # one edge per ordered pair: a person may hold, be registered to and be paid on one card
    merged = found.group_by("src", "dst").agg(
        pl.col("type").unique().sort().str.join(","),
        pl.col("fund").drop_nulls().unique().sort().str.join("、"),
        pl.when(pl.col("amount").is_not_null().any()).then(pl.col("amount").sum())
        .cast(pl.Int64).alias("amount"), pl.col("months").max(),
        pl.col("first_month").min(), pl.col("last_month").max())
    graph: nx.DiGraph[str] = nx.DiGraph(seeds=start)
    if found.height:
        for node in nodes(frames, found).iter_rows(named=True):
            graph.add_node(node["id"], type=node["type"], value=node["value"],
                           label=node["label"])
    for e in merged.iter_rows(named=True):
        graph.add_edge(e["src"], e["dst"], **{k: v for k, v in e.items()
                                               if k not in ("src", "dst") and v not in (None, "")})
    return graph
