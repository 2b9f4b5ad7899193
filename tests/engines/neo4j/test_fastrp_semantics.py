"""The embedded FastRP computes what gds.fastRP computes, given the same random vectors.

Runs before the ``test_sample_*`` modules (file order): it loads a small graph.
"""

from __future__ import annotations

import numpy as np
import pytest

from fashiongraph.engines.base import FastRPParams
from fashiongraph.engines.embedded.fastrp import fastrp
from fashiongraph.engines.neo4j.engine import Neo4jEngine
from fashiongraph.engines.neo4j.loader import label_of
from fashiongraph.graph.build import build_knowledge_graph

pytestmark = pytest.mark.neo4j


def gds_vectors(engine, embeddings, graph):
    """float64 (num_nodes, dim): a GDS embedding of every node, rows in global id order."""
    type_of = {label_of(t): t for t in graph.nodes}
    rows = engine.query(
        "CALL gds.graph.nodeProperty.stream($graph, $property) YIELD nodeId, propertyValue "
        "WITH gds.util.asNode(nodeId) AS n, propertyValue "
        "RETURN labels(n)[0] AS label, n.idx AS idx, propertyValue AS v",
        graph=embeddings.graph_name, property=embeddings.property)
    out = np.zeros((graph.num_nodes, len(rows[0]["v"])))
    for r in rows:
        out[graph.offsets[type_of[r["label"]]] + r["idx"]] = r["v"]
    return out


@pytest.fixture(scope="module")
def small_graph_engine(neo4j_settings, sample_dataset):
    """The sample's first 80 customers, the articles they bought, their real attributes."""
    from fashiongraph.data.dataset import Dataset

    tx = sample_dataset.transactions
    tx = tx[tx["customer_idx"] < 80].copy()
    bought = np.unique(tx["article_idx"].to_numpy())
    tx["article_idx"] = np.searchsorted(bought, tx["article_idx"].to_numpy())
    small = Dataset(sample_dataset.articles.iloc[bought].reset_index(drop=True),
                    sample_dataset.customers.iloc[:80].reset_index(drop=True),
                    tx.reset_index(drop=True).astype(tx.dtypes.to_dict()))
    graph = build_knowledge_graph(small, "2020-09-16")
    engine = Neo4jEngine(graph)
    yield graph, engine
    engine.close()


@pytest.mark.parametrize("weighted", [True, False])
def test_embedded_fastrp_equals_gds_given_its_random_vectors(small_graph_engine, weighted):
    graph, engine = small_graph_engine
    params = FastRPParams(embedding_dimension=32, iteration_weights=(0.5, 1.0, 1.0),
                          node_self_influence=0.3, weighted=weighted)
    # GDS's initial vectors: its embedding with the self term alone (normalised; the raw
    # entries are +c, -c or 0, so their signs are the vectors up to a constant).
    alone = engine.fastrp(FastRPParams(embedding_dimension=32, iteration_weights=(0.0,),
                                       node_self_influence=1.0))
    initial = np.sign(gds_vectors(engine, alone, graph)).astype(np.float32)
    expected = gds_vectors(engine, engine.fastrp(params), graph)
    ours = fastrp(graph.to_csr(), params, initial=initial)
    assert np.abs(expected).sum() > 0
    np.testing.assert_allclose(ours, expected, atol=1e-4)
