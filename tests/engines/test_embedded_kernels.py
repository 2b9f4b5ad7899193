"""The numba kernels against their plain reference versions, and their contracts."""

import numpy as np
import pytest
import scipy.sparse as sp

from fashiongraph.engines.base import FastRPParams, RandomWalkParams
from fashiongraph.engines.embedded.engine import EmbeddedEngine
from fashiongraph.engines.embedded.fastrp import balanced_row_bounds, fastrp, fastrp_reference
from fashiongraph.engines.embedded.knn import cosine_top_k, cosine_top_k_reference
from fashiongraph.engines.embedded.walk import (build_walk_table, walk_visits,
                                                walk_visits_reference)
from fashiongraph.errors import ConfigError
from fashiongraph.graph.build import build_knowledge_graph
from fashiongraph.graph.csr import CSRGraph
from fashiongraph.graph.model import ARTICLE, CUSTOMER


@pytest.fixture()
def tiny_graph(tiny_dataset):
    return build_knowledge_graph(tiny_dataset, "2020-09-08")


def expected_visits(csr, start, *, article_range, walk_length, restart_probability):
    """Exact expected article visits of one walk from ``start`` (sparse algebra).

    Mass moves by the row-normalised weights (rows of zero weights uniformly); before each
    step a share ``restart_probability`` of it jumps home; mass on a node without neighbours
    after that draw ends.
    """
    adjacency = csr.to_scipy().astype(np.float64)
    degree = csr.degree()
    totals = np.asarray(adjacency.sum(axis=1)).ravel()
    zero_rows = (totals == 0) & (degree > 0)
    adjacency.data[np.repeat(zero_rows, degree)] = 1.0
    totals[zero_rows] = degree[zero_rows]
    transition = sp.diags(1.0 / np.where(totals > 0, totals, 1.0)) @ adjacency
    mass = np.zeros(csr.num_nodes)
    mass[start] = 1.0
    visits = np.zeros(csr.num_nodes)
    for _ in range(walk_length):
        home = restart_probability * mass.sum()
        mass = (1 - restart_probability) * mass
        mass[start] += home
        mass[degree == 0] = 0.0
        mass = transition.T @ mass
        visits += mass
    lo, hi = article_range
    return visits[lo:hi]


@pytest.mark.parametrize("restart", [0.0, 0.3])
def test_unweighted_walk_kernel_equals_reference(tiny_graph, restart):
    csr = tiny_graph.to_csr()
    starts = tiny_graph.global_ids(CUSTOMER, [0, 1, 2, 3])
    kw = dict(article_range=csr.type_range(ARTICLE), walk_length=7, walks_per_node=25,
              restart_probability=restart, random_seed=7, weighted=False)
    fast = walk_visits(csr, starts, **kw)
    slow = walk_visits_reference(csr, starts, **kw)
    assert fast.shape == slow.shape == (4, 6)
    assert fast.has_sorted_indices
    assert np.array_equal(fast.toarray(), slow.toarray())


@pytest.mark.parametrize("restart", [0.0, 0.3])
def test_weighted_walk_kernel_equals_reference_when_steps_are_forced(restart):
    # Every row has exactly one positive weight (the rest are zero), so both sampling rules
    # (alias coin, inverse CDF) must take the same step on the same stream.
    src = np.array([0, 1, 2, 0, 1, 2, 0])
    dst = np.array([3, 4, 5, 4, 5, 3, 5])
    weight = np.array([2.5, 1.0, 0.3, 0, 0, 0, 0], dtype=np.float32)
    csr = CSRGraph.from_edges(src, dst, weight, num_nodes=6, type_names=["customer", "article"],
                              type_bounds=[0, 3, 6])
    kw = dict(article_range=(3, 6), walk_length=9, walks_per_node=40,
              restart_probability=restart, random_seed=11, weighted=True)
    fast = walk_visits(csr, np.arange(3), **kw)
    slow = walk_visits_reference(csr, np.arange(3), **kw)
    assert np.array_equal(fast.toarray(), slow.toarray())
    assert np.array_equal(fast.toarray() > 0, np.eye(3, dtype=bool))


