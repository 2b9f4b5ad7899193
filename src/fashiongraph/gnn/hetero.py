"""The knowledge graph as a PyTorch Geometric ``HeteroData``.

Every edge table ``(src_type, EDGE, dst_type)`` of the ``KnowledgeGraph`` becomes an edge type
and gets a reverse ``(dst_type, rev_EDGE, src_type)``, so that messages flow both ways (a
customer hears from the articles it bought, an article from its buyers and its attributes).
Local node ids are kept: PyG row ``i`` of ``customer`` is ``customer_idx == i`` and of
``article`` is ``article_idx == i``.

Customers and articles also carry their attribute codes as node inputs (``attr_codes``): the
local id of their ``product_type``, ``colour_group``, ``age_band``... node, or the attribute's
cardinality where the value is missing (a padding slot of its embedding table). Codes are
positions in the graph's attribute node tables. With the dataset's tables at hand they are
looked up for every article (catalogue facts, so an article first sold in the supervision
window, or never sold, still has its attributes; the graph links only sold articles to their
attribute nodes by default); without them they are read from the attribute edge tables. They also carry two activity
inputs (``activity``): ``log1p`` of their number of purchase edges and of the edges' summed
recency weight, because GraphSAGE's mean aggregation cannot see how many neighbours a node has
and popularity is the strongest signal in fashion retail. Both are computed from the graph
itself, so a graph cut at an earlier date gives the activity as of that date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fashiongraph.errors import GraphError
from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED, KnowledgeGraph

log = logging.getLogger(__name__)

PURCHASE_EDGE = (CUSTOMER, PURCHASED, ARTICLE)
"""The edge type the model predicts."""


@dataclass(frozen=True)
class HeteroSpec:
    """The shape of a heterogeneous graph that a model is built for (and checked against).

    Attributes:
        num_nodes: nodes per node type, in the graph's order.
        edge_types: ``(src_type, relation, dst_type)`` triples, reverse edges included.
        attributes: for ``customer`` and ``article``, the attribute node types whose codes
            are node inputs, with their cardinalities, e.g. ``{"article": [("colour_group", 50),
            ...]}``.
    """

    num_nodes: dict[str, int]
    edge_types: list[tuple[str, str, str]]
    attributes: dict[str, list[tuple[str, int]]]

    def to_dict(self) -> dict:
        return {
            "num_nodes": dict(self.num_nodes),
            "edge_types": [list(t) for t in self.edge_types],
            "attributes": {k: [list(a) for a in v] for k, v in self.attributes.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> HeteroSpec:
        return cls(
            num_nodes={k: int(v) for k, v in d["num_nodes"].items()},
            edge_types=[tuple(t) for t in d["edge_types"]],
            attributes={k: [(a, int(n)) for a, n in v] for k, v in d["attributes"].items()},
        )

    def differences(self, other: HeteroSpec) -> list[str]:
        """Readable differences between ``self`` (saved) and ``other`` (current graph)."""
        out = []
        for t in sorted(set(self.num_nodes) | set(other.num_nodes)):
            a, b = self.num_nodes.get(t), other.num_nodes.get(t)
            if a != b:
                out.append(f"{t} nodes: saved {a}, graph {b}")
        if set(self.edge_types) != set(other.edge_types):
            gone = sorted(set(self.edge_types) - set(other.edge_types))
            new = sorted(set(other.edge_types) - set(self.edge_types))
            out.append(f"edge types only in saved model {gone}, only in graph {new}")
        for t in sorted(set(self.attributes) | set(other.attributes)):
            if self.attributes.get(t) != other.attributes.get(t):
                out.append(f"{t} attribute inputs: saved {self.attributes.get(t)}, "
                           f"graph {other.attributes.get(t)}")
        return out


def hetero_spec(graph: KnowledgeGraph) -> HeteroSpec:
    """The ``HeteroSpec`` of ``graph`` without building tensors."""
    edge_types = []
    for name, e in graph.edges.items():
        edge_types.append((e.src_type, name, e.dst_type))
        edge_types.append((e.dst_type, f"rev_{name}", e.src_type))
    attributes = {owner: [(t, graph.num_nodes_of(t)) for t in _attribute_types(graph, owner)]
                  for owner in (CUSTOMER, ARTICLE)}
    return HeteroSpec({t: len(n) for t, n in graph.nodes.items()}, edge_types, attributes)


def to_hetero_data(graph: KnowledgeGraph, dataset=None):
    """Convert ``graph`` to ``torch_geometric.data.HeteroData``.

    Args:
        graph: a knowledge graph with ``customer`` and ``article`` nodes and ``PURCHASED``
            edges.
        dataset: the ``Dataset`` the graph was built from; its article and customer tables
            give the attribute codes of every node (see the module notes). ``None`` reads
            them from the graph's attribute edges.

    Returns:
        HeteroData with, per node type, ``num_nodes`` and ``n_id`` (int64 tensor of shape
        (num_nodes,), the local ids); for ``customer`` and ``article`` also ``attr_codes``
        (int64 tensor of shape (num_nodes, num_attributes)) and ``activity`` (float32 tensor of
        shape (num_nodes, 2)); per edge type and its reverse an ``edge_index`` (int64 tensor of
        shape (2, num_edges)).

    Raises:
        GraphError: the graph lacks customers, articles or purchase edges.
    """
    import torch
    from torch_geometric.data import HeteroData

    for t in (CUSTOMER, ARTICLE):
        if t not in graph.nodes:
            raise GraphError(f"the knowledge graph has no {t!r} nodes (has {list(graph.nodes)})")
    if PURCHASED not in graph.edges:
        raise GraphError(
            f"the knowledge graph has no {PURCHASED!r} edges (has {list(graph.edges)})"
        )

    data = HeteroData()
    for t, nodes in graph.nodes.items():
        data[t].num_nodes = len(nodes)
        data[t].n_id = torch.arange(len(nodes), dtype=torch.long)

    # Each edge table once forward and once reversed, sharing the same id arrays.
    for name, e in graph.edges.items():
        index = torch.from_numpy(np.stack([e.src, e.dst]).astype(np.int64))
        data[e.src_type, name, e.dst_type].edge_index = index
        data[e.dst_type, f"rev_{name}", e.src_type].edge_index = index.flip(0)

    # Attribute codes as node inputs; a missing value takes the padding slot.
    for owner in (CUSTOMER, ARTICLE):
        table = None if dataset is None else (
            dataset.customers if owner == CUSTOMER else dataset.articles)
        data[owner].attr_codes = torch.from_numpy(attribute_codes(graph, owner, table))

    # Activity: purchase count and recency-weighted purchases, log-scaled.
    purchases = graph.edges[PURCHASED]
    for owner, ends in ((CUSTOMER, purchases.src), (ARTICLE, purchases.dst)):
        n = graph.num_nodes_of(owner)
        count = np.bincount(ends, minlength=n)
        weight = np.bincount(ends, weights=purchases.weight, minlength=n)
        data[owner].activity = torch.from_numpy(
            np.log1p(np.stack([count, weight], axis=1)).astype(np.float32))
    return data


def attribute_codes(graph: KnowledgeGraph, owner: str, table: pd.DataFrame | None = None
                    ) -> np.ndarray:
    """int64 array of shape (num_owner_nodes, num_attributes): attribute node ids per node.

    Args:
        graph: the knowledge graph.
        owner: ``"customer"`` or ``"article"``.
        table: the dataset table of ``owner`` (row ``i`` = node ``i``), or ``None`` to read the
            codes from the attribute edges.

    A missing value, or one the graph has no node for, is the attribute's cardinality.
    """
    from fashiongraph.data.schema import ARTICLE_ATTRIBUTES, CUSTOMER_ATTRIBUTES

    key_columns = {a.node_type: a.key_column for a in ARTICLE_ATTRIBUTES + CUSTOMER_ATTRIBUTES}
    types = _attribute_types(graph, owner)
    n = graph.num_nodes_of(owner)
    codes = np.empty((n, len(types)), dtype=np.int64)
    for j, t in enumerate(types):
        codes[:, j] = graph.num_nodes_of(t)
        column = key_columns.get(t)
        if table is not None and column in table:
            if len(table) != n:
                raise GraphError(f"the {owner} table has {len(table)} rows but the graph has "
                                 f"{n} {owner} nodes (got a table of another dataset)")
            values = table[column]
            if not pd.api.types.is_numeric_dtype(values):
                values = values.astype(object).where(values.notna(), None).map(
                    lambda v: None if v is None else str(v))
            found = pd.Index(graph.nodes[t].keys).get_indexer(values.to_numpy())
            codes[found >= 0, j] = found[found >= 0]
        else:
            e = _edge_between(graph, owner, t)
            codes[e.src, j] = e.dst
    return codes


def purchase_pairs(transactions: pd.DataFrame, start, end) -> np.ndarray:
    """Distinct (customer_idx, article_idx) purchases with ``start <= t_dat < end``.

    Args:
        transactions: canonical transactions (``Dataset.transactions``).
        start, end: window bounds (anything ``pd.Timestamp`` accepts).

    Returns:
        int64 array of shape (2, num_pairs), sorted by customer then article.
    """
    t = transactions["t_dat"]
    window = transactions[(t >= pd.Timestamp(start)) & (t < pd.Timestamp(end))]
    pairs = np.unique(np.stack([window["customer_idx"].to_numpy(np.int64),
                                window["article_idx"].to_numpy(np.int64)]), axis=1)
    return pairs.reshape(2, -1)


def _attribute_types(graph: KnowledgeGraph, owner: str) -> list[str]:
    """Attribute node types linked to ``owner`` nodes, in the graph's edge order."""
    return [e.dst_type for e in graph.edges.values()
            if e.src_type == owner and e.dst_type not in (CUSTOMER, ARTICLE)]


def _edge_between(graph: KnowledgeGraph, src_type: str, dst_type: str):
    for e in graph.edges.values():
        if e.src_type == src_type and e.dst_type == dst_type:
            return e
    raise GraphError(f"no edge table from {src_type!r} to {dst_type!r}")
