"""Simple versions of the embedded kernels, to measure the fast ones against.

- ``plain_walk_visits``: a numba loop that walks one walk at a time and picks each weighted
  step by binary search over the row's cumulative weights, then sorts each start's visits: the
  straightforward kernel (the issue measured such a kernel at about 5.6M steps/s).
- ``fastrp_scipy``: FastRP as scipy sparse products with the row-normalised adjacency.

The tests hold the fast kernels to the references in ``fashiongraph.engines.embedded``; the
benchmark reports how far these simple versions agree with the fast ones.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.base import FastRPParams
from fashiongraph.engines.embedded.fastrp import initial_vectors
from fashiongraph.engines.embedded.rng import seed_stream, uniform
from fashiongraph.engines.embedded.walk import row_cumulative_weights
from fashiongraph.graph.csr import CSRGraph


@nb.njit(parallel=True, cache=True)
def _plain_walks(indptr, indices, cumw, starts, walk_length, walks_per_node, restart_p,
                 art_lo, art_hi, seed, totals):
    for i in nb.prange(len(starts)):
        start = starts[i]
        visits = np.empty(walk_length * walks_per_node, dtype=np.int64)
        m = 0
        for w in range(walks_per_node):
            state = seed_stream(seed, start, w)
            v = start
            for _ in range(walk_length):
                if restart_p > 0.0:
                    state, r = uniform(state)
                    if r < restart_p:
                        v = start
                lo, hi = indptr[v], indptr[v + 1]
                if hi == lo:
                    break
                state, u = uniform(state)
                a, b = lo, hi - 1
                while a < b:
                    mid = (a + b) >> 1
                    if cumw[mid] > u:
                        b = mid
                    else:
                        a = mid + 1
                v = indices[a]
                if art_lo <= v < art_hi:
                    visits[m] = v - art_lo
                    m += 1
        # Distinct articles and their counts, from the sorted visits.
        vs = np.sort(visits[:m])
        distinct = 0
        for j in range(m):
            if j == 0 or vs[j] != vs[j - 1]:
                distinct += 1
        totals[i, 0] = m
        totals[i, 1] = distinct


def plain_walk_visits(csr: CSRGraph, starts: np.ndarray, *, article_range, walk_length: int,
                      walks_per_node: int, restart_probability: float, random_seed: int,
                      cumulative_weights: np.ndarray | None = None) -> np.ndarray:
    """Walk as ``walk_visits`` does, the plain way.

    Returns:
        int64 array of shape (n, 2): article visits and distinct articles per start (the
        benchmark compares these totals; building the CSR is left out of the timing).
    """
    cumw = row_cumulative_weights(csr) if cumulative_weights is None else cumulative_weights
    totals = np.zeros((len(starts), 2), dtype=np.int64)
    _plain_walks(csr.indptr, csr.indices, cumw, np.asarray(starts, dtype=np.int64),
                 walk_length, walks_per_node, float(restart_probability), article_range[0],
                 article_range[1], np.uint64(random_seed), totals)
    return totals


def fastrp_scipy(csr: CSRGraph, params: FastRPParams) -> np.ndarray:
    """FastRP with scipy: ``e_i = D^-1 A e_(i-1)`` (D: edge counts), normalised and summed.

    Same initial vectors as the kernel. float32 array of shape (num_nodes, dimension).
    """
    signs, scale = initial_vectors(csr, params)
    current = signs.astype(np.float32) * scale[:, None]
    adjacency = csr.to_scipy().astype(np.float32)
    if not params.weighted:
        adjacency.data[:] = 1.0
    degree = np.maximum(np.diff(adjacency.indptr), 1).astype(np.float32)
    transition = sp.diags(1.0 / degree).astype(np.float32) @ adjacency

    def normalize(x):
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)

    result = params.node_self_influence * normalize(current)
    for w in params.iteration_weights:
        current = transition @ current
        result += w * normalize(current)
    return result.astype(np.float32)
