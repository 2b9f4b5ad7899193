"""Loading knowledge graphs into Neo4j: online (idempotent, incremental) and the import files.

Runs before the ``test_sample_*`` modules (file order), which load the real sample afterwards.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fashiongraph.engines.neo4j import loader
from fashiongraph.errors import EngineError
from fashiongraph.graph.build import build_knowledge_graph


@pytest.fixture()
def driver(neo4j_settings):
    from fashiongraph.engines.neo4j.connection import connect

    d = connect(neo4j_settings)
    yield d
    d.close()


def stored_edges(driver, database, rel_type):
    """{(source key, destination key): weight} of one relationship type as stored."""
    with driver.session(database=database) as session:
        rows = session.run(f"MATCH (a)-[r:{rel_type}]->(b) RETURN a.key AS a, b.key AS b, "
                           "r.weight AS w").values()
    return {(a, b): w for a, b, w in rows}


def graph_edges(graph, rel_type):
    e = graph.edges[rel_type]
    src = np.asarray(graph.nodes[e.src_type].keys).astype(str)[e.src]
    dst = np.asarray(graph.nodes[e.dst_type].keys).astype(str)[e.dst]
    return dict(zip(zip(src.tolist(), dst.tolist()), e.weight.astype(float).tolist()))


@pytest.mark.neo4j
def test_online_load_is_idempotent_and_incremental(driver, neo4j_settings, tiny_dataset):
    db = neo4j_settings.database
    before = build_knowledge_graph(tiny_dataset, "2020-09-08")
    later = build_knowledge_graph(tiny_dataset, "2020-09-10")

    first = loader.load_online(driver, db, before, batch_size=3)
    assert first.path == "online"
    assert first.nodes == {loader.label_of(t): len(n) for t, n in before.nodes.items()}
    assert first.relationships == {t: len(e) for t, e in before.edges.items()}
    assert stored_edges(driver, db, "PURCHASED") == pytest.approx(
        graph_edges(before, "PURCHASED"))

    # The same graph again: nothing to do; forced: merged, not duplicated.
    assert loader.load_online(driver, db, before).path == "unchanged"
    forced = loader.load_online(driver, db, before, batch_size=2, force=True)
    assert (forced.path, forced.deleted) == ("online", 0)
    assert forced.relationships == first.relationships

    # A later cutoff adds c2's purchases of a3 and a4 (and their attribute edges).
    grown = loader.load_online(driver, db, later)
    assert grown.relationships["PURCHASED"] == len(later.edges["PURCHASED"]) == 6
    assert stored_edges(driver, db, "PURCHASED") == pytest.approx(graph_edges(later, "PURCHASED"))

    # Back to the earlier graph: what it lacks is deleted.
    shrunk = loader.load_online(driver, db, before)
    assert shrunk.deleted > 0
    assert shrunk.relationships == first.relationships
    assert stored_edges(driver, db, "PURCHASED") == pytest.approx(
        graph_edges(before, "PURCHASED"))


@pytest.mark.neo4j
def test_database_holds_the_knowledge_graph_types(driver, neo4j_settings, tiny_dataset):
    db = neo4j_settings.database
    graph = build_knowledge_graph(tiny_dataset, "2020-09-08")
    loader.load_online(driver, db, graph)
    with driver.session(database=db) as session:
        labels = set(session.run("CALL db.labels() YIELD label RETURN label").value())
        types = set(session.run("MATCH ()-[r]->() RETURN DISTINCT type(r)").value())
        customer = session.run("MATCH (c:Customer {key: 'c0'}) RETURN c.idx AS idx").single()
    assert {loader.label_of(t) for t in graph.nodes} <= labels
    assert types == set(graph.edges)
    assert customer["idx"] == 0
    assert loader.label_of("product_type") == "ProductType"


@pytest.mark.neo4j
def test_count_check_names_what_differs(driver, neo4j_settings, tiny_dataset):
    db = neo4j_settings.database
    graph = build_knowledge_graph(tiny_dataset, "2020-09-08")
    loader.load_online(driver, db, graph)
    with driver.session(database=db) as session:
        session.run("MATCH ()-[r:PURCHASED]->() WITH r LIMIT 1 DELETE r").consume()
    with pytest.raises(EngineError, match=(
            r"database 'neo4j' does not hold the knowledge graph after loading \(got "
            r"PURCHASED: 3 stored, 4 expected\)")):
        loader.check_counts(driver, db, graph)
    # An online load repairs it: the fingerprint matches, but the counts do not.
    assert loader.load_online(driver, db, graph).path == "online"
    loader.check_counts(driver, db, graph)


def test_import_files_use_one_id_space_per_node_type(tiny_dataset, tmp_path):
    graph = build_knowledge_graph(tiny_dataset, "2020-09-08")
    args = loader.write_import_files(graph, tmp_path)
    assert f"--nodes=Customer={tmp_path / 'nodes.Customer.csv'}" in args
    assert f"--relationships=PURCHASED={tmp_path / 'relationships.PURCHASED.csv'}" in args
    with open(tmp_path / "relationships.PURCHASED.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [":START_ID(Customer)", ":END_ID(Article)", "weight:double"]
    assert len(rows) - 1 == len(graph.edges["PURCHASED"])
    with open(tmp_path / "nodes.ColourGroup.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["key:ID(ColourGroup)", "idx:long", "name"]
