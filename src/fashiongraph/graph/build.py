"""Build the knowledge graph from a dataset, using only transactions before a cutoff."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fashiongraph.data.dataset import Dataset
from fashiongraph.data.schema import ARTICLE_ATTRIBUTES, CUSTOMER_ATTRIBUTES
from fashiongraph.errors import ConfigError
from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED, EdgeTable, KnowledgeGraph, NodeTable

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class GraphConfig:
    """How purchases become weighted edges, and which attributes become nodes.

    A purchase edge's weight sums, over the customer's purchases of the article,
    ``quantity * max(0.5 ** (age_days / recency_half_life_days), min_recency_weight)`` where
    ``age_days`` counts days from the purchase to the cutoff. Repeated and recent purchases weigh
    more; an old purchase never weighs less than ``min_recency_weight`` per unit.

    Args:
        recency_half_life_days: half-life of a purchase's weight, in days (> 0).
        min_recency_weight: floor of the recency factor, in [0, 1].
        customer_attributes: add age band, club status and news frequency nodes.
        article_scope: ``"sold"`` links only articles bought at least once before the cutoff to
            their attribute nodes (the others stay as isolated nodes, so ids keep aligned);
            ``"catalogue"`` links every article. With ``"catalogue"`` walks and FastRP spread
            into articles that have not sold for years.
    """

    recency_half_life_days: float = 90.0
    min_recency_weight: float = 0.1
    customer_attributes: bool = True
    article_scope: str = "sold"

    def __post_init__(self):
        if not self.recency_half_life_days > 0:
            raise ConfigError(
                f"recency_half_life_days must be > 0 (got {self.recency_half_life_days})"
            )
        if not 0.0 <= self.min_recency_weight <= 1.0:
            raise ConfigError(f"min_recency_weight must be in [0, 1] (got {self.min_recency_weight})")
        if self.article_scope not in ("sold", "catalogue"):
            raise ConfigError(
                f"article_scope must be 'sold' or 'catalogue' (got {self.article_scope!r})"
            )


def build_knowledge_graph(dataset: Dataset, cutoff=None, config: GraphConfig | None = None
                          ) -> KnowledgeGraph:
    """Build customers, articles, attribute nodes and their edges.

    Args:
        dataset: the canonical dataset.
        cutoff: only transactions with ``t_dat < cutoff`` become edges. ``None`` uses all and
            sets the cutoff to the day after the last transaction.
        config: edge weighting and attribute choice.

    Returns:
        KnowledgeGraph with every customer and article of the dataset as nodes (also those
        without purchases, so that ids stay aligned with the dataset).
    """
    config = config or GraphConfig()
    t0 = time.perf_counter()
    tx = dataset.transactions
    if cutoff is None:
        cutoff = (dataset.last_date + pd.Timedelta(days=1)) if len(tx) else pd.Timestamp.now()
    cutoff = pd.Timestamp(cutoff)
    # The guard against leakage: nothing on or after the cutoff reaches the graph.
    tx = tx[tx["t_dat"] < cutoff]

    nodes = [
        NodeTable(CUSTOMER, dataset.customers["customer_id"].to_numpy(),
                  dataset.customers["customer_id"].to_numpy()),
        NodeTable(ARTICLE, dataset.articles["article_id"].to_numpy(),
                  _article_labels(dataset.articles)),
    ]
    edges = [_purchase_edges(tx, cutoff, config)]

    linked = None
    if config.article_scope == "sold":
        linked = np.zeros(dataset.num_articles, dtype=bool)
        linked[tx["article_idx"].to_numpy()] = True
    for attr in ARTICLE_ATTRIBUTES:
        table = _attribute_edges(dataset.articles, attr, ARTICLE, linked)
        if table is None:
            log.info("articles have no column %r: no %s nodes", attr.key_column, attr.node_type)
            continue
        nodes.append(table[0])
        edges.append(table[1])
    if config.customer_attributes:
        for attr in CUSTOMER_ATTRIBUTES:
            table = _attribute_edges(dataset.customers, attr, CUSTOMER)
            if table is None:
                continue
            nodes.append(table[0])
            edges.append(table[1])

    graph = KnowledgeGraph(nodes, edges, cutoff=cutoff)
    log.info("built knowledge graph before %s: %d nodes, %d edges (%d purchases) in %.1fs",
             cutoff.date(), graph.num_nodes, graph.num_edges, len(edges[0]),
             time.perf_counter() - t0)
    return graph


def _article_labels(articles: pd.DataFrame) -> np.ndarray:
    if "prod_name" in articles:
        return articles["prod_name"].fillna("").astype(str).to_numpy()
    return articles["article_id"].to_numpy()


def _purchase_edges(tx: pd.DataFrame, cutoff: pd.Timestamp, config: GraphConfig) -> EdgeTable:
    age_days = ((cutoff - tx["t_dat"]).dt.days).to_numpy(np.float64)
    recency = np.maximum(0.5 ** (age_days / config.recency_half_life_days),
                         config.min_recency_weight)
    w = tx["quantity"].to_numpy(np.float64) * recency
    pairs = pd.DataFrame({"c": tx["customer_idx"].to_numpy(), "a": tx["article_idx"].to_numpy(),
                          "w": w})
    agg = pairs.groupby(["c", "a"], sort=True)["w"].sum().reset_index()
    return EdgeTable(PURCHASED, CUSTOMER, ARTICLE, agg["c"].to_numpy(np.int32),
                     agg["a"].to_numpy(np.int32), agg["w"].to_numpy(np.float32))


def _attribute_edges(table: pd.DataFrame, attr, owner_type: str, linked=None):
    """Nodes for the distinct values of ``attr`` and edges from each owner row to its value.

    All values of the column become nodes; only rows where ``linked`` is true get an edge.
    """
    if attr.key_column not in table:
        return None
    keys = table[attr.key_column]
    present = keys.notna().to_numpy()
    codes, uniques = pd.factorize(keys[present], sort=True)
    if attr.name_column in table and attr.name_column != attr.key_column:
        names = (table.loc[present, [attr.key_column, attr.name_column]]
                 .drop_duplicates(attr.key_column).set_index(attr.key_column)[attr.name_column])
        labels = names.reindex(uniques).fillna("").astype(str).to_numpy()
    else:
        labels = np.asarray(uniques).astype(str)
    if len(uniques) == 0:
        log.info("column %r has no values: no %s nodes", attr.key_column, attr.node_type)
        return None
    node_keys = np.asarray(uniques)
    if node_keys.dtype == object:
        node_keys = node_keys.astype(str)
    nodes = NodeTable(attr.node_type, node_keys, labels)
    src = np.flatnonzero(present).astype(np.int32)
    codes = codes.astype(np.int32)
    if linked is not None:
        keep = linked[src]
        src, codes = src[keep], codes[keep]
    edges = EdgeTable(attr.edge_type, owner_type, attr.node_type, src, codes,
                      np.ones(len(src), dtype=np.float32))
    return nodes, edges
