"""The engine interface: graph algorithms the recommenders call, whatever runs them.

An engine is handed a knowledge graph once and then answers algorithm calls with arrays indexed
like the dataset (``customer_idx``, ``article_idx``). The embedded engine runs numba/scipy
kernels on the CSR projection; the Neo4j engine runs the same algorithms in GDS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from fashiongraph.errors import ConfigError
from fashiongraph.graph.model import KnowledgeGraph


@dataclass(frozen=True, kw_only=True)
class RandomWalkParams:
    """Random walks with restart from customer nodes (names follow GDS ``gds.randomWalk``).

    Args:
        walk_length: steps per walk, >= 1 (GDS ``walkLength``).
        walks_per_node: walks started from each customer node (GDS ``walksPerNode``).
        restart_probability: chance, before each step, to jump back to the start node.
        weighted: pick the next node in proportion to edge weight (GDS
            ``relationshipWeightProperty``); otherwise uniformly.
        edge_types: edge types the walk may use; ``None`` for all.
        random_seed: seed; the same seed gives the same visits (GDS ``randomSeed``).
    """

    walk_length: int = 20
    walks_per_node: int = 200
    restart_probability: float = 0.2
    weighted: bool = True
    edge_types: tuple[str, ...] | None = None
    random_seed: int = 42

    def __post_init__(self):
        if self.walk_length < 1:
            raise ConfigError(f"walk_length must be >= 1 (got {self.walk_length})")
        if self.walks_per_node < 1:
            raise ConfigError(f"walks_per_node must be >= 1 (got {self.walks_per_node})")
        if not 0.0 <= self.restart_probability < 1.0:
            raise ConfigError(
                f"restart_probability must be in [0, 1) (got {self.restart_probability})"
            )


@dataclass(frozen=True, kw_only=True)
class FastRPParams:
    """FastRP with Neo4j GDS semantics (``gds.fastRP``).

    Args:
        embedding_dimension: length of each vector (GDS ``embeddingDimension``).
        iteration_weights: weight of each propagation step's normalised embedding
            (GDS ``iterationWeights``, default ``[0, 1, 1]``).
        normalization_strength: initial vectors are scaled by ``degree ** normalization_strength``
            (GDS ``normalizationStrength``; negative values damp hubs).
        node_self_influence: weight of a node's own normalised initial vector
            (GDS ``nodeSelfInfluence``).
        weighted: average neighbours by edge weight (GDS ``relationshipWeightProperty``).
        edge_types: edge types to propagate over; ``None`` for all.
        random_seed: seed of the very sparse random initial vectors (GDS ``randomSeed``).
    """

    embedding_dimension: int = 128
    iteration_weights: tuple[float, ...] = (0.0, 1.0, 1.0)
    normalization_strength: float = 0.0
    node_self_influence: float = 0.0
    weighted: bool = True
    edge_types: tuple[str, ...] | None = None
    random_seed: int = 42

    def __post_init__(self):
        if self.embedding_dimension < 1:
            raise ConfigError(
                f"embedding_dimension must be >= 1 (got {self.embedding_dimension})"
            )
        if len(self.iteration_weights) == 0:
            raise ConfigError("iteration_weights must hold at least one weight (got [])")
        if not any(self.iteration_weights) and not self.node_self_influence:
            raise ConfigError(
                "iteration_weights and node_self_influence are all zero: every embedding would "
                f"be zero (got {list(self.iteration_weights)}, {self.node_self_influence})"
            )


@dataclass
class NodeEmbeddings:
    """Embeddings of customers and articles, rows aligned with the dataset's indices.

    Attributes:
        customer: float32 array of shape (num_customers, dim).
        article: float32 array of shape (num_articles, dim).
        params: what produced them (for the manifest).
    """

    customer: np.ndarray
    article: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def num_customers(self) -> int:
        return len(self.customer)

    @property
    def num_articles(self) -> int:
        return len(self.article)


class Engine(ABC):
    """Runs graph algorithms on one knowledge graph."""

    name: ClassVar[str]

    def __init__(self, graph: KnowledgeGraph):
        self.graph = graph

    @abstractmethod
    def random_walk_visits(self, customer_idx: np.ndarray, params: RandomWalkParams
                           ) -> sp.csr_matrix:
        """Article visit counts of walks started from each customer.

        Args:
            customer_idx: int array of shape (n,).

        Returns:
            float32 CSR of shape (n, num_articles): row ``i`` counts the walk steps from
            customer ``customer_idx[i]`` that landed on each article.
        """

    @abstractmethod
    def fastrp(self, params: FastRPParams) -> NodeEmbeddings:
        """FastRP embeddings of every customer and article."""

    def filtered_knn(self, embeddings: NodeEmbeddings, customer_idx: np.ndarray, k: int,
                     exclude: sp.csr_matrix | None = None, candidates: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` articles by cosine similarity to each customer's vector.

        Args:
            customer_idx: int array of shape (n,).
            exclude: CSR of shape (num_customers, num_articles); nonzero pairs are skipped.
            candidates: bool array of shape (num_articles,): only these may be returned
                (``None``: all).

        Returns:
            (article_idx, similarity): int64 and float32 arrays of shape (n, k); ``-1`` and
            ``-inf`` pad rows with fewer than ``k`` candidates.
        """
        from fashiongraph.engines.embedded.knn import cosine_top_k

        exclude = None if exclude is None else exclude[customer_idx]
        if candidates is None:
            return cosine_top_k(embeddings.customer[customer_idx], embeddings.article, k,
                                exclude=exclude)
        keep = np.flatnonzero(candidates)
        idx, sims = cosine_top_k(embeddings.customer[customer_idx], embeddings.article[keep], k,
                                 exclude=None if exclude is None else exclude[:, keep])
        return np.where(idx >= 0, keep[np.maximum(idx, 0)], -1), sims

    def close(self) -> None:
        """Release what the engine holds (connections, projections)."""


def make_engine(name: str, graph: KnowledgeGraph, **options) -> Engine:
    """Create the engine called ``name`` (``"embedded"`` or ``"neo4j"``) for ``graph``."""
    if name == "embedded":
        from fashiongraph.engines.embedded.engine import EmbeddedEngine

        return EmbeddedEngine(graph, **options)
    if name == "neo4j":
        from fashiongraph.engines.neo4j.engine import Neo4jEngine

        return Neo4jEngine(graph, **options)
    raise ConfigError(f"unknown engine {name!r}; choose 'embedded' or 'neo4j'")
