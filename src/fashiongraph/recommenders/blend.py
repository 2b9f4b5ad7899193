"""Blend: the customer's own recent purchases first, then a graph method's new articles.

In fashion, next week's purchases are often repeats (a second size, a colour variant of the same
product, a basic bought again), which repurchase catches and no graph method that excludes
purchased articles can. Graph methods find the new articles. The blend gives the first
``max_repurchase`` slots to repurchase and fills the rest from the graph method, so each part
does what it is good at. This is the simplest form of the candidate-merging that strong H&M
solutions use; a learned ranker over both candidate sets would be the next step.
"""

from __future__ import annotations

import numpy as np

from fashiongraph.errors import ConfigError
from fashiongraph.recommenders.base import FitContext, Recommender


class BlendRecommender(Recommender):
    """Repurchase candidates first (at most ``max_repurchase``), then ``graph_method``'s.

    Args:
        graph_method: the method that fills the remaining slots (``random_walk`` by default;
            ``fastrp_knn`` or ``graphsage`` work too). It runs with its own defaults, so it
            leaves out purchased articles and brings only new ones.
        max_repurchase: how many slots repurchase may take at most (``None``: as many as the
            customer's recent purchases fill).
        repurchase_params, graph_params: keyword arguments for the two parts.

    Scores are ranks turned into a descending score (``k - position``): the two parts' own
    scores live on different scales and are not comparable.
    """

    name = "blend"

    def __init__(self, *, graph_method: str = "random_walk", max_repurchase: int | None = None,
                 repurchase_params: dict | None = None, graph_params: dict | None = None,
                 **base):
        super().__init__(**base)
        if graph_method in ("blend", "repurchase", "popularity"):
            raise ConfigError("graph_method must be a graph method such as 'random_walk' "
                              f"(got {graph_method!r})")
        if max_repurchase is not None and not (isinstance(max_repurchase, int)
                                               and max_repurchase >= 0):
            raise ConfigError(f"max_repurchase must be an integer >= 0 or None "
                              f"(got {max_repurchase!r})")
        self.graph_method = graph_method
        self.max_repurchase = max_repurchase
        self.repurchase_params = dict(repurchase_params or {})
        self.graph_params = dict(graph_params or {})

    def get_params(self) -> dict:
        return super().get_params() | {
            "graph_method": self.graph_method, "max_repurchase": self.max_repurchase,
            "repurchase": self.repurchase_params, "graph": self.graph_params}

    def _fit(self, context: FitContext) -> None:
        from fashiongraph.recommenders.base import make_recommender

        # Both parts without fallback: popularity filling is the blend's own last step.
        self.repurchase_ = make_recommender(
            "repurchase", fallback=False, **self.repurchase_params).fit(context)
        self.graph_ = make_recommender(
            self.graph_method, fallback=False, **self.graph_params).fit(context)

    def _candidates(self, customer_idx, k, exclude):
        first = self.repurchase_.recommend(customer_idx, k)
        second = self.graph_.recommend(customer_idx, k)
        limit = k if self.max_repurchase is None else min(self.max_repurchase, k)
        out = np.full((len(customer_idx), k), -1, dtype=np.int64)
        for i in range(len(customer_idx)):
            taken = first.article_idx[i, :min(first.num_from_model[i], limit)]
            rest = second.article_idx[i, :second.num_from_model[i]]
            merged = list(dict.fromkeys(np.concatenate([taken, rest]).tolist()))[:k]
            out[i, :len(merged)] = merged
        scores = np.where(out >= 0, k - np.arange(k, dtype=np.float32), np.nan)
        return out, scores.astype(np.float32)
