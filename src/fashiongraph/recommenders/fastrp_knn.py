"""FastRP embeddings, then filtered k-nearest articles to each customer (cosine)."""

from __future__ import annotations

from fashiongraph.engines.base import FastRPParams
from fashiongraph.errors import ModelError
from fashiongraph.recommenders.base import FitContext, Recommender


class FastRPKNNRecommender(Recommender):
    """Articles whose FastRP vectors are closest to the customer's (GDS ``gds.knn.filtered``).

    Args:
        params: FastRP parameters (``FastRPParams``; GDS ``gds.fastRP`` names).
        candidate_days: only articles sold in the last 28 days before the cutoff by default.
        exclude_purchased: leave out articles bought before the cutoff (default ``True``).

    Notes:
        A customer with no edges gets a zero FastRP vector and therefore no neighbours; the
        list is then filled from popularity (counted in ``num_from_model``).
    """

    name = "fastrp_knn"
    default_exclude_purchased = True
    # Chosen on a validation window (2020-09-02..15 of the bundled sample), not the test week.
    default_candidate_days = 28.0

    def __init__(self, *, params: FastRPParams | None = None, **base):
        super().__init__(**base)
        self.params = params or FastRPParams()

    def get_params(self) -> dict:
        return super().get_params() | {"fastrp": self.params.__dict__}

    def _fit(self, context: FitContext) -> None:
        self.engine_ = context.graph_engine
        self.embeddings_ = self.engine_.fastrp(self.params)
        if self.embeddings_.num_articles != context.dataset.num_articles:
            raise ModelError(
                f"FastRP returned {self.embeddings_.num_articles} article vectors for "
                f"{context.dataset.num_articles} articles"
            )

    def _candidates(self, customer_idx, k, exclude):
        full_exclude = None
        if exclude is not None:
            full_exclude = self.context_.purchases
        return self.engine_.filtered_knn(self.embeddings_, customer_idx, k, full_exclude,
                                         self.candidates_)
