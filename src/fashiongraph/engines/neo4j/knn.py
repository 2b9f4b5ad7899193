"""Filtered KNN in GDS: the nearest candidate articles to each customer's FastRP vector.

The FastRP vectors stay in the main projection (``gds.fastRP.mutate``). For one call a small
graph is projected that holds only the call's customers and candidate articles, with their
vectors read from the main projection by ``gds.util.nodeProperty``: nothing is written to the
store and no vector leaves the server. ``gds.knn.filtered`` then runs with source filter
``Customer`` and target filter ``Article``.

Known limit: GDS KNN is approximate (NN-descent). Its recall of the exact top 12 is poor when it
keeps only 12 neighbours per node (0.35 on the sample's customers against 5,000 articles) and
rises with the list it keeps (0.91 at 50, 0.999 at 100, ~4x the time each step), so
``KNNParams.search_k`` sets a floor on the list GDS keeps; the engine returns the best ``k``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fashiongraph.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class KNNParams:
    """Settings of ``gds.knn.filtered`` (GDS names in brackets).

    Args:
        search_k: neighbours GDS keeps per customer while searching (``topK`` is the larger of
            this and ``k`` plus the customer's excluded candidates); more is closer to exact.
        sample_rate: share of candidate neighbours compared per iteration (``sampleRate``).
        delta_threshold: stop when fewer than this share of neighbour lists changed
            (``deltaThreshold``); 0 runs until nothing changes or ``max_iterations``.
        max_iterations: NN-descent rounds (``maxIterations``).
        random_joins: random comparisons per node and round (``randomJoins``).
        random_seed: seed (``randomSeed``); GDS accepts it only with concurrency 1.
    """

    search_k: int = 50
    sample_rate: float = 1.0
    delta_threshold: float = 0.0
    max_iterations: int = 100
    random_joins: int = 10
    random_seed: int = 42

    def __post_init__(self):
        if self.search_k < 1:
            raise ConfigError(f"search_k must be >= 1 (got {self.search_k})")
        if not 0.0 < self.sample_rate <= 1.0:
            raise ConfigError(f"sample_rate must be in (0, 1] (got {self.sample_rate})")
        if not 0.0 <= self.delta_threshold <= 1.0:
            raise ConfigError(f"delta_threshold must be in [0, 1] (got {self.delta_threshold})")
        if self.max_iterations < 1:
            raise ConfigError(f"max_iterations must be >= 1 (got {self.max_iterations})")
        if self.random_joins < 0:
            raise ConfigError(f"random_joins must be >= 0 (got {self.random_joins})")


# The call's customers and candidate articles with non-zero vectors (zero vectors have no
# cosine neighbours, as in the embedded engine), their vectors taken from the main projection.
_PROJECT_QUERY = (
    "MATCH (n) WHERE id(n) IN $ids "
    "WITH n, gds.util.nodeProperty($graph, n, $property) AS v "
    "WHERE any(x IN v WHERE x <> 0.0) "
    "WITH gds.graph.project($name, n, null, {sourceNodeLabels: labels(n), "
    "sourceNodeProperties: {vector: v}, targetNodeLabels: NULL, targetNodeProperties: NULL}) AS g "
    "RETURN g.nodeCount AS nodeCount"
)

_KNN_QUERY = (
    "CALL gds.knn.filtered.stream($name, $config) YIELD node1, node2, similarity "
    "WITH node1, node2, similarity ORDER BY node1, similarity DESC, node2 "
    "RETURN node1 AS customer, collect(node2) AS articles, collect(similarity) AS sims"
)


def filtered_knn(query, graph_name: str, vector_property: str, node_ids,
                 customer_idx: np.ndarray, k: int, exclude: sp.csr_matrix | None,
                 candidates: np.ndarray | None, params: KNNParams, *, concurrency: int = 1
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` candidate articles by cosine similarity for each customer, from GDS.

    Args:
        query: the engine's query runner.
        graph_name: main projection holding ``vector_property`` for customers and articles.
        node_ids: ``projection.NodeIds``.
        customer_idx: int64 array of shape (n,).
        exclude: CSR of shape (num_customers, num_articles); these pairs are dropped. GDS cannot
            skip pairs per customer, so it is asked for ``k`` plus the most excluded candidates
            any customer of the call has, and every customer keeps ``k`` if it can.
        candidates: bool array of shape (num_articles,), or ``None`` for every article.

    Returns:
        (article_idx, similarity): int64 and float32 arrays of shape (n, k), best first; ``-1``
        and ``-inf`` pad short rows and customers with a zero vector. GDS reports ``COSINE``
        as ``(1 + cos) / 2``; it is turned back into the cosine the embedded engine returns.
    """
    t0 = time.perf_counter()
    n_articles = len(node_ids.article)
    targets = np.ones(n_articles, dtype=bool) if candidates is None else \
        np.asarray(candidates, dtype=bool)
    target_idx = np.flatnonzero(targets)
    sources = np.unique(customer_idx)
    out_a = np.full((len(customer_idx), k), -1, dtype=np.int64)
    out_s = np.full((len(customer_idx), k), -np.inf, dtype=np.float32)
    if len(sources) == 0 or len(target_idx) == 0:
        return out_a, out_s

    most_excluded = 0
    if exclude is not None:
        most_excluded = int(np.diff(exclude[sources][:, target_idx].indptr).max(initial=0))
    top_k = int(min(max(k + most_excluded, params.search_k), len(target_idx)))

    name = f"{graph_name}-knn-{time.monotonic_ns()}"
    ids = np.concatenate([node_ids.customer[sources], node_ids.article[target_idx]])
    query(_PROJECT_QUERY, ids=ids.tolist(), graph=graph_name, property=vector_property,
          name=name)
    try:
        config = {"nodeProperties": {"vector": "COSINE"}, "topK": top_k,
                  "sourceNodeFilter": "Customer", "targetNodeFilter": "Article",
                  "seedTargetNodes": True, "sampleRate": float(params.sample_rate),
                  "deltaThreshold": float(params.delta_threshold),
                  "maxIterations": int(params.max_iterations),
                  "randomJoins": int(params.random_joins), "concurrency": concurrency}
        if concurrency == 1:
            config["randomSeed"] = int(params.random_seed)
        records = query(_KNN_QUERY, name=name, config=config)
    finally:
        query("CALL gds.graph.drop($name, false) YIELD graphName", name=name)

    row_of = {}
    for r in records:
        customer = int(node_ids.customers_of(np.array([r["customer"]]))[0])
        row_of[customer] = (node_ids.articles_of(np.asarray(r["articles"], dtype=np.int64)),
                            2.0 * np.asarray(r["sims"], dtype=np.float32) - 1.0)
    for i, c in enumerate(customer_idx.tolist()):
        if c not in row_of:
            continue
        articles, sims = row_of[c]
        if exclude is not None:
            keep = ~np.isin(articles, exclude.indices[exclude.indptr[c]:exclude.indptr[c + 1]])
            articles, sims = articles[keep], sims[keep]
        m = min(k, len(articles))
        out_a[i, :m] = articles[:m]
        out_s[i, :m] = sims[:m]
    log.debug("gds.knn.filtered: %d customers, %d candidate articles, topK %d in %.1fs",
              len(sources), len(target_idx), top_k, time.perf_counter() - t0)
    return out_a, out_s
