"""The embedded engine: numba and numpy kernels over the CSR projection. The default."""

from __future__ import annotations

import logging

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
        self._walk_tables: dict = {}

    @staticmethod
    def _key(edge_types, weighted: bool) -> tuple:
        return (None if edge_types is None else tuple(sorted(edge_types)), bool(weighted))

    def projection(self, edge_types, weighted: bool):
        """The CSR of ``edge_types``, built once per choice of edge types and weighting."""
        key = self._key(edge_types, weighted)
        if key not in self._projections:
            self._projections[key] = self.graph.to_csr(edge_types, weighted=weighted)
        return self._projections[key]

    def walk_table(self, edge_types, weighted: bool) -> np.ndarray:
        """The alias table that walks on ``projection(edge_types, weighted)`` read (cached)."""
        from fashiongraph.engines.embedded.walk import build_walk_table

        key = self._key(edge_types, weighted)
        if key not in self._walk_tables:
            self._walk_tables[key] = build_walk_table(self.projection(edge_types, weighted),
                                                      weighted=weighted)
        return self._walk_tables[key]

    def random_walk_visits(self, customer_idx: np.ndarray, params: RandomWalkParams
                           ) -> sp.csr_matrix:
        from fashiongraph.engines.embedded.walk import walk_visits

        csr = self.projection(params.edge_types, params.weighted)
        starts = self.graph.global_ids(CUSTOMER, customer_idx)
        return walk_visits(
            csr, starts, article_range=csr.type_range(ARTICLE),
            walk_length=params.walk_length, walks_per_node=params.walks_per_node,
            restart_probability=params.restart_probability, random_seed=params.random_seed,
            walk_table=self.walk_table(params.edge_types, params.weighted),
        )

    def fastrp(self, params: FastRPParams) -> NodeEmbeddings:
        from fashiongraph.engines.embedded.fastrp import fastrp

        csr = self.projection(params.edge_types, params.weighted)
        vectors = fastrp(csr, params)
        c_lo, c_hi = csr.type_range(CUSTOMER)
        a_lo, a_hi = csr.type_range(ARTICLE)
        return NodeEmbeddings(vectors[c_lo:c_hi].copy(), vectors[a_lo:a_hi].copy(),
                              params=params.__dict__ | {"engine": self.name})
