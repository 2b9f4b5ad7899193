"""Exact cosine top-k search from query vectors to target vectors, with a per-query filter."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """float32 copy of ``x`` with unit-length rows (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def cosine_top_k(queries: np.ndarray, targets: np.ndarray, k: int, *,
                 exclude: sp.csr_matrix | None = None, chunk_size: int = 2048,
                 normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` targets by cosine similarity for each query, skipping excluded pairs.

    Args:
        queries: float array of shape (n, d).
        targets: float array of shape (m, d).
        exclude: CSR of shape (n, m); nonzero entries are never returned.
        normalized: rows are already unit length (skips normalisation; then this is inner
            product search, which GraphSAGE's dot-product decoder uses).

    Returns:
        (indices, scores): int64 and float32 arrays of shape (n, k), best first. Queries with a
        zero vector, and slots beyond the available targets, get ``-1`` and ``-inf``.
    """
    q = queries if normalized else normalize_rows(queries)
    t = targets if normalized else normalize_rows(targets)
    q = np.ascontiguousarray(q, dtype=np.float32)
    t = np.ascontiguousarray(t, dtype=np.float32)
    n, m = len(q), len(t)
    kk = min(k, m)
    out_i = np.full((n, k), -1, dtype=np.int64)
    out_s = np.full((n, k), -np.inf, dtype=np.float32)
    zero_query = ~np.any(q != 0, axis=1)
    for lo in range(0, n, chunk_size):
        hi = min(lo + chunk_size, n)
        sims = q[lo:hi] @ t.T
        if exclude is not None:
            block = exclude[lo:hi].tocoo()
            sims[block.row, block.col] = -np.inf
        part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if kk < m else \
            np.tile(np.arange(m), (hi - lo, 1))
        part_s = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_s, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        sc = np.take_along_axis(part_s, order, axis=1)
        idx[~np.isfinite(sc)] = -1
        out_i[lo:hi, :kk] = idx
        out_s[lo:hi, :kk] = sc
    out_i[zero_query] = -1
    out_s[zero_query] = -np.inf
    return out_i, out_s
