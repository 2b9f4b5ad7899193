"""Random walks with restart on the CSR graph, counting visits to article nodes.

``walk_visits`` is the fast numba kernel; ``walk_visits_reference`` is the slow obvious version,
kept to test the fast one against.

What makes the kernel fast (``make bench`` measures it against a plain one-walk-at-a-time loop):

1. **O(1) weighted steps.** Each row of the graph has an alias table (Walker 1977, Vose 1991):
   one uniform draw ``u`` picks column ``int(u * degree)`` and its fractional part is the coin
   that keeps the column or takes its alias. A binary search over cumulative weights costs
   ``log2(degree)`` dependent memory loads instead (20 on an age-band hub of a million
   customers). Each entry of the walk table holds (neighbour, alias neighbour, coin threshold),
   twelve bytes, so a step reads one cache line.
2. **Many walks in flight.** The walks of one start node advance together, in two passes per
   step: the first picks the entry of every walk's current row, the second reads the chosen
   entries. Loads of different walks are independent, so they overlap instead of waiting one
   after another, and each pass prefetches what the next one reads.
3. **Counting, not sorting.** Visits go into a dense per-thread counter over articles; only the
   distinct visited articles are sorted and written out.

Random streams: walk ``w`` from start ``s`` draws from stream ``(random_seed, s, w)`` (``rng.py``),
a restart draw then a step draw per step, as in the reference, so results do not depend on
threads or batching. Unweighted walks, and every row whose weights are all equal, pick the
same column as the reference (``int(u * degree)``) and give identical visits. Weighted rows draw
from the same distribution through the alias coin instead of the reference's inverse CDF, so
weighted walks agree with the reference in distribution, not step by step (the tests check both).
"""

from __future__ import annotations

import logging
import time

import numba as nb
import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.embedded.prefetch import prefetch
from fashiongraph.engines.embedded.rng import seed_stream, uniform
from fashiongraph.graph.csr import CSRGraph

log = logging.getLogger(__name__)

MAX_WALKS_IN_FLIGHT = 256
"""Walks of one start node advanced together (more walks per node run in rounds)."""

_TWO_32 = 4294967296.0
_ALWAYS = np.uint32(0xFFFFFFFF)


def build_walk_table(csr: CSRGraph, *, weighted: bool = True) -> np.ndarray:
    """The alias table of every row: what a walk step reads.

    Args:
        csr: the graph.
        weighted: sample neighbours in proportion to entry weight; otherwise uniformly.

    Returns:
        uint32 array of shape (num_entries, 3): for entry ``j`` of row ``v``, the neighbour
        ``csr.indices[j]``, the alias neighbour, and the threshold ``t``: a step that picks
        column ``j`` keeps its neighbour when its coin (uniform in ``[0, 2**32)``) is below ``t``,
        else takes the alias. Rows of equal weights (and rows whose weights are all zero, which
        are walked uniformly) alias every entry to itself.
    """
    t0 = time.perf_counter()
    # Allocated by numpy, not inside numba: numpy asks the kernel for huge pages on large
    # arrays, and walks jump across the whole table (a TLB miss per step with 4 KiB pages).
    table = np.empty((csr.num_entries, 3), dtype=np.uint32)
    _alias_tables(csr.indptr, csr.indices, csr.weights, bool(weighted), table)
    log.debug("walk table of %d entries in %.2fs", len(table), time.perf_counter() - t0)
    return table


@nb.njit(parallel=True, cache=True)
def _alias_tables(indptr, indices, weights, weighted, table):
    """Fill ``table`` row by row (see ``build_walk_table``)."""
    n = len(indptr) - 1
    for v in nb.prange(n):
        lo, hi = indptr[v], indptr[v + 1]
        for j in range(lo, hi):
            table[j, 0] = indices[j]
            table[j, 1] = indices[j]
            table[j, 2] = _ALWAYS
        if not weighted or hi - lo < 2:
            continue
        total = 0.0
        uniform_row = True
        for j in range(lo, hi):
            total += weights[j]
            uniform_row &= weights[j] == weights[lo]
        if uniform_row or not total > 0:
            continue
        _vose(table, weights, lo, hi, total)


