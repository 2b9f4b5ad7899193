"""Recent, time-decayed popularity: the first baseline every method must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fashiongraph.data.dataset import Dataset
from fashiongraph.errors import ConfigError
from fashiongraph.recommenders.base import FitContext, Recommender


def popularity_scores(dataset: Dataset, cutoff, *, window_days: float = 7.0,
                      half_life_days: float | None = 3.0) -> np.ndarray:
    """Units sold per article in the ``window_days`` before ``cutoff``, decayed by age.

    Each unit sold ``a`` days before the cutoff counts ``0.5 ** (a / half_life_days)``
    (1 when ``half_life_days`` is ``None``). Falls back to all history when the window is empty.

    Returns:
        float64 array of shape (num_articles,).
    """
    if window_days <= 0:
        raise ConfigError(f"window_days must be > 0 (got {window_days})")
    if half_life_days is not None and half_life_days <= 0:
        raise ConfigError(f"half_life_days must be > 0 or None (got {half_life_days})")
    cutoff = pd.Timestamp(cutoff)
    tx = dataset.transactions
    age = (cutoff - tx["t_dat"]).dt.total_seconds().to_numpy() / 86400.0
    in_window = (age > 0) & (age <= window_days)
    if not in_window.any():
        in_window = age > 0
    decay = np.ones(int(in_window.sum())) if half_life_days is None else \
        0.5 ** ((age[in_window] - 1) / half_life_days)
    weights = tx["quantity"].to_numpy()[in_window] * decay
    return np.bincount(tx["article_idx"].to_numpy()[in_window], weights=weights,
                       minlength=dataset.num_articles)


class PopularityRecommender(Recommender):
    """The same list for everyone: articles most sold recently, time-decayed.

    Args:
        window_days: how many days before the cutoff count.
        half_life_days: decay half-life (``None``: no decay).
    """

    name = "popularity"

    def __init__(self, *, window_days: float = 7.0, half_life_days: float | None = 3.0,
                 **base):
        super().__init__(**base)
        self.window_days = window_days
        self.half_life_days = half_life_days

    def get_params(self) -> dict:
        return super().get_params() | {"window_days": self.window_days,
                                       "half_life_days": self.half_life_days}

    def _fit(self, context: FitContext) -> None:
        scores = popularity_scores(context.train, context.cutoff, window_days=self.window_days,
                                   half_life_days=self.half_life_days)
        order = np.argsort(-scores, kind="stable")
        self.ranked_articles_ = order[scores[order] > 0]
        self.ranked_scores_ = scores[self.ranked_articles_].astype(np.float32)

    def _candidates(self, customer_idx, k, exclude):
        # Enough candidates that k remain after removing a customer's purchases.
        extra = 0 if exclude is None else int(np.diff(exclude.indptr).max(initial=0))
        m = min(k + extra, len(self.ranked_articles_))
        a = np.tile(self.ranked_articles_[:m], (len(customer_idx), 1))
        s = np.tile(self.ranked_scores_[:m], (len(customer_idx), 1))
        return a, s
