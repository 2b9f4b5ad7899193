"""Repurchase + popularity: what the customer bought recently, then what sells now.

In fashion this is the baseline to respect: on the last week of H&M data a customer's own recent
purchases predict next week's better than most learned models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashiongraph.errors import ConfigError
from fashiongraph.recommenders.base import FitContext, Recommender


class RepurchaseRecommender(Recommender):
    """Rank the customer's own past purchases by recency-weighted units; fill with popularity.

    A unit bought ``a`` days before the cutoff scores ``0.5 ** (a / half_life_days)``; only
    purchases within ``window_days`` count.

    Args:
        window_days: how far back purchases are candidates (``None``: all history).
        half_life_days: recency half-life.
    """

    name = "repurchase"

    def __init__(self, *, window_days: float | None = 28.0, half_life_days: float = 7.0, **base):
        super().__init__(**base)
        if window_days is not None and window_days <= 0:
            raise ConfigError(f"window_days must be > 0 or None (got {window_days})")
        if half_life_days <= 0:
            raise ConfigError(f"half_life_days must be > 0 (got {half_life_days})")
        self.window_days = window_days
        self.half_life_days = half_life_days

    def get_params(self) -> dict:
        return super().get_params() | {"window_days": self.window_days,
                                       "half_life_days": self.half_life_days}

    def _fit(self, context: FitContext) -> None:
        if self.exclude_purchased:
            raise ConfigError("repurchase recommends past purchases: exclude_purchased must be "
                              "False (got True)")
        tx = context.train.transactions
        age = (context.cutoff - tx["t_dat"]).dt.total_seconds().to_numpy() / 86400.0
        keep = age > 0 if self.window_days is None else (age > 0) & (age <= self.window_days)
        w = tx["quantity"].to_numpy()[keep] * 0.5 ** ((age[keep] - 1) / self.half_life_days)
        self.scores_ = sp.csr_matrix(
            (w.astype(np.float32), (tx["customer_idx"].to_numpy()[keep],
                                    tx["article_idx"].to_numpy()[keep])),
            shape=(context.dataset.num_customers, context.dataset.num_articles),
        )
        self.scores_.sum_duplicates()

    def _candidates(self, customer_idx, k, exclude):
        rows = self.scores_[customer_idx]
        return top_k_of_rows(rows, k)


def top_k_of_rows(rows: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` column indices by value of each CSR row (ties by column index).

    Returns:
        (indices, values): int64 and float32 arrays of shape (n, k), ``-1``/``nan`` padded.
    """
    n = rows.shape[0]
    out_i = np.full((n, k), -1, dtype=np.int64)
    out_v = np.full((n, k), np.nan, dtype=np.float32)
    rows = rows.tocsr()
    rows.sort_indices()
    for i in range(n):
        lo, hi = rows.indptr[i], rows.indptr[i + 1]
        if hi == lo:
            continue
        cols, vals = rows.indices[lo:hi], rows.data[lo:hi]
        order = np.lexsort((cols, -vals))[:k]
        out_i[i, :len(order)] = cols[order]
        out_v[i, :len(order)] = vals[order]
    return out_i, out_v
