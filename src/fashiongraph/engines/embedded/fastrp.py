"""FastRP node embeddings with Neo4j GDS semantics.

Following Chen et al. (2019), "Fast and Accurate Network Embeddings via Very Sparse Random
Projection", as extended by GDS ``gds.fastRP``:

1. Each node gets a very sparse random vector ``r_n`` (entries ``+1`` or ``-1`` with probability
   ``1/(2s)`` each, else 0, with ``s = 3``; Achlioptas 2003), scaled by
   ``degree(n) ** normalization_strength``.
2. Intermediate embeddings ``e_n^i`` sum the neighbours' ``e^(i-1)`` (times the edge weight
   when asked) and divide by the node's degree (its number of edges, also when weighted), with
   ``e^0 = r``. They are propagated as they are, without normalising: ``e^i = D^-1 A e^(i-1)``,
   the power iteration of the paper.
3. ``embedding_n = node_self_influence * normalize(r_n)
   + sum_i iteration_weights[i] * normalize(e_n^i)``.

Steps 2 and 3 are what GDS 2.13 computes, checked against ``gds.fastRP`` on the sample (given
GDS's own random vectors, both agree to 1e-5 after two iterations;
``tests/engines/neo4j/test_fastrp_semantics.py``). Normalising each ``e^i`` before propagating
it is a different embedding: it weighs every neighbour alike, where GDS lets high-degree
neighbours, whose averages are short vectors, count less.

``fastrp`` is the numba kernel (parallel over row ranges of equal work); ``fastrp_reference``
is the slow obvious version with the same random vectors, for tests.

Notes:
    The random vectors are drawn from a counter-based generator keyed by (seed, node), so
    they are identical across thread counts but not identical to GDS's own vectors: the two
    engines agree in distribution, not bit for bit. A node without neighbours gets a zero
    vector from propagation (GDS does the same); only ``node_self_influence`` gives it a vector.
"""

from __future__ import annotations

import logging
import time

import numba as nb
import numpy as np

from fashiongraph.engines.base import FastRPParams
from fashiongraph.engines.embedded.rng import seed_stream, uniform
from fashiongraph.errors import ModelError
from fashiongraph.graph.csr import CSRGraph

log = logging.getLogger(__name__)

SPARSITY = 3.0


def initial_vectors(csr: CSRGraph, params: FastRPParams) -> tuple[np.ndarray, np.ndarray]:
    """The very sparse random vectors, as signs and one scale per node.

    Returns:
        (signs, scale): int8 array of shape (num_nodes, embedding_dimension) with entries in
        {-1, 0, 1}, and float32 array of shape (num_nodes,): ``degree ** normalization_strength``
        (1 for nodes without neighbours). The initial vector of node ``v`` is
        ``scale[v] * signs[v]``; a quarter of the float32 bytes, so the first propagation
        reads four times less memory.
    """
    signs = np.empty((csr.num_nodes, params.embedding_dimension), dtype=np.int8)
    scale = np.empty(csr.num_nodes, dtype=np.float32)
    _initial_signs(np.uint64(params.random_seed), csr.degree().astype(np.float64),
                   float(params.normalization_strength), signs, scale)
    return signs, scale


@nb.njit(parallel=True, cache=True)
def _initial_signs(seed, degree, strength, signs, scale):
    num_nodes, dim = signs.shape
    p = 1.0 / (2.0 * SPARSITY)
    for v in nb.prange(num_nodes):
        state = seed_stream(seed, v, 0x5EED)
        scale[v] = degree[v] ** strength if strength != 0.0 and degree[v] > 0 else 1.0
        for j in range(dim):
            state, u = uniform(state)
            signs[v, j] = 1 if u < p else (-1 if u < 2.0 * p else 0)


TASKS_PER_THREAD = 8
"""Parallel tasks per thread; each task holds about the same number of CSR entries."""


def balanced_row_bounds(indptr: np.ndarray, num_tasks: int) -> np.ndarray:
    """int64 array of shape (t + 1,): row ranges holding about equal numbers of entries.

    Numba hands each thread an equal, contiguous share of a parallel loop's iterations, so the
    iterations must cost the same: split by rows, the threads holding articles and attribute
    hubs would do three times the work of those holding customers. A single row is never
    split, so a hub bigger than a task's share is a task of its own.
    """
    num_rows = len(indptr) - 1
    inner = np.searchsorted(indptr, np.linspace(0, indptr[-1], num_tasks + 1)[1:-1])
    return np.unique(np.concatenate([[0], inner.clip(0, num_rows), [num_rows]]))


