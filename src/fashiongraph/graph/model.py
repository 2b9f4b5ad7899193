"""The knowledge-graph model: node types, edge types and their tables.

The model knows nothing of the engine that runs algorithms on it: the embedded engine projects
it into CSR arrays (``to_csr``), the Neo4j engine loads the same node and edge tables.

Node types are ``customer``, ``article``, one per article attribute (``product_type``,
``colour_group``, ...) and optionally one per customer attribute (``age_band``, ...).
Local node ids are positions inside their type; for customers and articles they equal the
dataset's ``customer_idx`` and ``article_idx``. Global ids put the types one after another:
``global = offsets[type] + local``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.errors import GraphError

CUSTOMER = "customer"
ARTICLE = "article"
PURCHASED = "PURCHASED"


@dataclass
class NodeTable:
    """Nodes of one type.

    Attributes:
        node_type: e.g. ``"customer"``, ``"article"``, ``"colour_group"``.
        keys: array of shape (num_nodes,): the identifying value of each node (customer id,
            article id, attribute code).
        labels: array of shape (num_nodes,): a readable name of each node.
    """

    node_type: str
    keys: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class EdgeTable:
    """Directed edges of one type from ``src_type`` to ``dst_type`` (treated as undirected).

    Attributes:
        src, dst: int32 arrays of shape (num_edges,): local node ids in their types.
        weight: float32 array of shape (num_edges,): edge weight (1 for attribute edges).
    """

    edge_type: str
    src_type: str
    dst_type: str
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


class KnowledgeGraph:
    """Customers, articles and attribute nodes with typed edges, built before a cutoff date.

    Args:
        nodes: node tables; their order fixes the global id layout (customers first, then
            articles, then the attributes).
        edges: edge tables whose endpoint types are among ``nodes``.
        cutoff: the first date whose transactions were *not* used (``None`` if all were).
    """

    def __init__(self, nodes: list[NodeTable], edges: list[EdgeTable], cutoff=None):
        self.nodes: dict[str, NodeTable] = {n.node_type: n for n in nodes}
        self.edges: dict[str, EdgeTable] = {e.edge_type: e for e in edges}
        self.cutoff = None if cutoff is None else pd.Timestamp(cutoff)
        for e in edges:
            for t in (e.src_type, e.dst_type):
                if t not in self.nodes:
                    raise GraphError(f"edge type {e.edge_type!r} refers to unknown node type {t!r}")
        sizes = [len(n) for n in nodes]
        self.offsets: dict[str, int] = dict(
            zip(self.nodes, np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist())
        )
        self.num_nodes = int(sum(sizes))

    @property
    def num_edges(self) -> int:
        return sum(len(e) for e in self.edges.values())

    def num_nodes_of(self, node_type: str) -> int:
        return len(self.nodes[node_type])

    def global_ids(self, node_type: str, local_ids) -> np.ndarray:
        """int64 array: global ids of ``local_ids`` of ``node_type``."""
        return np.asarray(local_ids, dtype=np.int64) + self.offsets[node_type]

    def node_type_bounds(self) -> np.ndarray:
        """int64 array of shape (num_node_types + 1,): global id range of each type, in order."""
        return np.array(list(self.offsets.values()) + [self.num_nodes], dtype=np.int64)

    def summary(self) -> dict:
        """Counts of nodes and edges by type (for logs, manifests and load checks)."""
        return {
            "cutoff": None if self.cutoff is None else str(self.cutoff.date()),
            "nodes": {t: len(n) for t, n in self.nodes.items()},
            "edges": {t: len(e) for t, e in self.edges.items()},
            "num_nodes": self.num_nodes,
            "num_edges": self.num_edges,
        }

    def to_csr(self, edge_types=None, *, weighted: bool = True):
        """Project into an undirected CSR adjacency over global ids.

        Args:
            edge_types: edge types to include (all by default).
            weighted: use edge weights; otherwise every edge weighs 1.

        Returns:
            CSRGraph
        """
        from fashiongraph.graph.csr import CSRGraph

        chosen = list(self.edges) if edge_types is None else list(edge_types)
        unknown = [t for t in chosen if t not in self.edges]
        if unknown:
            raise GraphError(
                f"unknown edge type(s) {unknown}; the graph has {sorted(self.edges)}"
            )
        src, dst, w = [], [], []
        for t in chosen:
            e = self.edges[t]
            src.append(self.global_ids(e.src_type, e.src))
            dst.append(self.global_ids(e.dst_type, e.dst))
            w.append(e.weight if weighted else np.ones(len(e), dtype=np.float32))
        return CSRGraph.from_edges(
            np.concatenate(src) if src else np.empty(0, np.int64),
            np.concatenate(dst) if dst else np.empty(0, np.int64),
            np.concatenate(w) if w else np.empty(0, np.float32),
            num_nodes=self.num_nodes,
            type_names=list(self.offsets),
            type_bounds=self.node_type_bounds(),
        )

    # ------------------------------------------------------------------ storage
    def save(self, directory: str | Path) -> Path:
        """Write node and edge tables as ``.npy`` files plus ``graph.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for t, n in self.nodes.items():
            keys = np.asarray(n.keys)
            np.save(directory / f"nodes.{t}.keys.npy",
                    keys.astype(str) if keys.dtype == object else keys, allow_pickle=False)
            np.save(directory / f"nodes.{t}.labels.npy", np.asarray(n.labels).astype(str),
                    allow_pickle=False)
        for t, e in self.edges.items():
            np.savez(directory / f"edges.{t}.npz", src=e.src, dst=e.dst, weight=e.weight)
        meta = self.summary() | {
            "edge_endpoints": {t: [e.src_type, e.dst_type] for t, e in self.edges.items()}
        }
        (directory / "graph.json").write_text(json.dumps(meta, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> KnowledgeGraph:
        directory = Path(directory)
        meta = json.loads((directory / "graph.json").read_text())
        nodes = [
            NodeTable(t, np.load(directory / f"nodes.{t}.keys.npy"),
                      np.load(directory / f"nodes.{t}.labels.npy"))
            for t in meta["nodes"]
        ]
        edges = []
        for t, (s, d) in meta["edge_endpoints"].items():
            z = np.load(directory / f"edges.{t}.npz")
            edges.append(EdgeTable(t, s, d, z["src"], z["dst"], z["weight"]))
        return cls(nodes, edges, cutoff=meta["cutoff"])
