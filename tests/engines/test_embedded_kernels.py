"""The numba kernels against their plain reference versions, and their contracts."""

import numpy as np
import pytest
import scipy.sparse as sp

from fashiongraph.engines.base import FastRPParams, RandomWalkParams
from fashiongraph.engines.embedded.engine import EmbeddedEngine
from fashiongraph.engines.embedded.fastrp import fastrp, fastrp_reference
from fashiongraph.engines.embedded.knn import cosine_top_k
from fashiongraph.engines.embedded.walk import walk_visits, walk_visits_reference
from fashiongraph.errors import ConfigError
from fashiongraph.graph.build import build_knowledge_graph
from fashiongraph.graph.model import ARTICLE, CUSTOMER


@pytest.fixture()
def tiny_graph(tiny_dataset):
    return build_knowledge_graph(tiny_dataset, "2020-09-08")


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("restart", [0.0, 0.3])
def test_walk_kernel_equals_reference(tiny_graph, weighted, restart):
    csr = tiny_graph.to_csr()
    starts = tiny_graph.global_ids(CUSTOMER, [0, 1, 2, 3])
    kw = dict(article_range=csr.type_range(ARTICLE), walk_length=7, walks_per_node=25,
              restart_probability=restart, random_seed=7, weighted=weighted)
    fast = walk_visits(csr, starts, **kw)
    slow = walk_visits_reference(csr, starts, **kw)
    assert fast.shape == slow.shape == (4, 6)
    assert np.array_equal(fast.toarray(), slow.toarray())


def test_walk_visits_only_reachable_articles(tiny_graph):
    csr = tiny_graph.to_csr()
    starts = tiny_graph.global_ids(CUSTOMER, [0, 1, 2, 3])
    v = walk_visits(csr, starts, article_range=csr.type_range(ARTICLE), walk_length=10,
                    walks_per_node=50, restart_probability=0.1, random_seed=1).toarray()
    # Articles 3, 4, 5 were never sold before the cutoff: no edges, never visited.
    assert v[:, 3:].sum() == 0
    # c0 reaches its own articles; every walk step is counted at most once.
    assert v[0, 0] > 0 and v[0, 1] > 0
    assert v.sum(axis=1).max() <= 10 * 50


def test_walk_on_real_sample_is_reproducible(sample_dataset):
    g = build_knowledge_graph(sample_dataset, "2020-09-16")
    engine = EmbeddedEngine(g)
    p = RandomWalkParams(walk_length=10, walks_per_node=50, random_seed=3)
    a = engine.random_walk_visits(np.arange(100), p)
    b = engine.random_walk_visits(np.arange(100), p)
    c = engine.random_walk_visits(np.arange(100), RandomWalkParams(
        walk_length=10, walks_per_node=50, random_seed=4))
    assert a.shape == (100, sample_dataset.num_articles)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0
    # One customer alone gets the same visits as inside a batch (streams are per walk).
    alone = engine.random_walk_visits(np.array([42]), p)
    assert (alone != a[42]).nnz == 0


@pytest.mark.parametrize("params", [
    FastRPParams(embedding_dimension=16, random_seed=5),
    FastRPParams(embedding_dimension=8, iteration_weights=(1.0, 0.5, 0.25),
                 normalization_strength=-0.5, node_self_influence=0.3, weighted=False),
])
def test_fastrp_kernel_equals_reference(tiny_graph, params):
    csr = tiny_graph.to_csr()
    fast = fastrp(csr, params)
    slow = fastrp_reference(csr, params)
    assert fast.shape == (tiny_graph.num_nodes, params.embedding_dimension)
    np.testing.assert_allclose(fast, slow, atol=1e-5)


def test_fastrp_similar_neighbourhoods_give_similar_vectors(tiny_graph):
    emb = EmbeddedEngine(tiny_graph).fastrp(FastRPParams(embedding_dimension=256))
    a = emb.article / np.linalg.norm(emb.article, axis=1, keepdims=True).clip(1e-9)
    # a0 and a1 share product, product type and a buyer; a0 and a2 share only colour.
    assert a[0] @ a[1] > a[0] @ a[2]
    # c3 bought nothing, but its age band and club status link it to other customers.
    assert emb.customer.shape == (4, 256)


def test_fastrp_param_errors():
    with pytest.raises(ConfigError, match=r"embedding_dimension must be >= 1 \(got 0\)"):
        FastRPParams(embedding_dimension=0)
    with pytest.raises(ConfigError, match="every embedding would be zero"):
        FastRPParams(iteration_weights=(0.0, 0.0))
    with pytest.raises(ConfigError, match=r"restart_probability must be in \[0, 1\) \(got 1.0\)"):
        RandomWalkParams(restart_probability=1.0)
    with pytest.raises(ConfigError, match=r"walk_length must be >= 1 \(got 0\)"):
        RandomWalkParams(walk_length=0)


def test_cosine_top_k_equals_brute_force():
    rng = np.random.default_rng(0)
    q, t = rng.normal(size=(50, 8)), rng.normal(size=(300, 8))
    q[3] = 0.0
    exclude = sp.random(50, 300, density=0.05, random_state=1, format="csr")
    idx, sims = cosine_top_k(q, t, 12, exclude=exclude, chunk_size=16)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    full = qn @ tn.T
    full[exclude.toarray() != 0] = -np.inf
    for i in range(50):
        if i == 3:
            assert (idx[i] == -1).all()
            continue
        expected = np.argsort(-full[i], kind="stable")[:12]
        assert np.array_equal(idx[i], expected)
        np.testing.assert_allclose(sims[i], full[i, expected], rtol=1e-5)
        assert not np.isin(idx[i], exclude[i].indices).any()


def test_cosine_top_k_pads_when_few_targets():
    idx, sims = cosine_top_k(np.ones((2, 3)), np.eye(3)[:2], 5)
    assert idx.shape == (2, 5)
    assert (idx[:, 2:] == -1).all() and np.isneginf(sims[:, 2:]).all()