@nb.njit(cache=True)
def _vose(table, weights, lo, hi, total):
    """Vose's alias method on row ``[lo, hi)``: every column holds mass exactly 1/degree."""
    deg = hi - lo
    scaled = np.empty(deg, dtype=np.float64)
    small = np.empty(deg, dtype=np.int64)
    large = np.empty(deg, dtype=np.int64)
    n_small = 0
    n_large = 0
    for c in range(deg):
        scaled[c] = weights[lo + c] * deg / total
        if scaled[c] < 1.0:
            small[n_small] = c
            n_small += 1
        else:
            large[n_large] = c
            n_large += 1

    # Pair each under-full column with an over-full one that tops it up.
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        table[lo + s, 1] = table[lo + g, 0]
        table[lo + s, 2] = np.uint32(min(scaled[s] * _TWO_32, _TWO_32 - 1.0))
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    # Columns left over (rounding) are full: they keep their own neighbour, as initialised.


@nb.njit(cache=True)
def _walk_starts(indptr, table, starts, first_start, end_start, walk_length, walks_per_node,
                 restart_p, art_lo, art_hi, seed, out_cols, out_counts, out_nnz):
    """Walk from ``starts[first_start:end_start]``; write each one's distinct visited articles
    (sorted) and their counts."""
    in_flight = min(walks_per_node, MAX_WALKS_IN_FLIGHT)
    rounds = (walks_per_node + in_flight - 1) // in_flight
    in_flight = (walks_per_node + rounds - 1) // rounds
    counts = np.zeros(art_hi - art_lo, dtype=np.int32)
    touched = np.empty(out_cols.shape[1], dtype=np.int32)
    node = np.empty(in_flight, dtype=np.int64)
    state = np.empty(in_flight, dtype=np.uint64)
    entry = np.empty(in_flight, dtype=np.int64)
    coin = np.empty(in_flight, dtype=np.uint32)
    for i in range(first_start, end_start):
        start = starts[i]
        m = 0
        for first in range(0, walks_per_node, in_flight):
            live = min(in_flight, walks_per_node - first)
            for w in range(live):
                state[w] = seed_stream(seed, start, first + w)
                node[w] = start
            for _ in range(walk_length):
                # Pass 1: restart or not, then pick a column of the current row.
                for w in range(live):
                    v = node[w]
                    if v < 0:
                        continue
                    s = state[w]
                    if restart_p > 0.0:
                        s, r = uniform(s)
                        if r < restart_p:
                            v = start
                    lo = indptr[v]
                    deg = indptr[v + 1] - lo
                    if deg == 0:  # a dead end ends the walk
                        node[w] = -1
                        state[w] = s
                        continue
                    s, u = uniform(s)
                    x = u * deg
                    col = min(np.int64(x), deg - 1)
                    entry[w] = lo + col
                    coin[w] = np.uint32((x - col) * _TWO_32)
                    state[w] = s
                    prefetch(table, lo + col)

                # Pass 2: read the chosen entries; count article visits.
                for w in range(live):
                    if node[w] < 0:
                        continue
                    j = entry[w]
                    nxt = np.int64(table[j, 0] if coin[w] < table[j, 2] else table[j, 1])
                    node[w] = nxt
                    prefetch(indptr, nxt)
                    if art_lo <= nxt < art_hi:
                        a = nxt - art_lo
                        if counts[a] == 0:
                            touched[m] = a
                            m += 1
                        counts[a] += 1

        # Emit the distinct articles in order and reset the counter for the next start.
        cols = np.sort(touched[:m])
        for t in range(m):
            out_cols[i, t] = cols[t]
            out_counts[i, t] = counts[cols[t]]
            counts[cols[t]] = 0
        out_nnz[i] = m


