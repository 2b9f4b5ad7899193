"""Ranking metrics at k, per customer, exactly as the H&M competition defines MAP@12.

Every function takes ``recommended`` as an int array of shape (n, k) (``-1`` pads) and ``actual``
as a list of n arrays of the articles each customer bought in the test window.

References:
    H&M Personalized Fashion Recommendations (Kaggle, 2022), evaluation: MAP@12 where
    ``AP@12 = 1 / min(m, 12) * sum_k P(k) rel(k)`` over customers with at least one purchase
    in the test window (``m`` distinct articles bought); a repeated prediction counts once.
"""

from __future__ import annotations

import numpy as np


def average_precision_at_k(recommended: np.ndarray, actual: list, k: int = 12) -> np.ndarray:
    """AP@k per customer.

    Returns:
        float64 array of shape (n,).
    """
    out = np.zeros(len(actual), dtype=np.float64)
    for i, truth in enumerate(actual):
        truth = set(np.asarray(truth).tolist())
        if not truth:
            continue
        seen, hits, score = set(), 0, 0.0
        for rank, a in enumerate(np.asarray(recommended[i])[:k].tolist(), start=1):
            if a < 0 or a in seen:
                continue
            seen.add(a)
            if a in truth:
                hits += 1
                score += hits / rank
        out[i] = score / min(len(truth), k)
    return out


def recall_at_k(recommended: np.ndarray, actual: list, k: int = 12) -> np.ndarray:
    """Share of each customer's distinct test articles found in the top ``k``."""
    out = np.zeros(len(actual), dtype=np.float64)
    for i, truth in enumerate(actual):
        truth = set(np.asarray(truth).tolist())
        if truth:
            found = truth.intersection(np.asarray(recommended[i])[:k].tolist())
            out[i] = len(found) / len(truth)
    return out


def ndcg_at_k(recommended: np.ndarray, actual: list, k: int = 12) -> np.ndarray:
    """Binary-relevance NDCG@k: ``DCG / IDCG`` with gains ``1 / log2(rank + 1)``."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    out = np.zeros(len(actual), dtype=np.float64)
    for i, truth in enumerate(actual):
        truth = set(np.asarray(truth).tolist())
        if not truth:
            continue
        seen, dcg = set(), 0.0
        for rank, a in enumerate(np.asarray(recommended[i])[:k].tolist()):
            if a >= 0 and a not in seen and a in truth:
                dcg += discounts[rank]
            seen.add(a)
        out[i] = dcg / discounts[:min(len(truth), k)].sum()
    return out


def hit_rate_at_k(recommended: np.ndarray, actual: list, k: int = 12) -> np.ndarray:
    """1.0 where at least one test article is in the top ``k``, else 0.0."""
    return (recall_at_k(recommended, actual, k) > 0).astype(np.float64)


def catalogue_coverage(recommended: np.ndarray, num_articles: int) -> float:
    """Share of the catalogue that appears in anyone's list."""
    if num_articles <= 0:
        return 0.0
    return len(np.unique(recommended[recommended >= 0])) / num_articles


def bootstrap_ci(values: np.ndarray, *, num_samples: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of ``values`` (resampling customers).

    Returns ``(nan, nan)`` for an empty input.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(num_samples)
    for b in range(num_samples):
        means[b] = values[rng.integers(0, len(values), len(values))].mean()
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))
