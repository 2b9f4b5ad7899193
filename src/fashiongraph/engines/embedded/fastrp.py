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
GDS's own random vectors, both agree to 1e-5 after two iterations). Normalising each ``e^i``
before propagating it, as an earlier version of this module did, is a different embedding:
it weighs every neighbour alike, where GDS lets high-degree neighbours, whose averages are
short vectors, count less.

``fastrp`` is the numba kernel (parallel over rows); ``fastrp_reference`` is the slow obvious
version with the same random vectors, for tests.

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


@nb.njit(parallel=True, cache=True)
def _initial_vectors(num_nodes, dim, seed, degree, strength):
    out = np.zeros((num_nodes, dim), dtype=np.float32)
    p = 1.0 / (2.0 * SPARSITY)
    for v in nb.prange(num_nodes):
        state = seed_stream(seed, v, 0x5EED)
        scale = 1.0
        if strength != 0.0 and degree[v] > 0:
            scale = degree[v] ** strength
        for j in range(dim):
            state, u = uniform(state)
            if u < p:
                out[v, j] = scale
            elif u < 2.0 * p:
                out[v, j] = -scale
    return out


@nb.njit(parallel=True, cache=True)
def _propagate(indptr, indices, weights, prev, out, weighted):
    """``out[v] = sum of (weight *) prev[u] over neighbours u of v, divided by v's degree``."""
    n, dim = prev.shape
    for v in nb.prange(n):
        lo, hi = indptr[v], indptr[v + 1]
        acc = np.zeros(dim, dtype=np.float64)
        for j in range(lo, hi):
            w = weights[j] if weighted else 1.0
            u = indices[j]
            for d in range(dim):
                acc[d] += w * prev[u, d]
        degree = max(hi - lo, 1)
        for d in range(dim):
            out[v, d] = acc[d] / degree


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
        ModelError: if any embedding is not finite.
    """
    t0 = time.perf_counter()
    if initial is None:
        degree = csr.degree().astype(np.float64)
        initial = _initial_vectors(csr.num_nodes, params.embedding_dimension,
                                   np.uint64(params.random_seed), degree,
                                   float(params.normalization_strength))
    elif initial.shape != (csr.num_nodes, params.embedding_dimension):
        raise ModelError(f"initial vectors must have shape ({csr.num_nodes}, "
                         f"{params.embedding_dimension}) (got {initial.shape})")
    else:
        # A copy: the propagation below reuses this buffer.
        initial = np.array(initial, dtype=np.float32, order="C")
    result = np.zeros_like(initial)
    if params.node_self_influence:
        _add_normalized(result, initial, np.float32(params.node_self_influence))

    # Each iteration averages the previous one over neighbours, then adds it, normalised, with
    # its weight; the next iteration propagates the unnormalised average.
    prev, cur = initial, np.empty_like(initial)
    for i, w in enumerate(params.iteration_weights):
        _propagate(csr.indptr, csr.indices, csr.weights, prev, cur, bool(params.weighted))
        if w:
            _add_normalized(result, cur, np.float32(w))
        prev, cur = cur, prev
        log.debug("fastrp iteration %d done at %.1fs", i + 1, time.perf_counter() - t0)

    if not np.isfinite(result).all():
        raise ModelError("FastRP produced non-finite values; check edge weights for NaN or inf")
    log.info("fastrp: %d nodes x %d dims in %.1fs", csr.num_nodes, params.embedding_dimension,
             time.perf_counter() - t0)
    return result


def fastrp_reference(csr: CSRGraph, params: FastRPParams) -> np.ndarray:
    """The same algorithm written plainly with dense numpy (small graphs only)."""
    n, dim = csr.num_nodes, params.embedding_dimension
    degree = csr.degree().astype(np.float64)
    initial = _initial_vectors(n, dim, np.uint64(params.random_seed), degree,
                               float(params.normalization_strength)).astype(np.float64)
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
