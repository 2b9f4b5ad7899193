"""``Neo4jEngine``: the knowledge graph in Neo4j, the algorithms in Graph Data Science.

The engine loads the graph into the database (online through the driver by default, or bulk
through ``neo4j-admin``), projects it into GDS as one undirected weighted relationship type
(``projection``), and answers the ``Engine`` calls with ``gds.randomWalk`` (``walks``),
``gds.fastRP`` and ``gds.knn.filtered`` (``knn``). Results come back indexed like the dataset
(``customer_idx``, ``article_idx``), so every recommender and the evaluation run unchanged with
``--engine neo4j``.

Where GDS and the embedded engine differ (docs/neo4j.md has the full list):

- Restarts: ``gds.randomWalk`` has none; walks with restart become restart-free walks of every
  length in the numbers that land as often on every node in expectation (``walks``).
- Seeds: GDS's random streams are not the embedded engine's. A seed reproduces a result within
  an engine (with ``concurrency=1``); the engines agree in distribution (visit frequencies,
  MAP@12), not in exact counts or vectors.
- KNN: ``gds.knn.filtered`` is approximate; the embedded engine's search is exact (``knn``).
- FastRP vectors stay in the GDS projection; ``NodeEmbeddings`` fetches them only when read.
"""

from __future__ import annotations

import logging
import time
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.base import Engine, FastRPParams, NodeEmbeddings, RandomWalkParams
from fashiongraph.engines.neo4j import knn as gds_knn
from fashiongraph.engines.neo4j import loader
from fashiongraph.engines.neo4j import projection as gds_projection
from fashiongraph.engines.neo4j.settings import Neo4jSettings
from fashiongraph.engines.neo4j.walks import walk_visits
from fashiongraph.errors import ConfigError, EngineError, ModelError
from fashiongraph.graph.model import ARTICLE, CUSTOMER, KnowledgeGraph

log = logging.getLogger(__name__)

LOAD_PATHS = ("online", "bulk", "existing")


class GdsEmbeddings(NodeEmbeddings):
    """FastRP vectors held in a GDS projection; ``customer`` and ``article`` stream on first read.

    Streaming costs time (about 25 s for the sample's 107K vectors over Bolt), and the engine's
    KNN does not need it, so nothing is read until asked for.

    Attributes:
        graph_name: the projection.
        property: its node property holding the vectors.
    """

    def __init__(self, engine: Neo4jEngine, graph_name: str, vector_property: str,
                 params: dict):
        self.engine = engine
        self.graph_name = graph_name
        self.property = vector_property
        self.params = params

    def __repr__(self) -> str:
        return f"GdsEmbeddings({self.graph_name!r}, {self.property!r})"

    # Identity, not the dataclass's field comparison (which would stream every vector).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def num_customers(self) -> int:
        return self.engine.graph.num_nodes_of(CUSTOMER)

    @property
    def num_articles(self) -> int:
        return self.engine.graph.num_nodes_of(ARTICLE)

    @cached_property
    def customer(self) -> np.ndarray:
        return self._read(CUSTOMER)

    @cached_property
    def article(self) -> np.ndarray:
        return self._read(ARTICLE)

    def _read(self, node_type: str) -> np.ndarray:
        """float32 array of shape (num_nodes_of(node_type), dim), rows in dataset order."""
        label = loader.label_of(node_type)
        records = self.engine.query(
            "CALL gds.graph.nodeProperty.stream($graph, $property, [$label]) "
            "YIELD nodeId, propertyValue RETURN nodeId, propertyValue",
            graph=self.graph_name, property=self.property, label=label)
        node_ids = np.fromiter((r["nodeId"] for r in records), dtype=np.int64, count=len(records))
        ids = self.engine.node_ids_
        rows = ids.customers_of(node_ids) if node_type == CUSTOMER else ids.articles_of(node_ids)
        dim = self.params["embedding_dimension"]
        out = np.zeros((self.engine.graph.num_nodes_of(node_type), dim), dtype=np.float32)
        out[rows] = np.asarray([r["propertyValue"] for r in records], dtype=np.float32)
        return out


