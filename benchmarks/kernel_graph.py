"""A quick H&M-shaped knowledge graph drawn directly as node and edge tables.

For the kernel benchmark only (``python -m benchmarks kernels --drawn-graph 1``): it skips the
transaction tables and draws the graph's structure at a fraction of H&M's size in seconds, so
that the kernels can be measured on a full-size graph (about 1.5M nodes and 61M CSR entries)
without generating and ingesting 32M transactions. Heavy-tailed customer activity (log-normal)
and article popularity (Zipf-like), purchase weights like the graph builder's (quantity times
recency), twelve article attributes and three customer attributes with skewed value
frequencies, so a few attribute nodes are hubs of hundreds of thousands of neighbours.

Known limit: purchases are drawn independently (no tastes, no repurchase), so the walks' and
FastRP's memory access patterns are those of H&M's degree distributions, not of its
correlations; the pipeline benchmark uses ``fashiongraph synth`` data instead.
"""

from __future__ import annotations

import numpy as np

from fashiongraph.graph.model import (ARTICLE, CUSTOMER, PURCHASED, EdgeTable, KnowledgeGraph,
                                      NodeTable)

FULL_CUSTOMERS = 1_371_980
FULL_ARTICLES = 105_542
FULL_PAIRS = 27_300_000
"""Distinct (customer, article) pairs in two years of H&M transactions (about)."""

ARTICLE_ATTRIBUTE_SIZES = (
    ("product", 47_224), ("product_type", 131), ("product_group", 19),
    ("graphical_appearance", 30), ("colour_group", 50), ("perceived_colour_value", 8),
    ("perceived_colour_master", 20), ("department", 299), ("index", 10), ("index_group", 5),
    ("section", 56), ("garment_group", 21),
)
"""(node type, number of values in the full H&M articles table)."""
CUSTOMER_ATTRIBUTE_SIZES = (("age_band", 8), ("club_member_status", 3),
                            ("fashion_news_frequency", 3))


def synthetic_knowledge_graph(scale: float, *, seed: int = 0) -> KnowledgeGraph:
    """A knowledge graph shaped like H&M's at ``scale`` (1.0 = full size).

    Args:
        scale: fraction of H&M's customers, articles and purchase pairs, in (0, 1].
        seed: random seed.

    Returns:
        KnowledgeGraph with customer, article and attribute nodes; purchase edges may repeat a
        pair (the CSR projection sums them).
    """
    rng = np.random.default_rng(seed)
    n_c = max(int(FULL_CUSTOMERS * scale), 10)
    n_a = max(int(FULL_ARTICLES * scale), 10)
    n_pairs = max(int(FULL_PAIRS * scale), 10)

    # Heavy tails: customer activity log-normal, article popularity Zipf-like.
    activity = rng.lognormal(0.0, 1.2, n_c)
    popularity = 1.0 / np.arange(1, n_a + 1) ** 0.9
    rng.shuffle(popularity)
    c = rng.choice(n_c, n_pairs, p=activity / activity.sum()).astype(np.int32)
    a = rng.choice(n_a, n_pairs, p=popularity / popularity.sum()).astype(np.int32)
    # Quantity 1 or 2 times a recency factor with a 90-day half-life over two years.
    recency = np.maximum(0.5 ** (rng.uniform(0, 730, n_pairs) / 90), 0.1)
    w = (rng.integers(1, 3, n_pairs) * recency).astype(np.float32)

    nodes = [NodeTable(CUSTOMER, np.arange(n_c), np.arange(n_c)),
             NodeTable(ARTICLE, np.arange(n_a), np.arange(n_a))]
    edges = [EdgeTable(PURCHASED, CUSTOMER, ARTICLE, c, a, w)]
    for owner, n_owner, sizes in ((ARTICLE, n_a, ARTICLE_ATTRIBUTE_SIZES),
                                  (CUSTOMER, n_c, CUSTOMER_ATTRIBUTE_SIZES)):
        for name, size in sizes:
            if name == "product":  # products grow with the catalogue, the others do not
                size = max(2, int(size * n_owner / FULL_ARTICLES))
            # Skewed value frequencies: a few values own most rows (the hubs).
            freq = rng.dirichlet(np.full(size, 0.5))
            values = rng.choice(size, n_owner, p=freq).astype(np.int32)
            nodes.append(NodeTable(name, np.arange(size), np.arange(size)))
            edges.append(EdgeTable(f"HAS_{name.upper()}", owner, name,
                                   np.arange(n_owner, dtype=np.int32), values,
                                   np.ones(n_owner, dtype=np.float32)))
    return KnowledgeGraph(nodes, edges)
