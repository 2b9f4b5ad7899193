"""Precomputed recommendations in memory, indexed by ``customer_idx`` for O(1) lookups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fashiongraph.errors import DataError


@dataclass(frozen=True)
class RecommendationIndex:
    """One method's saved lists in CSR form: customer ``c``'s list is ``[indptr[c], indptr[c+1])``.

    Attributes
    ----------
    method : str
        The label of the recommendation file.
    indptr : int64 array of shape (num_customers + 1,)
    article_idx : int32 array of shape (num_rows,), each customer's slice in rank order.
    scores : float32 array of shape (num_rows,); NaN where the slot has no score.
    from_model : bool array of shape (num_rows,)
    """

    method: str
    indptr: np.ndarray
    article_idx: np.ndarray
    scores: np.ndarray
    from_model: np.ndarray

    @classmethod
    def from_arrays(cls, method: str, num_customers: int, *, customer_idx: np.ndarray,
                    rank: np.ndarray, article_idx: np.ndarray, scores: np.ndarray,
                    from_model: np.ndarray) -> RecommendationIndex:
        """Build the index from long-format columns (any order).

        Parameters
        ----------
        customer_idx : int array of shape (num_rows,), each in ``0..num_customers - 1``
        rank : int array of shape (num_rows,), 1 = best
        article_idx : int array of shape (num_rows,)
        scores : float array of shape (num_rows,); NaN allowed
        from_model : bool array of shape (num_rows,)
        """
        customer_idx = np.asarray(customer_idx, dtype=np.int64)
        if len(customer_idx) and (customer_idx.min() < 0 or customer_idx.max() >= num_customers):
            raise DataError(f"recommendations of {method!r}: customer_idx must be in "
                            f"0..{num_customers - 1} (got {customer_idx.min()}.."
                            f"{customer_idx.max()})")
        order = np.lexsort((np.asarray(rank), customer_idx))
        counts = np.bincount(customer_idx, minlength=num_customers)
        indptr = np.zeros(num_customers + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(method=method, indptr=indptr,
                   article_idx=np.asarray(article_idx, dtype=np.int32)[order],
                   scores=np.asarray(scores, dtype=np.float32)[order],
                   from_model=np.asarray(from_model, dtype=bool)[order])

    @property
    def num_customers_covered(self) -> int:
        """Customers with at least one saved slot."""
        return int(np.count_nonzero(np.diff(self.indptr)))

    def lookup(self, customer_idx: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views (article_idx, scores, from_model) of the customer's first ``k`` slots."""
        lo = self.indptr[customer_idx]
        hi = min(self.indptr[customer_idx + 1], lo + k)
        return self.article_idx[lo:hi], self.scores[lo:hi], self.from_model[lo:hi]