def test_walk_table_holds_each_rows_weights():
    # Row 0 has uneven weights, row 1 zero weights only (walked uniformly), row 2 equal ones.
    rng = np.random.default_rng(3)
    src = np.concatenate([np.zeros(50, int), np.ones(4, int), np.full(3, 2)])
    dst = np.concatenate([np.arange(10, 60), np.arange(60, 64), np.arange(64, 67)])
    weight = np.concatenate([rng.pareto(1.5, 50), np.zeros(4), np.ones(3)]).astype(np.float32)
    csr = CSRGraph.from_edges(src, dst, weight, num_nodes=67, type_names=["x"],
                              type_bounds=[0, 67])
    table = build_walk_table(csr)
    for v in (0, 1, 2):
        lo, hi = csr.indptr[v], csr.indptr[v + 1]
        deg = hi - lo
        keep = table[lo:hi, 2].astype(np.float64) / 2.0 ** 32
        mass = dict.fromkeys(csr.neighbours(v).tolist(), 0.0)
        for own, alias, p in zip(table[lo:hi, 0], table[lo:hi, 1], keep):
            mass[own] += p / deg
            mass[alias] += (1 - p) / deg
        w = csr.weights[lo:hi].astype(np.float64)
        want = w / w.sum() if w.sum() > 0 else np.full(deg, 1 / deg)
        np.testing.assert_allclose([mass[u] for u in csr.neighbours(v)], want, atol=1e-8)


@pytest.mark.parametrize("restart", [0.0, 0.3])
def test_weighted_walks_match_the_exact_expectation(tiny_graph, restart):
    csr = tiny_graph.to_csr()
    starts = tiny_graph.global_ids(CUSTOMER, [0, 1])
    kw = dict(article_range=csr.type_range(ARTICLE), walk_length=7,
              restart_probability=restart, random_seed=5, weighted=True)
    # Visits per walk are at most walk_length, so the total over n walks has a standard
    # deviation of at most sqrt(walk_length * expected total): allow five of them.
    for kernel, walks in ((walk_visits, 40_000), (walk_visits_reference, 2_000)):
        got = kernel(csr, starts, walks_per_node=walks, **kw).toarray()
        for row, start in zip(got, starts):
            want = walks * expected_visits(csr, start, article_range=kw["article_range"],
                                           walk_length=7, restart_probability=restart)
            assert np.all(np.abs(row - want) <= 5 * np.sqrt(7 * want) + 1e-9), kernel.__name__


def test_weighted_walks_match_the_exact_expectation_on_real_sample(sample_dataset):
    g = build_knowledge_graph(sample_dataset, "2020-09-16")
    csr = g.to_csr()
    art = csr.type_range(ARTICLE)
    degree = csr.degree()
    starts = g.global_ids(CUSTOMER, np.flatnonzero(degree[:g.num_nodes_of(CUSTOMER)] > 3)[:3])
    got = walk_visits(csr, starts, article_range=art, walk_length=6, walks_per_node=100_000,
                      restart_probability=0.2, random_seed=9).toarray()
    for row, start in zip(got, starts):
        want = 100_000 * expected_visits(csr, start, article_range=art, walk_length=6,
                                         restart_probability=0.2)
        assert row.sum() > 10_000
        assert np.all(np.abs(row - want) <= 5 * np.sqrt(6 * want) + 1e-9)


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


def test_balanced_row_bounds_cover_every_row_once():
    # Rows: 0 empty, 1 with 5 entries, 2 empty, 3 a hub of 95, 4-5 small, 6-7 empty at the end.
    indptr = np.array([0, 0, 5, 5, 100, 101, 102, 102, 102])
    for tasks in (1, 2, 4, 50):
        bounds = balanced_row_bounds(indptr, tasks)
        assert bounds[0] == 0 and bounds[-1] == 8 and np.all(np.diff(bounds) > 0)
        assert len(bounds) - 1 <= tasks
    even = np.arange(0, 1001, 10)  # 100 rows of 10 entries
    assert balanced_row_bounds(even, 4).tolist() == [0, 25, 50, 75, 100]
    assert balanced_row_bounds(np.array([0]), 4).tolist() == [0]


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


@pytest.mark.parametrize("k", [1, 12, 40])
def test_cosine_top_k_equals_reference_with_ties_and_exclusions(k):
    # Vectors on a coarse grid give many equal similarities: ties must go to the lower index.
    rng = np.random.default_rng(2)
    q = rng.integers(-1, 2, size=(70, 4)).astype(np.float32)
    t = rng.integers(-1, 2, size=(500, 4)).astype(np.float32)
    exclude = sp.random(70, 500, density=0.2, random_state=3, format="lil")
    exclude[5] = 1.0  # a query with every target excluded
    exclude = exclude.tocsr()
    idx, sims = cosine_top_k(q, t, k, exclude=exclude, chunk_size=8)
    ref_idx, ref_sims = cosine_top_k_reference(q, t, k, exclude=exclude)
    assert np.array_equal(idx, ref_idx)
    np.testing.assert_allclose(sims, ref_sims, rtol=1e-6)
    assert (idx[5] == -1).all()


def test_cosine_top_k_pads_when_few_targets():
    for search in (cosine_top_k, cosine_top_k_reference):
        idx, sims = search(np.ones((2, 3)), np.eye(3)[:2], 5)
        assert idx.shape == (2, 5)
        assert (idx[:, 2:] == -1).all() and np.isneginf(sims[:, 2:]).all()
        assert (idx[:, :2] == [0, 1]).all()
