"""Putting a ``KnowledgeGraph`` into Neo4j: an online path through the driver, a bulk path
through ``neo4j-admin database import full``, and a count check after either.

The database model mirrors the knowledge graph one to one:

- one label per node type, in CamelCase (``customer`` -> ``Customer``, ``product_type`` ->
  ``ProductType``), with properties ``key`` (the identifying value as a string: customer id,
  article id, attribute code; unique per label), ``idx`` (the local id: ``customer_idx`` and
  ``article_idx`` for customers and articles) and ``name`` (a readable label);
- one relationship type per edge type (``PURCHASED``, ``HAS_PRODUCT_TYPE``, ...), directed from
  the edge table's source to its destination, with property ``weight`` (the engine projects
  them undirected);
- one ``(:FashiongraphMeta {name: 'graph'})`` node recording the loaded graph's fingerprint and
  counts, so that loading the same graph again is a no-op and another graph replaces it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fashiongraph.errors import EngineError, GraphError
from fashiongraph.graph.model import KnowledgeGraph

log = logging.getLogger(__name__)

META_LABEL = "FashiongraphMeta"

DELETE_BATCH = 10_000
"""Stale nodes or relationships deleted per transaction (whatever the load's batch size)."""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def label_of(node_type: str) -> str:
    """Neo4j label of a node type: ``product_type`` -> ``ProductType``."""
    if not _IDENTIFIER.match(node_type):
        raise GraphError(
            f"node type {node_type!r} cannot be a Neo4j label: letters, digits and _ only"
        )
    return "".join(part[:1].upper() + part[1:] for part in node_type.split("_") if part)


def _rel_type(edge_type: str) -> str:
    if not _IDENTIFIER.match(edge_type):
        raise GraphError(
            f"edge type {edge_type!r} cannot be a Neo4j relationship type: letters, digits and _ "
            "only"
        )
    return edge_type


def graph_fingerprint(graph: KnowledgeGraph) -> str:
    """sha256 (hex) of every node key and edge of ``graph``: equal graphs, equal fingerprints."""
    h = hashlib.sha256()
    for t, n in graph.nodes.items():
        h.update(t.encode())
        h.update("\x1f".join(np.asarray(n.keys).astype(str).tolist()).encode())
    for t, e in graph.edges.items():
        h.update(f"{t}:{e.src_type}:{e.dst_type}".encode())
        for arr in (e.src, e.dst):
            h.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(e.weight, dtype=np.float32).tobytes())
    return h.hexdigest()


@dataclass
class LoadReport:
    """What a load did.

    Attributes:
        path: ``"online"``, ``"bulk"`` or ``"unchanged"`` (the database already held the graph).
        fingerprint: the graph's fingerprint.
        nodes: node count per label found in the database after loading.
        relationships: relationship count per type found after loading.
        seconds: wall time of the load, count check included.
        deleted: stale nodes and relationships removed (online path).
    """

    path: str
    fingerprint: str
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    deleted: int = 0

    def summary(self) -> str:
        return (f"{self.path}: {sum(self.nodes.values())} nodes in {len(self.nodes)} labels, "
                f"{sum(self.relationships.values())} relationships in "
                f"{len(self.relationships)} types, {self.seconds:.1f}s")


# ------------------------------------------------------------------------------------ shared
def stored_fingerprint(driver, database: str) -> str | None:
    """The fingerprint of the graph the database holds (``None`` if it holds none)."""
    with driver.session(database=database) as session:
        record = session.run(f"MATCH (m:{META_LABEL} {{name: 'graph'}}) "
                             "RETURN m.fingerprint AS f").single()
    return None if record is None else record["f"]


def _stored_types(driver, database: str) -> tuple[list[str], list[str]]:
    with driver.session(database=database) as session:
        record = session.run(f"MATCH (m:{META_LABEL} {{name: 'graph'}}) "
                             "RETURN m.labels AS labels, m.types AS types").single()
    if record is None:
        return [], []
    return list(record["labels"] or []), list(record["types"] or [])


