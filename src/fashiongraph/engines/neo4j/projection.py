"""GDS projections of the stored knowledge graph, and the map between node ids and dataset rows.

Every chosen edge type is projected into one undirected relationship type, ``LINK``, with the
``weight`` property. One type matters: GDS 2.13's ``gds.randomWalk`` on a projection with several
relationship types picks a node's neighbour by position in the first type's list only, so the
neighbours of the other types are never chosen and the first neighbour absorbs their share
(measured on the sample: a customer with 4 purchases and 3 attribute edges stepped to one
article 77% of the time instead of 2.5%). ``LINK`` sidesteps it for walks, FastRP and KNN alike.

All edge types use a native projection (``type: '*'``); a subset uses a Cypher projection that
keeps every node, also those left without edges, so node counts always match the graph.
"""

from __future__ import annotations

import hashlib
import logging
import numpy as np

from fashiongraph.engines.neo4j.loader import label_of
from fashiongraph.errors import ConfigError, EngineError
from fashiongraph.graph.model import ARTICLE, CUSTOMER, KnowledgeGraph

log = logging.getLogger(__name__)

RELATIONSHIP = "LINK"
"""The one relationship type of every projection."""


class NodeIds:
    """Neo4j node ids of customers and articles, both ways.

    Args:
        customer: int64 array of shape (num_customers,): node id of each ``customer_idx``.
        article: int64 array of shape (num_articles,): node id of each ``article_idx``.
    """

    def __init__(self, customer: np.ndarray, article: np.ndarray):
        self.customer = np.asarray(customer, dtype=np.int64)
        self.article = np.asarray(article, dtype=np.int64)
        # Sorted once: lookups are a binary search per node id.
        self._customer = _sorted(self.customer)
        self._article = _sorted(self.article)

    def articles_of(self, node_ids: np.ndarray) -> np.ndarray:
        """int64 array: ``article_idx`` of each node id (``-1`` for nodes that are not articles)."""
        return _lookup(*self._article, node_ids)

    def customers_of(self, node_ids: np.ndarray) -> np.ndarray:
        """int64 array: the ``customer_idx`` of each node id, ``-1`` for non-customers."""
        return _lookup(*self._customer, node_ids)


def _sorted(ids_by_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(ids_by_row, kind="stable")
    return ids_by_row[order], order


def _lookup(sorted_ids: np.ndarray, order: np.ndarray, node_ids) -> np.ndarray:
    node_ids = np.asarray(node_ids, dtype=np.int64)
    if len(sorted_ids) == 0:
        return np.full(len(node_ids), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, node_ids), len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == node_ids, order[pos], -1).astype(np.int64)


def read_node_ids(query, graph: KnowledgeGraph) -> NodeIds:
    """Read the node id of every customer and article (``query``: the engine's query runner).

    Raises:
        EngineError: a customer or article row has no node (the database changed).
    """
    out = {}
    for node_type in (CUSTOMER, ARTICLE):
        # Two lists in one record decode far faster than one record per node.
        record = query(f"MATCH (n:{label_of(node_type)}) "
                       "RETURN collect(n.idx) AS idx, collect(id(n)) AS ids")[0]
        rows = np.asarray(record["idx"], dtype=np.int64)
        n = graph.num_nodes_of(node_type)
        ids = np.full(n, -1, dtype=np.int64)
        inside = (rows >= 0) & (rows < n)
        ids[rows[inside]] = np.asarray(record["ids"], dtype=np.int64)[inside]
        if (ids < 0).any() or len(rows) != n:
            raise EngineError(
                f"the database holds {len(rows)} {label_of(node_type)} nodes for {n} rows of the "
                f"knowledge graph (got {int((ids < 0).sum())} rows without a node): the "
                "database changed under the engine; create the engine again to reload the graph"
            )
        out[node_type] = ids
    return NodeIds(out[CUSTOMER], out[ARTICLE])


def chosen_edge_types(graph: KnowledgeGraph, edge_types) -> tuple[str, ...]:
    """Sorted edge types of a projection (all when ``edge_types`` is ``None``)."""
    chosen = tuple(sorted(graph.edges if edge_types is None else edge_types))
    unknown = [t for t in chosen if t not in graph.edges]
    if unknown:
        raise ConfigError(f"unknown edge type(s) {unknown}; the graph has {sorted(graph.edges)}")
    return chosen


def projection_name(chosen: tuple[str, ...], fingerprint: str) -> str:
    """A name that changes with the edge types and the loaded graph."""
    digest = hashlib.sha256(("|".join(chosen) + fingerprint).encode()).hexdigest()
    return f"fashiongraph-{digest[:16]}"


def project(query, graph: KnowledgeGraph, name: str, chosen: tuple[str, ...]) -> bool:
    """Create projection ``name`` of ``chosen`` edge types unless it exists, then check counts.

    Returns:
        ``True`` if it was created here, ``False`` if it existed.

    Raises:
        EngineError: the projection's node or relationship count differs from the graph's.
    """
    if query("CALL gds.graph.exists($name) YIELD exists", name=name)[0]["exists"]:
        return False
    labels = [label_of(t) for t in graph.nodes]
    if set(chosen) == set(graph.edges):
        record = query(
            "CALL gds.graph.project($name, $labels, {LINK: {type: '*', orientation: 'UNDIRECTED', "
            "properties: {weight: {property: 'weight', defaultValue: 1.0}}}}) "
            "YIELD nodeCount, relationshipCount RETURN nodeCount, relationshipCount",
            name=name, labels=labels)[0]
    else:
        # OPTIONAL MATCH keeps nodes without an edge of the chosen types (m is null for them).
        record = query(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l IN $labels) "
            "OPTIONAL MATCH (n)-[r]->(m) WHERE type(r) IN $types "
            "WITH gds.graph.project($name, n, m, {sourceNodeLabels: labels(n), "
            "targetNodeLabels: CASE WHEN m IS NULL THEN NULL ELSE labels(m) END, "
            "relationshipType: 'LINK', relationshipProperties: {weight: coalesce(r.weight, 1.0)}},"
            " {undirectedRelationshipTypes: ['LINK']}) AS g "
            "RETURN g.nodeCount AS nodeCount, g.relationshipCount AS relationshipCount",
            name=name, labels=labels, types=list(chosen))[0]
    expected = sum(len(graph.edges[t]) for t in chosen)
    if record["nodeCount"] != graph.num_nodes or record["relationshipCount"] != 2 * expected:
        query("CALL gds.graph.drop($name, false) YIELD graphName", name=name)
        raise EngineError(
            f"GDS projection {name} has {record['nodeCount']} nodes and "
            f"{record['relationshipCount']} relationships; expected {graph.num_nodes} and "
            f"{2 * expected} (undirected): the database changed under the engine; create the "
            "engine again to reload the graph"
        )
    log.info("projected %s: %d nodes, %d undirected relationships", name, record["nodeCount"],
             record["relationshipCount"] // 2)
    return True
