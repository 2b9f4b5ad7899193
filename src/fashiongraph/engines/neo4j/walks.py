"""Random walks with restart expressed as restart-free walks, which is all ``gds.randomWalk`` runs.

The embedded engine's walk takes ``L`` steps; before each step it jumps back to its start with
probability ``p``. Cut at its restarts, such a walk is a series of restart-free segments from
the start node, and by the Markov property each segment is an independent walk from the start.
After step ``t`` the walker is ``d`` steps into its current segment with probability

    P(depth_t = d) = p (1 - p)^(d - 1)   for d < t,   and   (1 - p)^(t - 1)   for d = t,

so the expected number of steps landing at depth ``d`` over one walk is

    N_d = sum_{t=d..L} P(depth_t = d) = (1 - p)^(d - 1) * (1 + p (L - d)).

A restart-free walk of ``m`` steps lands once at each depth ``1..m``. Running
``W_m = N_m - N_(m+1)`` walks of exactly ``m`` steps per walk with restart (``N_(L+1) = 0``)
therefore lands, in expectation, exactly as often at every depth, hence on every node, as the
walks with restart do. ``segment_walks`` turns this into whole numbers of GDS walks per length.

What differs: the counts agree in expectation, not walk by walk (the number of segments per
walk is random in the embedded engine and fixed here), so visit counts have a slightly
different variance; and a walk that reaches a node without neighbours ends in both engines,
which ends one segment here but the whole walk there.

``walk_visits`` runs the segments with ``gds.randomWalk.stream`` and counts the visits per start
and node inside the database; only the counts come back.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from fashiongraph.errors import ConfigError

log = logging.getLogger(__name__)

# One row per start node: the articles its walks stepped on and how often (the start excluded).
# Counting and the article filter happen in the database; only article rows come back.
_VISITS_QUERY = (
    "UNWIND $configs AS config "
    "CALL gds.randomWalk.stream($graph, config {.*, sourceNodes: $sources}) YIELD nodeIds "
    "WITH nodeIds[0] AS start, nodeIds[1..] AS path "
    "UNWIND path AS node "
    "WITH start, node, count(*) AS visits "
    "WITH start, gds.util.asNode(node) AS n, visits WHERE n:Article "
    "RETURN start, collect(n.idx) AS articles, collect(visits) AS counts"
)


def expected_depth_visits(walk_length: int, restart_probability: float) -> np.ndarray:
    """float64 array of shape (walk_length,): ``N_d`` for ``d = 1..walk_length`` (see module)."""
    d = np.arange(1, walk_length + 1, dtype=np.float64)
    p = float(restart_probability)
    return (1.0 - p) ** (d - 1) * (1.0 + p * (walk_length - d))


def segment_walks(walk_length: int, walks_per_node: int, restart_probability: float
                  ) -> dict[int, int]:
    """Restart-free walks per start node, by number of steps, equivalent to walks with restart.

    Args:
        walk_length: steps of each walk with restart (>= 1).
        walks_per_node: walks with restart per start node (>= 1).
        restart_probability: in [0, 1).

    Returns:
        dict ``{steps: number_of_walks}`` (only non-zero counts, ``steps`` ascending). The total
        ``sum(steps * n)`` is within rounding of ``walk_length * walks_per_node``.
    """
    if walk_length < 1 or walks_per_node < 1:
        raise ConfigError(
            f"walk_length and walks_per_node must be >= 1 (got {walk_length}, {walks_per_node})"
        )
    if not 0.0 <= restart_probability < 1.0:
        raise ConfigError(f"restart_probability must be in [0, 1) (got {restart_probability})")
    if restart_probability == 0.0:
        return {walk_length: walks_per_node}

    n = expected_depth_visits(walk_length, restart_probability)
    exact = walks_per_node * (n - np.append(n[1:], 0.0))

    # Largest-remainder rounding keeps the total number of walks.
    counts = np.floor(exact).astype(np.int64)
    short = int(round(exact.sum())) - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return {int(m): int(c) for m, c in zip(range(1, walk_length + 1), counts) if c > 0}


def gds_walk_configs(params, concurrency: int) -> list[dict]:
    """``gds.randomWalk`` configurations, one per segment length, for ``RandomWalkParams``.

    GDS counts the start node in ``walkLength``, so a segment of ``m`` steps is a GDS walk of
    length ``m + 1``. Each length gets its own seed derived from ``params.random_seed``.
    """
    configs = []
    for steps, walks in segment_walks(params.walk_length, params.walks_per_node,
                                      params.restart_probability).items():
        config = {"walkLength": steps + 1, "walksPerNode": walks, "concurrency": concurrency,
                  "randomSeed": int(params.random_seed) + 7919 * steps}
        if params.weighted:
            config["relationshipWeightProperty"] = "weight"
        configs.append(config)
    return configs


def walk_visits(query, graph_name: str, node_ids, customer_idx: np.ndarray, params, *,
                concurrency: int = 1, steps_per_query: int = 2_000_000) -> sp.csr_matrix:
    """Article visit counts of random walks with restart from each customer, counted in GDS.

    Args:
        query: the engine's query runner (``query(cypher, **parameters) -> records``).
        graph_name: the GDS projection to walk on.
        node_ids: ``projection.NodeIds`` of the loaded graph.
        customer_idx: int64 array of shape (n,).
        params: ``RandomWalkParams``.
        steps_per_query: walk steps one query may aggregate (bounds the server's memory).

    Returns:
        float32 CSR of shape (n, num_articles); rows follow ``customer_idx`` (repeats included).
    """
    t0 = time.perf_counter()
    configs = gds_walk_configs(params, concurrency)
    unique = np.unique(customer_idx)
    per_start = params.walk_length * params.walks_per_node
    chunk = max(1, steps_per_query // per_start)
    rows_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for lo in range(0, len(unique), chunk):
        sources = node_ids.customer[unique[lo:lo + chunk]]
        for r in query(_VISITS_QUERY, graph=graph_name, configs=configs,
                       sources=sources.tolist()):
            articles = np.asarray(r["articles"], dtype=np.int64)
            order = np.argsort(articles, kind="stable")
            rows_of[int(r["start"])] = (articles[order],
                                        np.asarray(r["counts"], dtype=np.float32)[order])

    # Rows follow customer_idx; a customer without edges has no walk and an empty row.
    empty = (np.empty(0, np.int64), np.empty(0, np.float32))
    rows = [rows_of.get(int(node), empty) for node in node_ids.customer[customer_idx]]
    indptr = np.concatenate([[0], np.cumsum([len(a) for a, _ in rows])]).astype(np.int64)
    visits = sp.csr_matrix(
        (np.concatenate([c for _, c in rows]) if rows else np.empty(0, np.float32),
         np.concatenate([a for a, _ in rows]) if rows else np.empty(0, np.int64), indptr),
        shape=(len(customer_idx), len(node_ids.article)),
    )
    log.debug("gds.randomWalk: %d customers, %d segment lengths, %d article visits in %.1fs",
              len(unique), len(configs), int(visits.sum()), time.perf_counter() - t0)
    return visits
