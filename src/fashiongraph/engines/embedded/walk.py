"""Random walks with restart on the CSR graph, counting visits to article nodes.

``walk_visits`` is the fast numba kernel, parallel over start nodes; ``walk_visits_reference`` is
the slow obvious version, kept to test the fast one against.
"""

from __future__ import annotations

import logging
import time

import numba as nb
import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.embedded.rng import seed_stream, uniform
from fashiongraph.graph.csr import CSRGraph

log = logging.getLogger(__name__)


def row_cumulative_weights(csr: CSRGraph) -> np.ndarray:
    """float64 array of shape (num_entries,): within each row, cumulative weight / row total."""
    return _row_cumulative(csr.indptr, csr.weights)


@nb.njit(parallel=True, cache=True)
def _row_cumulative(indptr, weights):
    out = np.empty(len(weights), dtype=np.float64)
    n = len(indptr) - 1
    for v in nb.prange(n):
        lo, hi = indptr[v], indptr[v + 1]
        total = 0.0
        for j in range(lo, hi):
            total += weights[j]
            out[j] = total
        if hi > lo:
            if total > 0:
                for j in range(lo, hi):
                    out[j] /= total
            else:  # all-zero weights: walk uniformly
                for j in range(lo, hi):
                    out[j] = (j - lo + 1) / (hi - lo)
    return out


@nb.njit(inline="always")
def _step(indptr, indices, cumw, v, state, weighted):
    lo, hi = indptr[v], indptr[v + 1]
    if hi == lo:
        return -1, state
    state, u = uniform(state)
    if not weighted:
        return indices[lo + int(u * (hi - lo))], state
    # First entry whose cumulative weight exceeds u (binary search).
    a, b = lo, hi - 1
    while a < b:
        m = (a + b) >> 1
        if cumw[m] > u:
            b = m
        else:
            a = m + 1
    return indices[a], state


@nb.njit(parallel=True, cache=True)
def _walk_kernel(indptr, indices, cumw, starts, walk_length, walks_per_node, restart_p,
                 art_lo, art_hi, seed, weighted, buf, row_nnz):
    """Fill ``buf[i]`` with (sorted unique article offsets, counts) of start ``i``'s walks."""
    n = len(starts)
    width = buf.shape[1]
    for i in nb.prange(n):
        start = starts[i]
        visits = np.empty(width, dtype=np.int64)
        m = 0
        for w in range(walks_per_node):
            state = seed_stream(seed, start, w)
            v = start
            for _ in range(walk_length):
                if restart_p > 0.0:
                    state, r = uniform(state)
                    if r < restart_p:
                        v = start
                u, state = _step(indptr, indices, cumw, v, state, weighted)
                if u < 0:
                    break
                v = u
                if art_lo <= v < art_hi:
                    visits[m] = v - art_lo
                    m += 1
        # Run-length encode the sorted visits into (article, count) pairs.
        vs = np.sort(visits[:m])
        nnz = 0
        j = 0
        while j < m:
            k = j
            while k < m and vs[k] == vs[j]:
                k += 1
            buf[i, 2 * nnz] = vs[j]
            buf[i, 2 * nnz + 1] = k - j
            nnz += 1
            j = k
        row_nnz[i] = nnz


def walk_visits(csr: CSRGraph, starts: np.ndarray, *, article_range: tuple[int, int],
                walk_length: int, walks_per_node: int, restart_probability: float,
                random_seed: int, weighted: bool = True, cumulative_weights=None,
                batch_size: int = 2048) -> sp.csr_matrix:
    """Count article visits of random walks with restart.

    Each of ``walks_per_node`` walks starts at ``starts[i]`` and takes ``walk_length`` steps;
    before each step it jumps back to the start with ``restart_probability``. A step to a node
    in ``article_range`` counts one visit. A walk that reaches a node without neighbours ends.

    Args:
        csr: the graph.
        starts: int64 array of shape (n,): global ids of start nodes.
        article_range: global id range ``[lo, hi)`` of article nodes.
        cumulative_weights: output of ``row_cumulative_weights`` (computed if ``None``).

    Returns:
        float32 CSR of shape (n, hi - lo): visit counts per start and article.
    """
    starts = np.asarray(starts, dtype=np.int64)
    art_lo, art_hi = article_range
    cumw = row_cumulative_weights(csr) if cumulative_weights is None else cumulative_weights
    width = max(2 * walk_length * walks_per_node, 2)
    t0 = time.perf_counter()
    data, cols, indptr = [], [], [0]
    for lo in range(0, len(starts), batch_size):
        batch = starts[lo:lo + batch_size]
        buf = np.empty((len(batch), width), dtype=np.int64)
        nnz = np.zeros(len(batch), dtype=np.int64)
        _walk_kernel(csr.indptr, csr.indices, cumw, batch, walk_length, walks_per_node,
                     float(restart_probability), art_lo, art_hi, np.uint64(random_seed),
                     bool(weighted), buf, nnz)
        mask = np.arange(width // 2)[None, :] < nnz[:, None]
        pairs = buf.reshape(len(batch), -1, 2)[mask]
        cols.append(pairs[:, 0])
        data.append(pairs[:, 1].astype(np.float32))
        indptr.extend((indptr[-1] + np.cumsum(nnz)).tolist())
    steps = len(starts) * walks_per_node * walk_length
    elapsed = time.perf_counter() - t0
    log.debug("%d walks of %d steps from %d starts in %.2fs (%.1fM steps/s)",
              len(starts) * walks_per_node, walk_length, len(starts), elapsed,
              steps / max(elapsed, 1e-9) / 1e6)
    return sp.csr_matrix(
        (np.concatenate(data) if data else np.empty(0, np.float32),
         np.concatenate(cols) if cols else np.empty(0, np.int64),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(starts), art_hi - art_lo),
    )


def walk_visits_reference(csr: CSRGraph, starts, *, article_range, walk_length, walks_per_node,
                          restart_probability, random_seed, weighted=True) -> sp.csr_matrix:
    """Plain-Python random walks with the same random streams as ``walk_visits``.

    For tests on small graphs only.
    """
    art_lo, art_hi = article_range
    cumw = row_cumulative_weights(csr)

    def draw(state):
        # numba hands the uint64 state back as a Python int: keep it unsigned.
        state, u = uniform(np.uint64(state))
        return np.uint64(state), u

    rows, cols = [], []
    for i, start in enumerate(np.asarray(starts, dtype=np.int64)):
        for w in range(walks_per_node):
            state = np.uint64(seed_stream(np.uint64(random_seed), start, w))
            v = start
            for _ in range(walk_length):
                if restart_probability > 0:
                    state, r = draw(state)
                    if r < restart_probability:
                        v = start
                lo, hi = csr.indptr[v], csr.indptr[v + 1]
                if hi == lo:
                    break
                state, u = draw(state)
                if weighted:
                    j = lo + int(np.searchsorted(cumw[lo:hi], u, side="right"))
                    j = min(j, hi - 1)
                else:
                    j = lo + int(u * (hi - lo))
                v = int(csr.indices[j])
                if art_lo <= v < art_hi:
                    rows.append(i)
                    cols.append(v - art_lo)
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                      shape=(len(starts), art_hi - art_lo))
    m.sum_duplicates()
    return m
