"""The embedded engine: numba and numpy kernels over the CSR projection. The default."""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.base import Engine, FastRPParams, NodeEmbeddings, RandomWalkParams
from fashiongraph.graph.model import ARTICLE, CUSTOMER, KnowledgeGraph

log = logging.getLogger(__name__)


class EmbeddedEngine(Engine):
    """Runs walks, FastRP and KNN in this process on the knowledge graph's CSR projection.

    Args:
        graph: the knowledge graph.
        num_threads: numba threads (``None`` keeps numba's default, all cores).
    """

    name = "embedded"

    def __init__(self, graph: KnowledgeGraph, *, num_threads: int | None = None):
        super().__init__(graph)
        if num_threads is not None:
            import numba

            numba.set_num_threads(num_threads)
        self._projections: dict = {}

    def projection(self, edge_types, weighted: bool):
        """The CSR of ``edge_types`` (cached per choice) and its cumulative weights."""
        key = (None if edge_types is None else tuple(sorted(edge_types)), weighted)
        if key not in self._projections:
            csr = self.graph.to_csr(edge_types, weighted=weighted)
            self._projections[key] = csr
        return self._projections[key]

    @lru_cache(maxsize=4)
    def _cumulative(self, key):
        from fashiongraph.engines.embedded.walk import row_cumulative_weights

        return row_cumulative_weights(self._projections[key])

    def random_walk_visits(self, customer_idx: np.ndarray, params: RandomWalkParams
                           ) -> sp.csr_matrix:
        from fashiongraph.engines.embedded.walk import walk_visits

        csr = self.projection(params.edge_types, params.weighted)
        key = (None if params.edge_types is None else tuple(sorted(params.edge_types)),
               params.weighted)
        starts = self.graph.global_ids(CUSTOMER, customer_idx)
        return walk_visits(
            csr, starts, article_range=csr.type_range(ARTICLE),
            walk_length=params.walk_length, walks_per_node=params.walks_per_node,
            restart_probability=params.restart_probability, random_seed=params.random_seed,
            weighted=params.weighted, cumulative_weights=self._cumulative(key),
        )

    def fastrp(self, params: FastRPParams) -> NodeEmbeddings:
        from fashiongraph.engines.embedded.fastrp import fastrp

        csr = self.projection(params.edge_types, params.weighted)
        vectors = fastrp(csr, params)
        c_lo, c_hi = csr.type_range(CUSTOMER)
        a_lo, a_hi = csr.type_range(ARTICLE)
        return NodeEmbeddings(vectors[c_lo:c_hi].copy(), vectors[a_lo:a_hi].copy(),
                              params=params.__dict__ | {"engine": self.name})
