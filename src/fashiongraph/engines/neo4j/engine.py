"""``Neo4jEngine``: the knowledge graph in Neo4j, the algorithms in Graph Data Science.

The engine loads the graph into the database once (online through the driver by default, or
bulk through ``neo4j-admin``), projects it into GDS as an undirected weighted graph, and answers
the ``Engine`` calls with ``gds.randomWalk``, ``gds.fastRP`` and ``gds.knn.filtered``. Results
come back indexed like the dataset (``customer_idx``, ``article_idx``), exactly as the embedded
engine's do, so every recommender and the evaluation run unchanged with ``--engine neo4j``.

Where GDS and the embedded engine differ (see also docs/neo4j.md):

- Restarts: ``gds.randomWalk`` has no restart probability. A walk with restart is a series of
  restart-free segments from the start node, so the engine runs restart-free walks of every
  length ``1..walk_length`` in the numbers that land, in expectation, exactly as often on each
  node (``walks.segment_walks``). Visit counts agree in expectation, not walk by walk.
- Seeds: GDS's random streams are not the embedded engine's; the same seed gives the same
  result within an engine (with ``concurrency=1``, the default), but the engines agree only in
  distribution: on visit frequencies and on MAP@12, not on exact counts or vectors.
- Concurrency: with ``concurrency > 1`` GDS random walks and KNN are not reproducible even with
  a seed (GDS's own rule); community GDS caps concurrency at 4.
- KNN: ``gds.knn.filtered`` is approximate (NN-descent); with ``sample_rate=1`` and
  ``delta_threshold=0`` (the defaults here) it finds nearly every exact cosine neighbour on
  graphs of the sample's size (the tests measure it).
- Weights: both engines pick the next node in proportion to edge weight and average
  neighbours by weight in FastRP; weights are the graph's own (``weight`` relationship property).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.base import Engine, FastRPParams, NodeEmbeddings, RandomWalkParams
from fashiongraph.engines.neo4j.loader import META_LABEL, label_of
from fashiongraph.engines.neo4j.settings import Neo4jSettings
from fashiongraph.engines.neo4j.walks import segment_walks
from fashiongraph.errors import ConfigError, EngineError, ModelError
from fashiongraph.graph.model import ARTICLE, CUSTOMER, KnowledgeGraph

log = logging.getLogger(__name__)

EMBEDDING_PROPERTY = "fastrp"
"""Node property that holds FastRP vectors of customers and articles in the database."""

LOAD_PATHS = ("online", "bulk", "existing")


@dataclass(frozen=True, kw_only=True)
class KNNParams:
    """Settings of ``gds.knn.filtered`` (GDS names in brackets).

    Args:
        sample_rate: share of candidate neighbours compared per iteration (``sampleRate``);
            1.0 compares all, closest to exact search.
        delta_threshold: stop when fewer than this share of neighbour lists changed
            (``deltaThreshold``); 0 runs until nothing changes or ``max_iterations``.
        max_iterations: NN-descent rounds (``maxIterations``).
        random_joins: random comparisons per node and round (``randomJoins``).
    """

    sample_rate: float = 1.0
    delta_threshold: float = 0.0
    max_iterations: int = 100
    random_joins: int = 10

    def __post_init__(self):
        if not 0.0 < self.sample_rate <= 1.0:
            raise ConfigError(f"sample_rate must be in (0, 1] (got {self.sample_rate})")
        if not 0.0 <= self.delta_threshold <= 1.0:
            raise ConfigError(f"delta_threshold must be in [0, 1] (got {self.delta_threshold})")
        if self.max_iterations < 1:
            raise ConfigError(f"max_iterations must be >= 1 (got {self.max_iterations})")
        if self.random_joins < 0:
            raise ConfigError(f"random_joins must be >= 0 (got {self.random_joins})")


class Neo4jEngine(Engine):
    """Runs the graph algorithms in Neo4j Graph Data Science.

    Args:
        graph: the knowledge graph; it is loaded into the database unless already there.
        uri, user, password, database: the server (default: the environment, see
            ``Neo4jSettings.from_env``; the bundled server at ``bolt://127.0.0.1:7697``).
        load: ``"online"`` (through the driver; idempotent, updates only what changed),
            ``"bulk"`` (``neo4j-admin database import`` into the local server of
            ``neo4j/neo4j.sh``, which is restarted) or ``"existing"`` (the database must hold
            this exact graph already).
        batch_size: rows per ``UNWIND`` transaction of the online load.
        concurrency: GDS threads (1 keeps seeded runs reproducible; community GDS allows <= 4).
        knn: ``KNNParams`` for ``gds.knn.filtered``.
        walk_steps_per_query: upper bound on walk steps one Cypher query aggregates (memory).

    Attributes:
        load_report_: ``LoadReport`` of the load (counts found in the database).
        server_: ``ServerInfo`` (Neo4j and GDS versions).
        timings_: seconds spent per phase (``load``, ``project``, ``random_walk``, ``fastrp``,
            ``knn``), summed over calls.
    """

    name = "neo4j"

    def __init__(self, graph: KnowledgeGraph, *, uri: str | None = None, user: str | None = None,
                 password: str | None = None, database: str | None = None,
                 load: str = "online", batch_size: int = 10_000, concurrency: int = 1,
                 knn: KNNParams | None = None, walk_steps_per_query: int = 2_000_000):
        from fashiongraph.engines.neo4j.connection import check_server, connect, server_info

        super().__init__(graph)
        if load not in LOAD_PATHS:
            raise ConfigError(f"load must be one of {LOAD_PATHS} (got {load!r})")
        if not 1 <= concurrency <= 64:
            raise ConfigError(f"concurrency must be in 1..64 (got {concurrency})")
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
        self.knn = knn or KNNParams()
        self.walk_steps_per_query = walk_steps_per_query
        self.timings_: dict[str, float] = {}
        self._projections: dict[tuple, str] = {}
        self._embedding_token: str | None = None

        t0 = time.perf_counter()
        self.driver_ = connect(self.settings)
        try:
            self.server_ = server_info(self.driver_, self.settings)
            check_server(self.server_, self.settings.uri)
            self.load_report_ = self._load(load)
        except BaseException:
            self.driver_.close()
            raise
        self._add_time("load", t0)
        log.info("neo4j engine ready on %s (Neo4j %s, GDS %s): %s", self.settings.uri,
                 self.server_.neo4j_version, self.server_.gds_version,
                 self.load_report_.summary())

    # ------------------------------------------------------------------ loading
    def _load(self, path: str):
        from fashiongraph.engines.neo4j import loader

        if path == "online":
            return loader.load_online(self.driver_, self.settings.database, self.graph,
                                      batch_size=self.batch_size)
        if path == "bulk":
            from fashiongraph.engines.neo4j.server import LocalServer

            self.driver_.close()
            report = loader.load_bulk(self.graph, LocalServer(), self.settings)
            from fashiongraph.engines.neo4j.connection import connect

            self.driver_ = connect(self.settings)
            return report
        fingerprint = loader.graph_fingerprint(self.graph)
        stored = loader.stored_fingerprint(self.driver_, self.settings.database)
        if stored != fingerprint:
            raise EngineError(
                f"database {self.settings.database!r} at {self.settings.uri} does not hold this "
                f"knowledge graph (got fingerprint {str(stored)[:12]}, expected "
                f"{fingerprint[:12]}): load it with load='online' or load='bulk'"
            )
        nodes, rels = loader.check_counts(self.driver_, self.settings.database, self.graph)
        return loader.LoadReport("existing", fingerprint, nodes, rels)

    # ------------------------------------------------------------------ helpers
    def _add_time(self, phase: str, t0: float) -> None:
        self.timings_[phase] = self.timings_.get(phase, 0.0) + time.perf_counter() - t0

    def _session(self):
        return self.driver_.session(database=self.settings.database)

    def _query(self, query: str, **params) -> list:
        """Run ``query`` and return its records; GDS failures become ``EngineError``."""
        from neo4j.exceptions import ClientError, DatabaseError, TransientError

        try:
            with self._session() as session:
                return list(session.run(query, **params))
        except (ClientError, DatabaseError, TransientError) as exc:
            message = str(getattr(exc, "message", None) or exc).strip().splitlines()[0]
            raise EngineError(
                f"Neo4j at {self.settings.uri} failed a GDS call (got {exc.code}: {message}); "
                "if it ran out of memory, raise FASHIONGRAPH_NEO4J_HEAP and restart the server"
            ) from None

    def projection(self, edge_types=None) -> str:
        """Name of the undirected, weighted GDS projection of ``edge_types`` (all by default).

        Projected once per edge-type choice and reused (also by later engines on the same
        graph); ``close`` drops the ones this engine created.
        """
        chosen = tuple(sorted(self.graph.edges if edge_types is None else edge_types))
        unknown = [t for t in chosen if t not in self.graph.edges]
        if unknown:
            raise ConfigError(f"unknown edge type(s) {unknown}; the graph has "
                              f"{sorted(self.graph.edges)}")
        if chosen in self._projections:
            return self._projections[chosen]
        digest = hashlib.sha256(("|".join(chosen) + self.load_report_.fingerprint).encode())
        name = f"fashiongraph-{digest.hexdigest()[:16]}"
        t0 = time.perf_counter()
        exists = self._query("CALL gds.graph.exists($name) YIELD exists", name=name)[0]["exists"]
        if not exists:
            labels = [label_of(t) for t in self.graph.nodes]
            rels = {t: {"orientation": "UNDIRECTED",
                        "properties": {"weight": {"property": "weight", "defaultValue": 1.0}}}
                    for t in chosen}
            record = self._query(
                "CALL gds.graph.project($name, $labels, $rels) "
                "YIELD nodeCount, relationshipCount RETURN nodeCount, relationshipCount",
                name=name, labels=labels, rels=rels)[0]
            expected = sum(len(self.graph.edges[t]) for t in chosen)
            if record["nodeCount"] != self.graph.num_nodes or \
                    record["relationshipCount"] != 2 * expected:
                raise EngineError(
                    f"GDS projection {name} has {record['nodeCount']} nodes and "
                    f"{record['relationshipCount']} relationships; expected {self.graph.num_nodes}"
                    f" and {2 * expected} (undirected): the database changed under the engine; "
                    "create the engine again to reload the graph"
                )
            log.info("projected %s: %d nodes, %d undirected relationships", name,
                     record["nodeCount"], record["relationshipCount"] // 2)
        self._projections[chosen] = name
        self._add_time("project", t0)
        return name

    # ------------------------------------------------------------------ random walks
    def random_walk_visits(self, customer_idx: np.ndarray, params: RandomWalkParams
                           ) -> sp.csr_matrix:
        """Article visit counts of walks from each customer, counted inside the database.

        Args:
            customer_idx: int array of shape (n,).
            params: walk parameters; ``restart_probability`` is mapped onto restart-free GDS
                walks of several lengths (``walks.segment_walks``).

        Returns:
            float32 CSR of shape (n, num_articles).
        """
        customer_idx = np.asarray(customer_idx, dtype=np.int64).reshape(-1)
        self._check_customers(customer_idx)
        graph_name = self.projection(params.edge_types)
        t0 = time.perf_counter()

        segments = segment_walks(params.walk_length, params.walks_per_node,
                                 params.restart_probability)
        configs = []
        for steps, walks in segments.items():
            config = {"walkLength": steps + 1, "walksPerNode": walks,
                      "randomSeed": int(params.random_seed) + 7919 * steps,
                      "concurrency": self.concurrency}
            if params.weighted:
                config["relationshipWeightProperty"] = "weight"
            configs.append(config)

        # Each start's steps are grouped by node in the database; only article counts return.
        query = (
            "MATCH (c:Customer) WHERE c.idx IN $customers "
            "WITH collect(c) AS sources "
            "UNWIND $configs AS config "
            "CALL gds.randomWalk.stream($graph, config {.*, sourceNodes: sources}) "
            "YIELD nodeIds "
            "WITH nodeIds[0] AS start, nodeIds[1..] AS path "
            "UNWIND path AS node "
            "WITH start, node, count(*) AS visits "
            "WITH start, gds.util.asNode(node) AS n, visits WHERE n:Article "
            "RETURN gds.util.asNode(start).idx AS customer, collect(n.idx) AS articles, "
            "collect(visits) AS counts"
        )
        unique = np.unique(customer_idx)
        steps_per_start = params.walk_length * params.walks_per_node
        chunk = max(1, self.walk_steps_per_query // max(steps_per_start, 1))
        by_customer: dict[int, tuple[list, list]] = {}
        for lo in range(0, len(unique), chunk):
            records = self._query(query, graph=graph_name, configs=configs,
                                  customers=unique[lo:lo + chunk].tolist())
            for r in records:
                by_customer[r["customer"]] = (r["articles"], r["counts"])

        # Rows follow the order (and repeats) of customer_idx.
        indptr, cols, data = [0], [], []
        for c in customer_idx.tolist():
            articles, counts = by_customer.get(c, ((), ()))
            order = np.argsort(np.asarray(articles, dtype=np.int64), kind="stable")
            cols.append(np.asarray(articles, dtype=np.int64)[order])
            data.append(np.asarray(counts, dtype=np.float32)[order])
            indptr.append(indptr[-1] + len(articles))
        visits = sp.csr_matrix(
            (np.concatenate(data) if data else np.empty(0, np.float32),
             np.concatenate(cols) if cols else np.empty(0, np.int64),
             np.asarray(indptr, dtype=np.int64)),
            shape=(len(customer_idx), self.graph.num_nodes_of(ARTICLE)),
        )
        self._add_time("random_walk", t0)
        log.debug("gds.randomWalk: %d customers, %d segment lengths, %d visits in %.1fs",
                  len(unique), len(segments), int(visits.sum()), time.perf_counter() - t0)
        return visits

    # ------------------------------------------------------------------ FastRP
    def fastrp(self, params: FastRPParams) -> NodeEmbeddings:
        """FastRP vectors of every customer and article from ``gds.fastRP``.

        The vectors are computed over every node of the projection, written to the
        customers' and articles' ``fastrp`` property (KNN reads them there) and returned.

        Returns:
            NodeEmbeddings with float32 arrays of shape (num_customers, dim) and
            (num_articles, dim).

        Raises:
            ModelError: a vector is missing or not finite.
        """
        graph_name = self.projection(params.edge_types)
        t0 = time.perf_counter()
        mutate_property = f"fastrp_{time.monotonic_ns()}"
        config = {
            "embeddingDimension": int(params.embedding_dimension),
            "iterationWeights": [float(w) for w in params.iteration_weights],
            "normalizationStrength": float(params.normalization_strength),
            "nodeSelfInfluence": float(params.node_self_influence),
            "randomSeed": int(params.random_seed),
            "concurrency": self.concurrency,
            "mutateProperty": mutate_property,
        }
        if params.weighted:
            config["relationshipWeightProperty"] = "weight"
        self._query("CALL gds.fastRP.mutate($graph, $config) YIELD nodePropertiesWritten",
                    graph=graph_name, config=config)
        try:
            self._query(
                "CALL gds.graph.nodeProperties.write($graph, [$property], ['Customer', "
                "'Article'], {writeConcurrency: $concurrency}) YIELD propertiesWritten",
                graph=graph_name, property={mutate_property: EMBEDDING_PROPERTY},
                concurrency=self.concurrency)
        finally:
            self._query("CALL gds.graph.nodeProperties.drop($graph, [$property]) "
                        "YIELD propertiesRemoved", graph=graph_name, property=mutate_property)
        customer = self._read_vectors(CUSTOMER, params.embedding_dimension)
        article = self._read_vectors(ARTICLE, params.embedding_dimension)
        token = self._set_embedding_token(customer, article)
        self._add_time("fastrp", t0)
        log.info("gds.fastRP: %d customers and %d articles x %d dims in %.1fs", len(customer),
                 len(article), params.embedding_dimension, time.perf_counter() - t0)
        return NodeEmbeddings(customer, article, params=params.__dict__ | {
            "engine": self.name, "embedding_token": token})

    def _read_vectors(self, node_type: str, dim: int) -> np.ndarray:
        label = label_of(node_type)
        records = self._query(f"MATCH (n:{label}) RETURN n.idx AS idx, n.{EMBEDDING_PROPERTY} "
                              "AS v")
        n = self.graph.num_nodes_of(node_type)
        out = np.full((n, dim), np.nan, dtype=np.float32)
        for r in records:
            if r["v"] is not None:
                out[r["idx"]] = r["v"]
        if not np.isfinite(out).all():
            bad = int((~np.isfinite(out).all(axis=1)).sum())
            raise ModelError(f"gds.fastRP left {bad} {node_type} vectors missing or not finite "
                             f"(got {n - bad} of {n} complete)")
        return out

    def _set_embedding_token(self, customer: np.ndarray, article: np.ndarray) -> str:
        """Record which vectors the database's ``fastrp`` properties hold."""
        h = hashlib.sha256(customer.tobytes())
        h.update(article.tobytes())
        token = h.hexdigest()[:24]
        self._query(f"MERGE (m:{META_LABEL} {{name: 'graph'}}) SET m.embedding_token = $token",
                    token=token)
        self._embedding_token = token
        return token

    def _ensure_embeddings_stored(self, embeddings: NodeEmbeddings) -> None:
        """Write ``embeddings`` into the database unless it already holds them."""
        token = embeddings.params.get("embedding_token")
        if token is not None and token == self._embedding_token:
            return
        for node_type, vectors in ((CUSTOMER, embeddings.customer), (ARTICLE, embeddings.article)):
            expected = self.graph.num_nodes_of(node_type)
            if vectors.shape[0] != expected:
                raise ModelError(f"{node_type} embeddings have {vectors.shape[0]} rows for "
                                 f"{expected} {node_type} nodes (got shape {vectors.shape})")
            label = label_of(node_type)
            rows = np.asarray(vectors, dtype=np.float64)
            for lo in range(0, len(rows), self.batch_size):
                self._query(f"UNWIND $rows AS r MATCH (n:{label} {{key: r[0]}}) "
                            f"SET n.{EMBEDDING_PROPERTY} = r[1]",
                            rows=[[k, v] for k, v in zip(
                                np.asarray(self.graph.nodes[node_type].keys).astype(str)
                                [lo:lo + self.batch_size].tolist(),
                                rows[lo:lo + self.batch_size].tolist())])
        self._set_embedding_token(np.asarray(embeddings.customer, dtype=np.float32),
                                  np.asarray(embeddings.article, dtype=np.float32))

    # ------------------------------------------------------------------ KNN
    def filtered_knn(self, embeddings: NodeEmbeddings, customer_idx: np.ndarray, k: int,
                     exclude: sp.csr_matrix | None = None, candidates: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` articles by cosine similarity from ``gds.knn.filtered``.

        Sources are the customers, targets the candidate articles. GDS cannot skip per-customer
        pairs, so the engine asks for ``k`` plus the most excluded candidates any customer of the
        batch has, then drops the excluded ones: every customer keeps ``k`` if it can.

        Args:
            embeddings: vectors (written to the database first unless it holds them already).
            customer_idx: int array of shape (n,).
            k: list length.
            exclude: CSR of shape (num_customers, num_articles); nonzero pairs are skipped.
            candidates: bool array of shape (num_articles,): only these may be returned.

        Returns:
            (article_idx, similarity): int64 and float32 arrays of shape (n, k), best first;
            ``-1`` and ``-inf`` pad short rows (and customers with a zero vector).
        """
        customer_idx = np.asarray(customer_idx, dtype=np.int64).reshape(-1)
        self._check_customers(customer_idx)
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ConfigError(f"k must be an integer >= 1 (got {k!r})")
        self._ensure_embeddings_stored(embeddings)
        t0 = time.perf_counter()
        n = len(customer_idx)
        out_a = np.full((n, k), -1, dtype=np.int64)
        out_s = np.full((n, k), -np.inf, dtype=np.float32)

        # Zero vectors have no cosine neighbours (as in the embedded engine).
        targets = np.any(embeddings.article != 0, axis=1)
        if candidates is not None:
            targets &= np.asarray(candidates, dtype=bool)
        sources = np.unique(customer_idx[np.any(embeddings.customer[customer_idx] != 0, axis=1)])
        if len(sources) == 0 or not targets.any():
            return out_a, out_s
        target_idx = np.flatnonzero(targets)

        # Enough neighbours that k remain after dropping excluded ones.
        top_k = k
        if exclude is not None:
            excluded = exclude[sources][:, target_idx]
            top_k += int(np.diff(excluded.indptr).max(initial=0))
        top_k = min(top_k, len(target_idx))

        knn_graph = f"fashiongraph-knn-{time.monotonic_ns()}"
        self._query(
            "MATCH (n) WHERE (n:Customer AND n.idx IN $sources) "
            "OR (n:Article AND n.idx IN $targets) "
            "WITH gds.graph.project($name, n, null, {sourceNodeLabels: labels(n), "
            f"sourceNodeProperties: n {{.{EMBEDDING_PROPERTY}}}}}) AS g RETURN g.nodeCount AS c",
            name=knn_graph, sources=sources.tolist(), targets=target_idx.tolist())
        try:
            config = {
                "nodeProperties": {EMBEDDING_PROPERTY: "COSINE"},
                "topK": int(top_k),
                "sourceNodeFilter": "Customer",
                "targetNodeFilter": "Article",
                "seedTargetNodes": True,
                "sampleRate": float(self.knn.sample_rate),
                "deltaThreshold": float(self.knn.delta_threshold),
                "maxIterations": int(self.knn.max_iterations),
                "randomJoins": int(self.knn.random_joins),
                "randomSeed": 42,
                "concurrency": self.concurrency,
            }
            records = self._query(
                "CALL gds.knn.filtered.stream($name, $config) YIELD node1, node2, similarity "
                "WITH gds.util.asNode(node1).idx AS customer, gds.util.asNode(node2).idx AS "
                "article, similarity ORDER BY customer, similarity DESC, article "
                "RETURN customer, collect(article) AS articles, collect(similarity) AS sims",
                name=knn_graph, config=config)
        finally:
            self._query("CALL gds.graph.drop($name, false) YIELD graphName", name=knn_graph)

        by_customer = {r["customer"]: (r["articles"], r["sims"]) for r in records}
        for i, c in enumerate(customer_idx.tolist()):
            if c not in by_customer:
                continue
            articles = np.asarray(by_customer[c][0], dtype=np.int64)
            sims = np.asarray(by_customer[c][1], dtype=np.float32)
            if exclude is not None:
                bought = exclude.indices[exclude.indptr[c]:exclude.indptr[c + 1]]
                keep = ~np.isin(articles, bought)
                articles, sims = articles[keep], sims[keep]
            m = min(k, len(articles))
            out_a[i, :m] = articles[:m]
            out_s[i, :m] = sims[:m]
        self._add_time("knn", t0)
        log.debug("gds.knn.filtered: %d customers, %d target articles, topK %d in %.1fs",
                  len(sources), len(target_idx), top_k, time.perf_counter() - t0)
        return out_a, out_s

    # ------------------------------------------------------------------ housekeeping
    def _check_customers(self, customer_idx: np.ndarray) -> None:
        n = self.graph.num_nodes_of(CUSTOMER)
        bad = (customer_idx < 0) | (customer_idx >= n)
        if bad.any():
            raise ConfigError(
                f"customer_idx must be in 0..{n - 1} (got {customer_idx[bad][:5].tolist()})"
            )

    def close(self) -> None:
        """Drop the GDS projections this engine made and close the driver."""
        driver = getattr(self, "driver_", None)
        if driver is None:
            return
        try:
            for name in self._projections.values():
                self._query("CALL gds.graph.drop($name, false) YIELD graphName", name=name)
        except EngineError as exc:
            log.warning("could not drop GDS projections: %s", exc)
        finally:
            self._projections.clear()
            driver.close()
            self.driver_ = None