@nb.njit(parallel=True, fastmath=True, cache=True)
def _propagate(indptr, indices, weights, bounds, prev, prev_scale, out, result, result_weight,
               weighted):
    """``out[v] = (sum of w * prev_scale[u] * prev[u] over neighbours u of v) / degree(v)``,
    then ``result += result_weight * normalize(out[v])``.

    ``prev`` is int8 signs with their per-node scale in the first iteration, float32 vectors
    (scale 1) after. Adding to ``result`` in the same pass saves reading ``out`` again.
    """
    dim = prev.shape[1]
    for task in nb.prange(len(bounds) - 1):
        acc = np.empty(dim, dtype=np.float32)
        for v in range(bounds[task], bounds[task + 1]):
            acc[:] = 0.0
            lo, hi = indptr[v], indptr[v + 1]
            for j in range(lo, hi):
                u = indices[j]
                w = (weights[j] if weighted else np.float32(1.0)) * prev_scale[u]
                for d in range(dim):
                    acc[d] += w * prev[u, d]
            inv_degree = np.float32(1.0 / max(hi - lo, 1))
            norm = np.float32(0.0)
            for d in range(dim):
                out[v, d] = acc[d] * inv_degree
                norm += acc[d] * acc[d]
            if result_weight != 0 and norm > 0:
                scale = np.float32(result_weight / np.sqrt(norm))
                for d in range(dim):
                    result[v, d] += scale * acc[d]


@nb.njit(parallel=True, cache=True)
def _add_normalized(target, source, weight):
    n, dim = source.shape
    for v in nb.prange(n):
        norm = 0.0
        for d in range(dim):
            norm += source[v, d] * source[v, d]
        if norm > 0:
            scale = weight / np.sqrt(norm)
            for d in range(dim):
                target[v, d] += scale * source[v, d]


def fastrp(csr: CSRGraph, params: FastRPParams, initial: np.ndarray | None = None
           ) -> np.ndarray:
    """FastRP embeddings of every node.

    Args:
        csr: the graph (undirected CSR).
        params: GDS-style parameters.
        initial: float32 array of shape (num_nodes, embedding_dimension): random vectors to
            start from instead of drawing them (the Neo4j parity test passes GDS's own).

    Returns:
        float32 array of shape (num_nodes, embedding_dimension).

    Raises:
        ModelError: if any embedding is not finite, or ``initial`` has the wrong shape.
    """
    t0 = time.perf_counter()
    if initial is None:
        first, first_scale = initial_vectors(csr, params)
    elif initial.shape != (csr.num_nodes, params.embedding_dimension):
        raise ModelError(f"initial vectors must have shape ({csr.num_nodes}, "
                         f"{params.embedding_dimension}) (got {initial.shape})")
    else:
        first = np.ascontiguousarray(initial, dtype=np.float32)
        first_scale = np.ones(csr.num_nodes, dtype=np.float32)
    result = np.zeros(first.shape, dtype=np.float32)
    if params.node_self_influence:
        # The scale is positive, so the normalised initial vector is the normalised signs.
        _add_normalized(result, first, np.float32(params.node_self_influence))

    # Each iteration averages the previous one over neighbours and adds it, normalised, with
    # its weight; the next iteration propagates the unnormalised average. The first reads the
    # int8 signs (or the given vectors); the later ones the previous iteration's vectors.
    weights = [np.float32(w) for w in params.iteration_weights]
    bounds = balanced_row_bounds(csr.indptr, TASKS_PER_THREAD * nb.get_num_threads())
    cur = np.empty_like(result)
    _propagate(csr.indptr, csr.indices, csr.weights, bounds, first, first_scale, cur, result,
               weights[0], bool(params.weighted))
    del first
    log.debug("fastrp iteration 1 done at %.1fs", time.perf_counter() - t0)
    if len(weights) > 1:
        ones = np.ones(csr.num_nodes, dtype=np.float32)
        prev, cur = cur, np.empty_like(result)
        for i, w in enumerate(weights[1:], start=2):
            _propagate(csr.indptr, csr.indices, csr.weights, bounds, prev, ones, cur, result, w,
                       bool(params.weighted))
            prev, cur = cur, prev
            log.debug("fastrp iteration %d done at %.1fs", i, time.perf_counter() - t0)

    if not np.isfinite(result).all():
        raise ModelError("FastRP produced non-finite values; check edge weights for NaN or inf")
    log.info("fastrp: %d nodes x %d dims in %.1fs", csr.num_nodes, params.embedding_dimension,
             time.perf_counter() - t0)
    return result


def fastrp_reference(csr: CSRGraph, params: FastRPParams) -> np.ndarray:
    """The same algorithm written plainly with dense numpy (small graphs only)."""
    signs, scale = initial_vectors(csr, params)
    initial = signs.astype(np.float64) * scale[:, None]
    adjacency = csr.to_scipy().toarray().astype(np.float64)
    if not params.weighted:
        adjacency = (adjacency != 0).astype(np.float64)

    def normalize(x):
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)

    result = params.node_self_influence * normalize(initial)
    degree = np.maximum((adjacency != 0).sum(axis=1, keepdims=True), 1)
    current = initial
    for w in params.iteration_weights:
        current = (adjacency @ current) / degree
        result = result + w * normalize(current)
    return result.astype(np.float32)
