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
    ``eliminate_zeros`` after.

    Args:
        values: float CSR of shape (n, m), changed in place.
        mask: CSR of shape (n, m).
    """
    if values.shape != mask.shape:
        raise ConfigError(f"values and mask differ in shape ({values.shape} vs {mask.shape})")
    _kernels()[0](values.indptr, values.indices, values.data, mask.indptr, mask.indices,
                 mask.data, values.shape[1])


def stored_in_rows(article_idx: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
    """Which entries of each row of ``article_idx`` are stored (nonzero) in that row of ``rows``.

    Args:
        article_idx: int array of shape (n, k); negative entries are never stored.
        rows: CSR of shape (n, m).

    Returns:
        bool array of shape (n, k).
    """
    if len(article_idx) != rows.shape[0]:
        raise ConfigError(f"article_idx has {len(article_idx)} rows, the matrix {rows.shape[0]}")
    out = np.zeros(article_idx.shape, dtype=np.bool_)
    _kernels()[1](np.ascontiguousarray(article_idx, dtype=np.int64), rows.indptr, rows.indices,
                  rows.data, rows.shape[1], out)
    return out


@cache
def _kernels():
    """The numba kernels, compiled on first use (numba is imported only then)."""
    from numba import njit

    return njit(cache=True)(_zero_rows), njit(cache=True)(_stored_rows)


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


def _stored_rows(article_idx, m_ptr, m_idx, m_data, width, out):
    marked = np.zeros(width, dtype=np.bool_)
    for i in range(article_idx.shape[0]):
        for j in range(m_ptr[i], m_ptr[i + 1]):
            if m_data[j] > 0:
                marked[m_idx[j]] = True
        for c in range(article_idx.shape[1]):
            a = article_idx[i, c]
            out[i, c] = a >= 0 and marked[a]
        for j in range(m_ptr[i], m_ptr[i + 1]):
            marked[m_idx[j]] = False
