import numpy as np
import pandas as pd
import pytest

from fashiongraph.errors import ConfigError, GraphError
from fashiongraph.graph.build import GraphConfig, build_knowledge_graph
from fashiongraph.graph.csr import CSRGraph
from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED, KnowledgeGraph


def test_node_and_edge_types(tiny_dataset):
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    assert list(g.nodes)[:2] == [CUSTOMER, ARTICLE]
    assert g.num_nodes_of(CUSTOMER) == 4 and g.num_nodes_of(ARTICLE) == 6
    assert {"product", "product_type", "colour_group", "age_band",
            "club_member_status"} <= set(g.nodes)
    assert g.nodes["product_type"].labels.tolist() == ["Vest top", "Dress", "Trousers", "Socks"]
    assert g.offsets[ARTICLE] == 4


def test_purchase_edges_sum_quantity_and_recency(tiny_dataset):
    cfg = GraphConfig(recency_half_life_days=7.0, min_recency_weight=0.0)
    g = build_knowledge_graph(tiny_dataset, "2020-09-08", cfg)
    e = g.edges[PURCHASED]
    pairs = {(int(s), int(d)): float(w) for s, d, w in zip(e.src, e.dst, e.weight)}
    # c0-a0: one unit 7 days before the cutoff and two units 1 day before.
    assert pairs[(0, 0)] == pytest.approx(0.5 + 2 * 0.5 ** (1 / 7), rel=1e-6)
    assert set(pairs) == {(0, 0), (0, 1), (1, 1), (1, 2)}


def test_no_transaction_on_or_after_cutoff_reaches_the_graph(tiny_dataset):
    """The leakage guard: c2's purchases on 09-08 and 09-09 must not become edges."""
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    e = g.edges[PURCHASED]
    assert 2 not in e.src.tolist()
    assert g.cutoff == pd.Timestamp("2020-09-08")
    later = build_knowledge_graph(tiny_dataset, "2020-09-10")
    assert 2 in later.edges[PURCHASED].src.tolist()


def test_sold_scope_links_only_sold_articles(tiny_dataset):
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    assert sorted(set(g.edges["HAS_PRODUCT_TYPE"].src.tolist())) == [0, 1, 2]
    full = build_knowledge_graph(tiny_dataset, "2020-09-08",
                                 GraphConfig(article_scope="catalogue"))
    assert sorted(full.edges["HAS_PRODUCT_TYPE"].src.tolist()) == [0, 1, 2, 3, 4, 5]


def test_missing_customer_attribute_gets_no_edge(tiny_dataset):
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    assert 2 not in g.edges["HAS_AGE_BAND"].src.tolist()


def test_config_errors():
    with pytest.raises(ConfigError, match=r"recency_half_life_days must be > 0 \(got 0\)"):
        GraphConfig(recency_half_life_days=0)
    with pytest.raises(ConfigError, match=r"article_scope must be 'sold' or 'catalogue' "
                                          r"\(got 'all'\)"):
        GraphConfig(article_scope="all")


def test_csr_is_symmetric_and_typed(tiny_dataset):
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    csr = g.to_csr()
    a = csr.to_scipy()
    assert (abs(a - a.T)).max() < 1e-6
    assert csr.num_entries == 2 * g.num_edges
    assert csr.type_range(ARTICLE) == (4, 10)
    for v in range(csr.num_nodes):
        assert np.all(np.diff(csr.neighbours(v)) > 0)
    with pytest.raises(GraphError, match="node type 'shoe' is not in the graph"):
        csr.type_range("shoe")
    with pytest.raises(GraphError, match=r"unknown edge type\(s\) \['LIKES'\]"):
        g.to_csr(["LIKES"])


def test_parallel_edges_are_summed():
    csr = CSRGraph.from_edges([0, 0, 1], [1, 1, 2], [1.0, 2.0, 1.0], num_nodes=3,
                              type_names=["x"], type_bounds=[0, 3])
    assert csr.neighbours(0).tolist() == [1]
    assert csr.weights[csr.indptr[0]] == pytest.approx(3.0)
    with pytest.raises(GraphError, match=r"edge endpoint outside 0..2"):
        CSRGraph.from_edges([0], [3], [1.0], num_nodes=3, type_names=["x"], type_bounds=[0, 3])


def test_save_load_roundtrip(tiny_dataset, tmp_path):
    g = build_knowledge_graph(tiny_dataset, "2020-09-08")
    g.save(tmp_path / "g")
    h = KnowledgeGraph.load(tmp_path / "g")
    assert h.summary() == g.summary()
    assert np.array_equal(h.nodes[CUSTOMER].keys, g.nodes[CUSTOMER].keys.astype(str))
    csr = g.to_csr()
    csr.save(tmp_path / "csr")
    back = CSRGraph.load(tmp_path / "csr")
    assert isinstance(back.indices, np.memmap)
    assert np.array_equal(back.indices, csr.indices)


def test_real_sample_graph(sample_dataset):
    g = build_knowledge_graph(sample_dataset, "2020-09-16")
    s = g.summary()
    assert s["nodes"]["customer"] == 1364
    assert s["nodes"]["article"] == 105542
    # Purchases before the test week only.
    tx = sample_dataset.transactions
    before = tx[tx["t_dat"] < "2020-09-16"]
    n_pairs = len(before[["customer_idx", "article_idx"]].drop_duplicates())
    assert s["edges"][PURCHASED] == n_pairs
