"""Row-wise operations on CSR matrices that scipy does only through slower sparse algebra."""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.sparse as sp

from fashiongraph.errors import ConfigError


def zero_where_stored(values: sp.csr_matrix, mask: sp.csr_matrix) -> None:
    """Set ``values[i, j] = 0`` in place wherever ``mask[i, j]`` is stored and nonzero.

    Equivalent to ``values - values.multiply(mask > 0)`` without building two new matrices:
    one pass over both with a dense marker row (``O(nnz)``). Zeros stay stored; call
    ``eliminate_zeros`` after. A numba kernel: for the random walk, which runs numba anyway
    (the serving path uses ``stored_in_rows``, plain numpy).

    Args:
        values: float CSR of shape (n, m), changed in place.
        mask: CSR of shape (n, m).
    """
    if values.shape != mask.shape:
        raise ConfigError(f"values and mask differ in shape ({values.shape} vs {mask.shape})")
    _kernel()(values.indptr, values.indices, values.data, mask.indptr, mask.indices,
                 mask.data, values.shape[1])


def stored_in_rows(article_idx: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
    """Which entries of each row of ``article_idx`` are stored (nonzero) in that row of ``rows``.

    Plain numpy (the serving path imports no numba): both sides become sorted keys
    ``row * width + column`` and a binary search finds each candidate, ``O(n k log nnz)``.

    Args:
        article_idx: int array of shape (n, k); negative entries are never stored.
        rows: CSR of shape (n, m).

    Returns:
        bool array of shape (n, k).
    """
    if len(article_idx) != rows.shape[0]:
        raise ConfigError(f"article_idx has {len(article_idx)} rows, the matrix {rows.shape[0]}")
    width = np.int64(rows.shape[1])
    rows = rows if rows.has_sorted_indices else rows.sorted_indices()
    nonzero = rows.data > 0
    owner = np.repeat(np.arange(rows.shape[0], dtype=np.int64), np.diff(rows.indptr))
    stored = (owner * width + rows.indices)[nonzero]
    wanted = np.arange(len(article_idx), dtype=np.int64)[:, None] * width + article_idx
    if len(stored) == 0:
        return np.zeros(article_idx.shape, dtype=bool)
    at = np.searchsorted(stored, wanted).clip(0, len(stored) - 1)
    return (stored[at] == wanted) & (article_idx >= 0)


@cache
def _kernel():
    """The numba kernel, compiled on first use (numba is imported only then)."""
    from numba import njit

    return njit(cache=True)(_zero_rows)


def _zero_rows(v_ptr, v_idx, v_data, m_ptr, m_idx, m_data, width):
    marked = np.zeros(width, dtype=np.bool_)
    for i in range(len(v_ptr) - 1):
        for j in range(m_ptr[i], m_ptr[i + 1]):
            if m_data[j] > 0:
                marked[m_idx[j]] = True
        for j in range(v_ptr[i], v_ptr[i + 1]):
            if marked[v_idx[j]]:
                v_data[j] = 0
        for j in range(m_ptr[i], m_ptr[i + 1]):
            marked[m_idx[j]] = False