@nb.njit(parallel=True, cache=True)
def _walk_kernel_parallel(indptr, table, starts, walk_length, walks_per_node, restart_p, art_lo,
                          art_hi, seed, chunk, out_cols, out_counts, out_nnz):
    n = len(starts)
    for c in nb.prange((n + chunk - 1) // chunk):
        _walk_starts(indptr, table, starts, c * chunk, min(n, (c + 1) * chunk), walk_length,
                     walks_per_node, restart_p, art_lo, art_hi, seed, out_cols, out_counts,
                     out_nnz)


@nb.njit(cache=True)
def _walk_kernel_serial(indptr, table, starts, walk_length, walks_per_node, restart_p, art_lo,
                        art_hi, seed, chunk, out_cols, out_counts, out_nnz):
    # A few starts run on the calling thread: waking and joining the thread pool costs
    # milliseconds when the cores are busy with other work.
    _walk_starts(indptr, table, starts, 0, len(starts), walk_length, walks_per_node, restart_p,
                 art_lo, art_hi, seed, out_cols, out_counts, out_nnz)


SERIAL_BELOW = 64
"""Batches of fewer start nodes than this walk on the calling thread alone."""


def walk_visits(csr: CSRGraph, starts: np.ndarray, *, article_range: tuple[int, int],
                walk_length: int, walks_per_node: int, restart_probability: float,
                random_seed: int, weighted: bool = True, walk_table: np.ndarray | None = None,
                batch_size: int = 1024) -> sp.csr_matrix:
    """Count article visits of random walks with restart.

    Each of ``walks_per_node`` walks starts at ``starts[i]`` and takes ``walk_length`` steps;
    before each step it jumps back to the start with ``restart_probability``. A step to a node
    in ``article_range`` counts one visit. A walk that reaches a node without neighbours ends
    (unless the next restart draw takes it home first).

    Args:
        csr: the graph.
        starts: int64 array of shape (n,): global ids of start nodes.
        article_range: global id range ``[lo, hi)`` of article nodes.
        weighted: pick neighbours in proportion to edge weight (ignored when ``walk_table`` is
            given: the table was built weighted or not).
        walk_table: output of ``build_walk_table`` (built here if ``None``; callers that walk
            the same graph often keep it).
        batch_size: start nodes per kernel call (bounds the output buffers).

    Returns:
        float32 CSR of shape (n, hi - lo) with sorted indices: visit counts per start and article.
    """
    starts = np.asarray(starts, dtype=np.int64)
    art_lo, art_hi = article_range
    table = build_walk_table(csr, weighted=weighted) if walk_table is None else walk_table
    width = max(min(walk_length * walks_per_node, art_hi - art_lo), 1)
    threads = nb.get_num_threads()
    t0 = time.perf_counter()
    data, cols, nnz = [], [], []
    for lo in range(0, len(starts), batch_size):
        batch = starts[lo:lo + batch_size]
        out_cols = np.empty((len(batch), width), dtype=np.int32)
        out_counts = np.empty((len(batch), width), dtype=np.int32)
        out_nnz = np.zeros(len(batch), dtype=np.int64)
        # Small chunks of starts per task keep both threads busy to the end of the batch.
        chunk = max(1, min(16, len(batch) // (8 * threads)))
        kernel = _walk_kernel_serial if len(batch) < SERIAL_BELOW else _walk_kernel_parallel
        kernel(csr.indptr, table, batch, walk_length, walks_per_node,
               float(restart_probability), art_lo, art_hi, np.uint64(random_seed), chunk,
               out_cols, out_counts, out_nnz)
        filled = np.arange(width)[None, :] < out_nnz[:, None]
        cols.append(out_cols[filled])
        data.append(out_counts[filled].astype(np.float32))
        nnz.append(out_nnz)
    steps = len(starts) * walks_per_node * walk_length
    elapsed = time.perf_counter() - t0
    log.debug("%d walks of %d steps from %d starts in %.3fs (%.1fM steps/s)",
              len(starts) * walks_per_node, walk_length, len(starts), elapsed,
              steps / max(elapsed, 1e-9) / 1e6)
    indptr = np.zeros(len(starts) + 1, dtype=np.int64)
    if nnz:
        np.cumsum(np.concatenate(nnz), out=indptr[1:])
    return sp.csr_matrix(
        (np.concatenate(data) if data else np.empty(0, np.float32),
         np.concatenate(cols) if cols else np.empty(0, np.int32), indptr),
        shape=(len(starts), art_hi - art_lo),
    )


def row_cumulative_weights(csr: CSRGraph) -> np.ndarray:
    """float64 array of shape (num_entries,): within each row, cumulative weight / row total.

    Rows whose weights are all zero get the cumulative weights of equal weights.
    """
    return _row_cumulative(csr.indptr, csr.weights)


@nb.njit(parallel=True, cache=True)
def _row_cumulative(indptr, weights):
    out = np.empty(len(weights), dtype=np.float64)
    for v in nb.prange(len(indptr) - 1):
        lo, hi = indptr[v], indptr[v + 1]
        total = 0.0
        for j in range(lo, hi):
            total += weights[j]
            out[j] = total
        for j in range(lo, hi):
            out[j] = out[j] / total if total > 0 else (j - lo + 1) / (hi - lo)
    return out


def walk_visits_reference(csr: CSRGraph, starts, *, article_range, walk_length, walks_per_node,
                          restart_probability, random_seed, weighted=True) -> sp.csr_matrix:
    """Plain-Python random walks with the same random streams as ``walk_visits``.

    A weighted step takes the first entry whose cumulative weight exceeds the draw (inverse
    CDF). For tests on small graphs only.
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
