"""The knowledge graph as HeteroData: ids, reverse edges, attribute codes, activity."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from fashiongraph.errors import GraphError  # noqa: E402
from fashiongraph.gnn.hetero import attribute_codes, hetero_spec, to_hetero_data  # noqa: E402
from fashiongraph.graph.build import build_knowledge_graph  # noqa: E402

CUTOFF = "2020-09-16"


@pytest.fixture(scope="module")
def graph(small_dataset):
    return build_knowledge_graph(small_dataset, CUTOFF)


def test_every_edge_table_comes_with_its_reverse(graph, small_dataset):
    data = to_hetero_data(graph, small_dataset)
    for name, e in graph.edges.items():
        fwd = data[e.src_type, name, e.dst_type].edge_index
        rev = data[e.dst_type, f"rev_{name}", e.src_type].edge_index
        assert np.array_equal(fwd[0].numpy(), e.src) and np.array_equal(fwd[1].numpy(), e.dst)
        assert torch.equal(rev, fwd.flip(0))
    assert data["customer"].num_nodes == small_dataset.num_customers
    assert data["article"].num_nodes == small_dataset.num_articles
    assert sorted(data.edge_types) == sorted(hetero_spec(graph).edge_types)


def test_attribute_codes_from_the_tables_agree_with_the_graph(graph, small_dataset):
    for owner, table in (("article", small_dataset.articles),
                         ("customer", small_dataset.customers)):
        from_table = attribute_codes(graph, owner, table)
        from_edges = attribute_codes(graph, owner)
        linked = (from_edges < np.array([n for _, n in hetero_spec(graph).attributes[owner]]))
        assert linked.any()
        assert np.array_equal(from_table[linked], from_edges[linked])
    # Articles first sold on or after the cutoff have no attribute edges yet, but keep codes.
    first_sale = small_dataset.transactions.groupby("article_idx")["t_dat"].min()
    new = first_sale[first_sale >= CUTOFF].index.to_numpy()
    assert len(new) > 0
    codes = attribute_codes(graph, "article", small_dataset.articles)
    cards = np.array([n for _, n in hetero_spec(graph).attributes["article"]])
    assert (codes[new] < cards).all()
    assert (attribute_codes(graph, "article")[new] == cards).all()


def test_attribute_values_are_looked_up_by_key(graph, small_dataset):
    codes = attribute_codes(graph, "article", small_dataset.articles)
    types = [t for t, _ in hetero_spec(graph).attributes["article"]]
    j = types.index("colour_group")
    keys = graph.nodes["colour_group"].keys[codes[:, j]]
    assert np.array_equal(keys, small_dataset.articles["colour_group_code"].to_numpy())


def test_activity_counts_purchase_edges(graph, small_dataset):
    data = to_hetero_data(graph, small_dataset)
    e = graph.edges["PURCHASED"]
    count = np.bincount(e.dst, minlength=small_dataset.num_articles)
    np.testing.assert_allclose(np.expm1(data["article"].activity[:, 0].numpy()), count,
                               rtol=1e-5)


def test_table_of_another_dataset_is_refused(graph, sample_dataset):
    with pytest.raises(GraphError, match=r"the article table has 105542 rows but the graph has "
                                         r"\d+ article nodes"):
        attribute_codes(graph, "article", sample_dataset.articles)
