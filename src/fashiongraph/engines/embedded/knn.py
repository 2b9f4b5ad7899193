"""Exact cosine top-k search from query vectors to target vectors, with a per-query filter.

``cosine_top_k`` multiplies a block of queries with all targets (BLAS) and selects each row's
top ``k`` in a numba kernel that scans the row once, keeping a sorted list of the best ``k``
(``O(m)`` per row, versus ``O(m log m)`` for a sort or several passes for ``argpartition``).
Blocks are sized so that the similarity block stays near ``BLOCK_BYTES``.
``cosine_top_k_reference`` is the plain numpy version (full sort of every row), for tests.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

BLOCK_BYTES = 64 * 2**20
"""Size of one block of similarities (float32 queries x targets)."""


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """float32 copy of ``x`` with unit-length rows (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def cosine_top_k(queries: np.ndarray, targets: np.ndarray, k: int, *,
                 exclude: sp.csr_matrix | None = None, chunk_size: int = 4096,
                 normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` targets by cosine similarity for each query, skipping excluded pairs.

    Args:
        queries: float array of shape (n, d).
        targets: float array of shape (m, d).
        k: number of targets per query.
        exclude: CSR of shape (n, m); nonzero entries are never returned.
        chunk_size: most queries per block (blocks also stay near ``BLOCK_BYTES``).
        normalized: rows are already unit length (skips normalisation; then this is inner
            product search, which GraphSAGE's dot-product decoder uses).

    Returns:
        (indices, scores): int64 and float32 arrays of shape (n, k), best first; equal scores
        keep the lower target index first. Queries with a zero vector, and slots beyond the
        available targets, get ``-1`` and ``-inf``.
    """
    q = queries if normalized else normalize_rows(queries)
    t = targets if normalized else normalize_rows(targets)
    q = np.ascontiguousarray(q, dtype=np.float32)
    t = np.ascontiguousarray(t, dtype=np.float32)
    n, m = len(q), len(t)
    out_i = np.full((n, k), -1, dtype=np.int64)
    out_s = np.full((n, k), -np.inf, dtype=np.float32)
    if m == 0:
        return out_i, out_s
    rows = int(max(1, min(chunk_size, BLOCK_BYTES // (4 * m))))
    no_exclusions = np.zeros(rows + 1, dtype=np.int64)
    for lo in range(0, n, rows):
        hi = min(lo + rows, n)
        sims = q[lo:hi] @ t.T
        if exclude is None:
            ex_ptr, ex_idx = no_exclusions[:hi - lo + 1], np.empty(0, dtype=np.int32)
        else:
            block = exclude[lo:hi]
            ex_ptr, ex_idx = block.indptr.astype(np.int64), block.indices
        _select_top_k(sims, ex_ptr, ex_idx, out_i[lo:hi], out_s[lo:hi])
    zero_query = ~np.any(q != 0, axis=1)
    out_i[zero_query] = -1
    out_s[zero_query] = -np.inf
    return out_i, out_s


@nb.njit(parallel=True, cache=True)
def _select_top_k(sims, ex_ptr, ex_idx, out_i, out_s):
    """Per row: mask excluded columns, then keep the best ``k`` in one scan (sorted insert)."""
    n, m = sims.shape
    k = out_i.shape[1]
    for r in nb.prange(n):
        row = sims[r]
        for j in range(ex_ptr[r], ex_ptr[r + 1]):
            row[ex_idx[j]] = -np.inf
        filled = 0
        for c in range(m):
            s = row[c]
            # Only a strictly better score enters a full list: ties keep the lower index.
            if not s > -np.inf or (filled == k and not s > out_s[r, k - 1]):
                continue
            p = filled if filled < k else k - 1
            while p > 0 and out_s[r, p - 1] < s:
                out_s[r, p] = out_s[r, p - 1]
                out_i[r, p] = out_i[r, p - 1]
                p -= 1
            out_s[r, p] = s
            out_i[r, p] = c
            if filled < k:
                filled += 1


def cosine_top_k_reference(queries, targets, k, *, exclude=None):
    """The same search in plain numpy: all similarities at once, every row fully sorted.

    For tests and benchmarks on inputs whose (n, m) similarity matrix fits in memory.
    """
    q, t = normalize_rows(queries), normalize_rows(targets)
    sims = q @ t.T
    if exclude is not None:
        coo = sp.coo_matrix(exclude)
        sims[coo.row, coo.col] = -np.inf
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(sims, order, axis=1)
    idx = np.where(np.isfinite(scores), order, -1)
    zero_query = ~np.any(q != 0, axis=1)
    idx[zero_query] = -1
    scores = np.where(idx >= 0, scores, -np.inf).astype(np.float32)
    pad = k - idx.shape[1]
    if pad > 0:
        idx = np.pad(idx, ((0, 0), (0, pad)), constant_values=-1)
        scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
    return idx.astype(np.int64), scores
