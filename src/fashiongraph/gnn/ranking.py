"""Ranking helpers shared by training (validation) and serving: top-k and MAP@k (numpy only)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def map_at_k(ranked: np.ndarray, truth: sp.csr_matrix, k: int = 12) -> float:
    """Mean average precision at ``k`` over rows with at least one true article.

    Args:
        ranked: int64 array of shape (n, >=k): article_idx best first (``-1`` = empty).
        truth: CSR of shape (n, num_articles): nonzero where the customer bought the article.
        k: cut-off.
    """
    total, users = 0.0, 0
    for i in range(ranked.shape[0]):
        bought = truth.indices[truth.indptr[i]:truth.indptr[i + 1]]
        if len(bought) == 0:
            continue
        hits = np.isin(ranked[i, :k], bought)
        precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        total += float((precision * hits).sum()) / min(len(bought), k)
        users += 1
    return total / users if users else 0.0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """int64 array of shape (n, min(k, m)): columns of the largest scores, best first.

    Ties are broken by the smaller column, so equal inputs give equal rankings.

    Args:
        scores: float array of shape (n, m); ``-inf`` marks excluded columns.
        k: how many columns per row.
    """
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1).astype(np.int64)