class Neo4jEngine(Engine):
    """Runs the graph algorithms in Neo4j Graph Data Science.

    Args:
        graph: the knowledge graph; it is loaded into the database unless already there.
        uri, user, password, database: the server (default: the environment, see
            ``Neo4jSettings.from_env``; the bundled server at ``bolt://127.0.0.1:7697``).
        load: ``"online"`` (through the driver; idempotent, changes only what differs),
            ``"bulk"`` (``neo4j-admin database import`` into the local server of
            ``neo4j/neo4j.sh``, which is restarted) or ``"existing"`` (the database must hold
            this exact graph already).
        batch_size: rows per ``UNWIND`` transaction of the online load.
        concurrency: GDS threads. 1 (the default) keeps seeded runs reproducible; community
            GDS allows at most 4.
        knn: ``KNNParams`` for ``gds.knn.filtered``.
        walk_steps_per_query: walk steps one Cypher query may aggregate (server memory).

    Attributes:
        load_report_: ``loader.LoadReport`` (counts found in the database after loading).
        server_: ``connection.ServerInfo`` (Neo4j and GDS versions).
        node_ids_: ``projection.NodeIds``.
        timings_: seconds per phase (``load``, ``project``, ``random_walk``, ``fastrp``,
            ``knn``), summed over calls.
    """

    name = "neo4j"

    def __init__(self, graph: KnowledgeGraph, *, uri: str | None = None, user: str | None = None,
                 password: str | None = None, database: str | None = None,
                 load: str = "online", batch_size: int = 10_000, concurrency: int = 1,
                 knn: gds_knn.KNNParams | None = None, walk_steps_per_query: int = 2_000_000):
        from fashiongraph.engines.neo4j.connection import check_server, connect, server_info

        super().__init__(graph)
        if load not in LOAD_PATHS:
            raise ConfigError(f"load must be one of {LOAD_PATHS} (got {load!r})")
        if not 1 <= concurrency <= 4:
            raise ConfigError(f"concurrency must be in 1..4, community GDS's limit "
                              f"(got {concurrency})")
        if batch_size < 1 or walk_steps_per_query < 1:
            raise ConfigError(f"batch_size and walk_steps_per_query must be >= 1 (got "
                              f"{batch_size}, {walk_steps_per_query})")
        for needed in (CUSTOMER, ARTICLE):
            if needed not in graph.nodes:
                raise ConfigError(f"the knowledge graph has no {needed!r} nodes (got node types "
                                  f"{sorted(graph.nodes)})")
        self.settings = Neo4jSettings.from_env(uri=uri, user=user, password=password,
                                               database=database)
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.knn = knn or gds_knn.KNNParams()
        self.walk_steps_per_query = walk_steps_per_query
        self.timings_: dict[str, float] = {}
        self._projections: dict[tuple, str] = {}
        self._created: list[str] = []
        self._embeddings: dict[FastRPParams, GdsEmbeddings] = {}

        t0 = time.perf_counter()
        self.driver_ = connect(self.settings)
        try:
            self.server_ = server_info(self.driver_, self.settings)
            check_server(self.server_, self.settings.uri)
            self.load_report_ = self._load(load)
            self.node_ids_ = gds_projection.read_node_ids(self.query, graph)
        except BaseException:
            self.driver_.close()
            raise
        self._add_time("load", t0)
        log.info("neo4j engine ready on %s (Neo4j %s, GDS %s): %s", self.settings.uri,
                 self.server_.neo4j_version, self.server_.gds_version,
                 self.load_report_.summary())

    # ------------------------------------------------------------------ loading
    def _load(self, path: str) -> loader.LoadReport:
        if path == "online":
            return loader.load_online(self.driver_, self.settings.database, self.graph,
                                      batch_size=self.batch_size)
        if path == "bulk":
            from fashiongraph.engines.neo4j.connection import connect
            from fashiongraph.engines.neo4j.server import LocalServer

            # neo4j-admin writes the store files itself: the server must be down meanwhile.
            self.driver_.close()
            report = loader.load_bulk(self.graph, LocalServer(), self.settings)
            self.driver_ = connect(self.settings)
            return report
        t0 = time.perf_counter()
        fingerprint = loader.graph_fingerprint(self.graph)
        stored = loader.stored_fingerprint(self.driver_, self.settings.database)
        if stored != fingerprint:
            raise EngineError(
                f"database {self.settings.database!r} at {self.settings.uri} does not hold this "
                f"knowledge graph (got fingerprint {str(stored)[:12]}, expected "
                f"{fingerprint[:12]}): load it with load='online' or load='bulk'"
            )
        nodes, rels = loader.check_counts(self.driver_, self.settings.database, self.graph)
        return loader.LoadReport("existing", fingerprint, nodes, rels, time.perf_counter() - t0)

    # ------------------------------------------------------------------ helpers
    def _add_time(self, phase: str, t0: float) -> None:
        self.timings_[phase] = self.timings_.get(phase, 0.0) + time.perf_counter() - t0

    def query(self, cypher: str, **params) -> list:
        """Run ``cypher`` and return its records; server-side failures become ``EngineError``."""
        from neo4j.exceptions import ClientError, DatabaseError, TransientError

        try:
            with self.driver_.session(database=self.settings.database) as session:
                return list(session.run(cypher, **params))
        except (ClientError, DatabaseError, TransientError) as exc:
            message = str(getattr(exc, "message", None) or exc).strip().splitlines()[0]
            raise EngineError(
                f"Neo4j at {self.settings.uri} failed a query (got {exc.code}: {message}); if it "
                "ran out of memory, raise FASHIONGRAPH_NEO4J_HEAP and restart the server"
            ) from None

    def projection(self, edge_types=None) -> str:
        """Name of the GDS projection of ``edge_types`` (all by default), made once and reused.

        A projection of the same graph and edge types that another engine made is reused
        (and left to it); ``close`` drops the ones this engine made.
        """
        chosen = gds_projection.chosen_edge_types(self.graph, edge_types)
        if chosen not in self._projections:
            t0 = time.perf_counter()
            name = gds_projection.projection_name(chosen, self.load_report_.fingerprint)
            if gds_projection.project(self.query, self.graph, name, chosen):
                self._created.append(name)
            self._projections[chosen] = name
            self._add_time("project", t0)
        return self._projections[chosen]

    def _check_customers(self, customer_idx) -> np.ndarray:
        customer_idx = np.asarray(customer_idx, dtype=np.int64).reshape(-1)
        n = self.graph.num_nodes_of(CUSTOMER)
        bad = (customer_idx < 0) | (customer_idx >= n)
        if bad.any():
            raise ConfigError(
                f"customer_idx must be in 0..{n - 1} (got {customer_idx[bad][:5].tolist()})"
            )
        return customer_idx

    # ------------------------------------------------------------------ algorithms
    def random_walk_visits(self, customer_idx: np.ndarray, params: RandomWalkParams
                           ) -> sp.csr_matrix:
        """Article visit counts of walks from each customer, counted inside the database.

        Args:
            customer_idx: int array of shape (n,).
            params: walk parameters; ``restart_probability`` becomes restart-free GDS walks of
                several lengths (``walks.segment_walks``).

        Returns:
            float32 CSR of shape (n, num_articles).
        """
        customer_idx = self._check_customers(customer_idx)
        graph_name = self.projection(params.edge_types)
        t0 = time.perf_counter()
        visits = walk_visits(self.query, graph_name, self.node_ids_, customer_idx, params,
                             concurrency=self.concurrency,
                             steps_per_query=self.walk_steps_per_query)
        self._add_time("random_walk", t0)
        return visits

    def fastrp(self, params: FastRPParams) -> NodeEmbeddings:
        """FastRP vectors of every node from ``gds.fastRP.mutate``, kept in the projection.

        The same parameters reuse the vectors already computed. The vectors are checked in the
        database: every one must be finite.

        Returns:
            GdsEmbeddings: ``customer`` (num_customers, dim) and ``article`` (num_articles, dim)
            float32 arrays, streamed when first read.

        Raises:
            ModelError: a vector holds NaN or infinite values.
        """
        if params in self._embeddings:
            return self._embeddings[params]
        graph_name = self.projection(params.edge_types)
        t0 = time.perf_counter()
        # A property name of its own, in case another engine shares the projection.
        vector_property = f"fastrp_{time.monotonic_ns()}"
        config = {
            "embeddingDimension": int(params.embedding_dimension),
            "iterationWeights": [float(w) for w in params.iteration_weights],
            "normalizationStrength": float(params.normalization_strength),
            "nodeSelfInfluence": float(params.node_self_influence),
            "randomSeed": int(params.random_seed),
            "concurrency": self.concurrency,
            "mutateProperty": vector_property,
        }
        if params.weighted:
            config["relationshipWeightProperty"] = "weight"
        self.query("CALL gds.fastRP.mutate($graph, $config) YIELD nodePropertiesWritten",
                   graph=graph_name, config=config)

        # Check the vectors where they are: none may hold NaN or infinity.
        bad = self.query(
            "CALL gds.graph.nodeProperty.stream($graph, $property, ['Customer', 'Article']) "
            "YIELD propertyValue WITH propertyValue AS v "
            "WHERE any(x IN v WHERE isNaN(x) OR abs(x) > 1.0e300) RETURN count(*) AS bad",
            graph=graph_name, property=vector_property)[0]["bad"]
        if bad:
            raise ModelError(f"gds.fastRP gave {bad} customer or article vectors with NaN or "
                             f"infinite values (got {params})")
        embeddings = GdsEmbeddings(self, graph_name, vector_property,
                                   params.__dict__ | {"engine": self.name})
        self._embeddings[params] = embeddings
        self._add_time("fastrp", t0)
        log.info("gds.fastRP: %d nodes x %d dims in %.1fs", self.graph.num_nodes,
                 params.embedding_dimension, time.perf_counter() - t0)
        return embeddings

    def filtered_knn(self, embeddings: NodeEmbeddings, customer_idx: np.ndarray, k: int,
                     exclude: sp.csr_matrix | None = None, candidates: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` articles by cosine similarity from ``gds.knn.filtered`` (see ``knn``).

        Args:
            embeddings: vectors from this engine's ``fastrp`` (they live in its projection).
            customer_idx: int array of shape (n,).
            exclude: CSR of shape (num_customers, num_articles); nonzero pairs are skipped.
            candidates: bool array of shape (num_articles,): only these may be returned.

        Returns:
            (article_idx, similarity): int64 and float32 arrays of shape (n, k), best first;
            ``-1`` and ``-inf`` pad short rows (and customers with a zero vector).

        Raises:
            ConfigError: ``embeddings`` did not come from this engine's ``fastrp``.
        """
        if not (isinstance(embeddings, GdsEmbeddings) and embeddings.engine is self):
            raise ConfigError(
                "the neo4j engine's filtered_knn searches vectors held in its GDS projection: "
                "pass the embeddings its own fastrp() returned (got embeddings of engine "
                f"{embeddings.params.get('engine')!r})"
            )
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ConfigError(f"k must be an integer >= 1 (got {k!r})")
        customer_idx = self._check_customers(customer_idx)
        t0 = time.perf_counter()
        result = gds_knn.filtered_knn(self.query, embeddings.graph_name, embeddings.property,
                                      self.node_ids_, customer_idx, int(k), exclude, candidates,
                                      self.knn, concurrency=self.concurrency)
        self._add_time("knn", t0)
        return result

    # ------------------------------------------------------------------ housekeeping
    def close(self) -> None:
        """Drop the GDS projections this engine made and close the driver."""
        driver = getattr(self, "driver_", None)
        if driver is None:
            return
        try:
            for name in self._created:
                self.query("CALL gds.graph.drop($name, false) YIELD graphName", name=name)
        except EngineError as exc:
            log.warning("could not drop GDS projections: %s", exc)
        finally:
            self._projections.clear()
            self._created.clear()
            self._embeddings.clear()
            driver.close()
            self.driver_ = None