def ensure_constraints(driver, database: str, graph: KnowledgeGraph) -> None:
    """A uniqueness constraint on ``key`` per label (it also indexes the key for ``MERGE``)."""
    with driver.session(database=database) as session:
        for t in graph.nodes:
            label = label_of(t)
            session.run(f"CREATE CONSTRAINT fashiongraph_{label}_key IF NOT EXISTS "
                        f"FOR (n:{label}) REQUIRE n.key IS UNIQUE").consume()
        session.run(f"CREATE CONSTRAINT fashiongraph_meta_name IF NOT EXISTS "
                    f"FOR (m:{META_LABEL}) REQUIRE m.name IS UNIQUE").consume()
        session.run("CALL db.awaitIndexes(300)").consume()


def count_in_database(driver, database: str, graph: KnowledgeGraph
                      ) -> tuple[dict[str, int], dict[str, int]]:
    """Node count per label and relationship count per type of ``graph``'s types, as stored."""
    nodes, rels = {}, {}
    with driver.session(database=database) as session:
        for t in graph.nodes:
            label = label_of(t)
            nodes[label] = session.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"]
        for t in graph.edges:
            rel = _rel_type(t)
            rels[rel] = session.run(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS c").single()["c"]
    return nodes, rels


def count_differences(graph: KnowledgeGraph, nodes: dict, rels: dict) -> list[str]:
    """``"<label or type>: <stored> stored, <expected> expected"`` for every count that differs."""
    wrong = [f"{label_of(t)}: {nodes[label_of(t)]} stored, {len(n)} expected"
             for t, n in graph.nodes.items() if nodes[label_of(t)] != len(n)]
    wrong += [f"{t}: {rels[t]} stored, {len(e)} expected"
              for t, e in graph.edges.items() if rels[t] != len(e)]
    return wrong


def check_counts(driver, database: str, graph: KnowledgeGraph) -> tuple[dict, dict]:
    """Compare the stored counts with ``graph``'s; raise ``EngineError`` on any difference."""
    nodes, rels = count_in_database(driver, database, graph)
    wrong = count_differences(graph, nodes, rels)
    if wrong:
        raise EngineError(
            f"database {database!r} does not hold the knowledge graph after loading (got "
            f"{'; '.join(wrong[:5])}): another process may write to the same labels; load again "
            "with a fresh database (`neo4j/neo4j.sh reset`)"
        )
    return nodes, rels


def _write_meta(driver, database: str, graph: KnowledgeGraph, fingerprint: str) -> None:
    with driver.session(database=database) as session:
        session.run(
            f"MERGE (m:{META_LABEL} {{name: 'graph'}}) "
            "SET m.fingerprint = $fingerprint, m.summary = $summary, m.labels = $labels, "
            "m.types = $types, m.loaded_at = datetime()",
            fingerprint=fingerprint, summary=json.dumps(graph.summary()),
            labels=[label_of(t) for t in graph.nodes], types=list(graph.edges),
        ).consume()


# ------------------------------------------------------------------------------------ online
def load_online(driver, database: str, graph: KnowledgeGraph, *, batch_size: int = 10_000,
                force: bool = False) -> LoadReport:
    """Load ``graph`` through the driver: constraints, batched ``UNWIND ... MERGE``, clean-up.

    Re-running with the same graph finds the fingerprint and the right counts and does nothing
    (unless ``force``); with wrong counts it loads again.
    Loading a different graph updates what changed: nodes and relationships are merged on their
    keys, weights and names are set, and those the new graph lacks are deleted, so that the
    database ends up holding exactly ``graph`` (incremental updates, e.g. a later cutoff).

    Args:
        driver: a connected ``neo4j.Driver``.
        database: target database.
        graph: the knowledge graph.
        batch_size: rows per ``UNWIND`` transaction.
        force: load even if the fingerprint matches.

    Returns:
        LoadReport with the counts found after loading.

    Raises:
        EngineError: the stored counts differ from the graph's after loading.
    """
    t0 = time.perf_counter()
    fingerprint = graph_fingerprint(graph)
    if not force and stored_fingerprint(driver, database) == fingerprint:
        nodes, rels = count_in_database(driver, database, graph)
        wrong = count_differences(graph, nodes, rels)
        if not wrong:
            report = LoadReport("unchanged", fingerprint, nodes, rels, time.perf_counter() - t0)
            log.info("neo4j graph load %s", report.summary())
            return report
        # Changed since it was loaded: merge everything again, which repairs it.
        log.warning("database %r holds this graph but was changed since (%s): loading again",
                    database, "; ".join(wrong[:5]))

    ensure_constraints(driver, database, graph)
    load_id = fingerprint[:16]
    with driver.session(database=database) as session:
        # Nodes first, one label at a time, merged on their key.
        for t, n in graph.nodes.items():
            label = label_of(t)
            keys = np.asarray(n.keys).astype(str)
            names = np.asarray(n.labels).astype(str)
            query = (f"UNWIND $rows AS r MERGE (n:{label} {{key: r[0]}}) "
                     "SET n.idx = r[1], n.name = r[2], n.load = $load")
            for lo in range(0, len(keys), batch_size):
                rows = [[k, i, nm] for i, (k, nm) in enumerate(
                    zip(keys[lo:lo + batch_size].tolist(), names[lo:lo + batch_size].tolist()),
                    start=lo)]
                session.execute_write(_run, query, rows=rows, load=load_id)
            log.debug("merged %d %s nodes", len(keys), label)

        # Relationships, matched on both ends' keys; MERGE keeps re-runs from duplicating them.
        for t, e in graph.edges.items():
            rel = _rel_type(t)
            src_keys = np.asarray(graph.nodes[e.src_type].keys).astype(str)[e.src]
            dst_keys = np.asarray(graph.nodes[e.dst_type].keys).astype(str)[e.dst]
            weights = np.asarray(e.weight, dtype=np.float64)
            query = (f"UNWIND $rows AS r MATCH (a:{label_of(e.src_type)} {{key: r[0]}}) "
                     f"MATCH (b:{label_of(e.dst_type)} {{key: r[1]}}) "
                     f"MERGE (a)-[x:{rel}]->(b) SET x.weight = r[2], x.load = $load")
            for lo in range(0, len(e), batch_size):
                hi = lo + batch_size
                rows = [list(r) for r in zip(src_keys[lo:hi].tolist(), dst_keys[lo:hi].tolist(),
                                             weights[lo:hi].tolist())]
                session.execute_write(_run, query, rows=rows, load=load_id)
            log.debug("merged %d %s relationships", len(e), rel)

    deleted = _delete_stale(driver, database, graph, load_id)
    _write_meta(driver, database, graph, fingerprint)
    nodes, rels = check_counts(driver, database, graph)
    report = LoadReport("online", fingerprint, nodes, rels, time.perf_counter() - t0, deleted)
    log.info("neo4j graph load %s", report.summary())
    return report


def _run(tx, query, **params):
    tx.run(query, **params).consume()


def _delete_stale(driver, database: str, graph: KnowledgeGraph, load_id: str) -> int:
    """Delete what an earlier load left that ``graph`` does not have; return how many."""
    old_labels, old_types = _stored_types(driver, database)
    labels = sorted(set(old_labels) | {label_of(t) for t in graph.nodes})
    types = sorted(set(old_types) | set(graph.edges))
    deleted = 0
    with driver.session(database=database) as session:
        for rel in types:
            result = session.run(
                f"MATCH ()-[x:{_rel_type(rel)}]->() WHERE x.load IS NULL OR x.load <> $load "
                f"CALL {{ WITH x DELETE x }} IN TRANSACTIONS OF {DELETE_BATCH} ROWS",
                load=load_id)
            deleted += result.consume().counters.relationships_deleted
        for label in labels:
            if not _IDENTIFIER.match(label):
                continue
            result = session.run(
                f"MATCH (n:{label}) WHERE n.load IS NULL OR n.load <> $load "
                f"CALL {{ WITH n DETACH DELETE n }} IN TRANSACTIONS OF {DELETE_BATCH} ROWS",
                load=load_id)
            counters = result.consume().counters
            deleted += counters.nodes_deleted + counters.relationships_deleted
    if deleted:
        log.info("deleted %d stale nodes and relationships of an earlier graph", deleted)
    return deleted


# -------------------------------------------------------------------------------------- bulk
def write_import_files(graph: KnowledgeGraph, directory: str | Path) -> list[str]:
    """Write ``neo4j-admin database import`` CSV files and return its file arguments.

    Each node type gets its own id space (``key:ID(<label>)``), so that keys of different types
    (e.g. a department number and a garment group number) never collide; relationship files
    name the id space of each end (``:START_ID(Customer)``).

    Returns:
        list[str]: ``--nodes=Label=file`` and ``--relationships=TYPE=file`` arguments.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    args = []
    for t, n in graph.nodes.items():
        label = label_of(t)
        path = directory / f"nodes.{label}.csv"
        keys = np.asarray(n.keys).astype(str)
        # One line per row lets neo4j-admin parse in parallel (no --multiline-fields).
        names = np.char.replace(np.char.replace(np.asarray(n.labels).astype(str), "\n", " "),
                                "\r", " ")
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
            w.writerow([f"key:ID({label})", "idx:long", "name"])
            w.writerows(zip(keys.tolist(), range(len(keys)), names.tolist()))
        args.append(f"--nodes={label}={path}")
    for t, e in graph.edges.items():
        rel = _rel_type(t)
        path = directory / f"relationships.{rel}.csv"
        src_keys = np.asarray(graph.nodes[e.src_type].keys).astype(str)[e.src]
        dst_keys = np.asarray(graph.nodes[e.dst_type].keys).astype(str)[e.dst]
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
            w.writerow([f":START_ID({label_of(e.src_type)})", f":END_ID({label_of(e.dst_type)})",
                        "weight:double"])
            w.writerows(zip(src_keys.tolist(), dst_keys.tolist(),
                            np.asarray(e.weight, dtype=np.float64).tolist()))
        args.append(f"--relationships={rel}={path}")
    return args


def load_bulk(graph: KnowledgeGraph, server, settings) -> LoadReport:
    """Replace the local server's database with ``graph`` through ``neo4j-admin`` import.

    The server is stopped, the database is imported in full (overwriting it), the server is
    started again, then constraints, the fingerprint and a count check follow online.

    Args:
        graph: the knowledge graph.
        server: ``fashiongraph.engines.neo4j.server.LocalServer`` that owns the database.
        settings: ``Neo4jSettings`` pointing at that server.

    Notes:
        Only for a server this project manages (``neo4j/neo4j.sh``): ``neo4j-admin`` writes the
        store files directly and needs the server down. For a remote server use the online path.
    """
    from fashiongraph.engines.neo4j.connection import connect

    t0 = time.perf_counter()
    fingerprint = graph_fingerprint(graph)
    with tempfile.TemporaryDirectory(prefix="fashiongraph-import-") as tmp:
        args = write_import_files(graph, tmp)
        log.info("wrote import files for %d node and %d relationship types in %.1fs",
                 len(graph.nodes), len(graph.edges), time.perf_counter() - t0)
        server.stop()
        server.admin(["database", "import", "full", settings.database,
                      "--overwrite-destination=true", "--bad-tolerance=0", *args])
    server.start()
    driver = connect(settings)
    try:
        ensure_constraints(driver, settings.database, graph)
        _write_meta(driver, settings.database, graph, fingerprint)
        nodes, rels = check_counts(driver, settings.database, graph)
    finally:
        driver.close()
    report = LoadReport("bulk", fingerprint, nodes, rels, time.perf_counter() - t0)
    log.info("neo4j graph load %s", report.summary())
    return report
