"""The Neo4j engine on the bundled real sample: bulk load, projection, walks, FastRP, KNN."""

from __future__ import annotations

import numpy as np
import pytest

from fashiongraph.engines.base import FastRPParams, RandomWalkParams
from fashiongraph.engines.embedded.knn import cosine_top_k
from fashiongraph.engines.neo4j import loader
from fashiongraph.errors import ConfigError
from fashiongraph.graph.model import ARTICLE, CUSTOMER

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def customers(sample_context):
    """40 customers with purchases before the cutoff and 3 without."""
    counts = np.diff(sample_context.purchases.indptr)
    return np.concatenate([np.flatnonzero(counts > 0)[:40], np.flatnonzero(counts == 0)[:3]])


@pytest.fixture(scope="module")
def embeddings(sample_engine):
    return sample_engine.fastrp(FastRPParams())


def test_load_puts_every_node_and_edge_type_in_the_database(sample_engine, sample_context):
    graph = sample_context.graph
    report = sample_engine.load_report_
    assert report.path in ("bulk", "online")
    assert report.nodes == {loader.label_of(t): len(n) for t, n in graph.nodes.items()}
    assert report.relationships == {t: len(e) for t, e in graph.edges.items()}
    assert sum(report.nodes.values()) == graph.num_nodes == 154_792
    assert sum(report.relationships.values()) == graph.num_edges == 234_271


def test_online_load_after_the_bulk_load_finds_the_graph(sample_engine, sample_context):
    again = loader.load_online(sample_engine.driver_, sample_engine.settings.database,
                               sample_context.graph)
    assert again.path == "unchanged"
    assert again.relationships == sample_engine.load_report_.relationships


def test_walk_visits_have_the_embedded_shape_and_total(sample_engine, sample_context, customers):
    from fashiongraph.engines.embedded.engine import EmbeddedEngine

    params = RandomWalkParams()
    visits = sample_engine.random_walk_visits(customers, params)
    reference = EmbeddedEngine(sample_context.graph).random_walk_visits(customers, params)
    assert visits.shape == reference.shape == (len(customers), sample_context.dataset.num_articles)
    assert visits.dtype == np.float32
    # Totals agree within 3% (both are sums of ~100K random visits).
    assert visits.sum() == pytest.approx(reference.sum(), rel=0.03)
    # Every visited article has an edge: articles unsold before the cutoff are isolated.
    sold = np.diff(sample_context.purchases.tocsc().indptr) > 0
    assert sold[np.unique(visits.indices)].all()


def test_walks_reproduce_with_a_seed_and_follow_the_order_asked(sample_engine, customers):
    params = RandomWalkParams(walks_per_node=50, random_seed=3)
    first = sample_engine.random_walk_visits(customers[:10], params)
    again = sample_engine.random_walk_visits(customers[:10][::-1], params)
    assert (first[::-1] != again).nnz == 0
    other = sample_engine.random_walk_visits(customers[:10], RandomWalkParams(
        walks_per_node=50, random_seed=4))
    assert (first != other).nnz > 0


def test_customers_out_of_range_are_refused(sample_engine):
    with pytest.raises(ConfigError, match=r"customer_idx must be in 0\.\.1363 \(got \[5000\]\)"):
        sample_engine.random_walk_visits(np.array([5000]), RandomWalkParams())


def test_fastrp_vectors_stay_in_gds_and_are_reused(sample_engine, embeddings, sample_context):
    assert sample_engine.fastrp(FastRPParams()) is embeddings
    assert embeddings.num_articles == sample_context.dataset.num_articles
    vectors = embeddings.customer
    assert vectors.shape == (sample_context.dataset.num_customers, 128)
    assert np.isfinite(vectors).all()
    # Customers with an edge have a vector; every sample customer has one (attributes, purchases).
    degree = np.zeros(sample_context.graph.num_nodes_of(CUSTOMER))
    for e in sample_context.graph.edges.values():
        if e.src_type == CUSTOMER:
            np.add.at(degree, e.src, 1)
    assert (np.abs(vectors).sum(axis=1) > 0).sum() == (degree > 0).sum()


def candidate_vectors(engine, embeddings, article_idx):
    """float32 (len(article_idx), dim): the GDS vectors of some articles, read in the database."""
    rows = engine.query("UNWIND $ids AS id MATCH (n) WHERE id(n) = id "
                        "RETURN n.idx AS idx, gds.util.nodeProperty($graph, n, $property) AS v",
                        ids=engine.node_ids_.article[article_idx].tolist(),
                        graph=embeddings.graph_name, property=embeddings.property)
    by_idx = {r["idx"]: r["v"] for r in rows}
    return np.asarray([by_idx[a] for a in article_idx], dtype=np.float32)


def test_filtered_knn_finds_the_exact_cosine_neighbours(sample_engine, embeddings,
                                                        sample_context, customers):
    candidates = sample_context.sold_within(28)
    cand_idx = np.flatnonzero(candidates)
    found, sims = sample_engine.filtered_knn(embeddings, customers, 12, None, candidates)
    exact_i, exact_s = cosine_top_k(embeddings.customer[customers],
                                    candidate_vectors(sample_engine, embeddings, cand_idx), 12)
    exact = np.where(exact_i >= 0, cand_idx[np.maximum(exact_i, 0)], -1)
    recall = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max((b >= 0).sum(), 1)
                      for a, b in zip(found, exact)])
    assert recall >= 0.9, f"gds.knn.filtered recall of the exact top 12: {recall:.3f}"
    # Similarities are cosines (GDS's (1 + cos) / 2 turned back), best first.
    rows = found[:, 0] >= 0
    np.testing.assert_allclose(sims[rows, 0], exact_s[rows, 0], atol=1e-4)
    assert (np.diff(sims[rows], axis=1) <= 1e-6).all()
    assert candidates[found[found >= 0]].all()


def test_filtered_knn_skips_excluded_articles_and_keeps_k(sample_engine, embeddings,
                                                           sample_context, customers):
    purchases = sample_context.purchases
    found, _ = sample_engine.filtered_knn(embeddings, customers[:40], 12, purchases,
                                          sample_context.sold_within(28))
    for c, row in zip(customers[:40], found):
        assert not np.isin(row, purchases[c].indices).any()
        assert (row >= 0).all()


def test_filtered_knn_refuses_vectors_of_another_engine(sample_engine, sample_context):
    from fashiongraph.engines.base import NodeEmbeddings

    foreign = NodeEmbeddings(np.ones((1364, 4), np.float32), np.ones((105542, 4), np.float32),
                             params={"engine": "embedded"})
    with pytest.raises(ConfigError, match=(
            r"the neo4j engine's filtered_knn searches vectors held in its GDS projection: pass "
            r"the embeddings its own fastrp\(\) returned \(got embeddings of engine "
            r"'embedded'\)")):
        sample_engine.filtered_knn(foreign, np.array([0]), 12)


def test_edge_type_subsets_project_every_node(sample_engine, sample_context, customers):
    params = RandomWalkParams(edge_types=("PURCHASED", "HAS_PRODUCT_TYPE"), walks_per_node=20)
    visits = sample_engine.random_walk_visits(customers, params)
    assert visits.shape == (len(customers), sample_context.graph.num_nodes_of(ARTICLE))
    # Without customer attribute edges, customers without purchases reach nothing.
    assert visits[-3:].nnz == 0
    assert visits[:40].nnz > 0
