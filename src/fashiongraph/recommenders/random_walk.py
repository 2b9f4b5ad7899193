"""The original study's random-walk recommender.

Walks start at the customer's node; visits to article nodes are counted; the most visited
articles (by default those the customer has not bought) are recommended.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fashiongraph.engines.base import RandomWalkParams
from fashiongraph.recommenders.base import FitContext, Recommender
from fashiongraph.recommenders.repurchase import top_k_of_rows


class RandomWalkRecommender(Recommender):
    """Most visited articles of random walks with restart from the customer.

    Args:
        params: walk parameters (``RandomWalkParams``; GDS ``gds.randomWalk`` names).
        candidate_days: only articles sold in the last 28 days before the cutoff by default.
        exclude_purchased: leave out articles bought before the cutoff (default ``True``, as in
            the original study).

    Notes:
        A customer without purchases before the cutoff only reaches articles through customer
        attribute nodes (age band, club status, news frequency) when those edges are in
        ``params.edge_types``; otherwise the list is filled from popularity.
    """

    name = "random_walk"
    default_exclude_purchased = True
    # Chosen on a validation window (2020-09-02..15 of the bundled sample), not the test week.
    default_candidate_days = 28.0

    def __init__(self, *, params: RandomWalkParams | None = None, **base):
        super().__init__(**base)
        self.params = params or RandomWalkParams()

    def get_params(self) -> dict:
        return super().get_params() | {"walk": self.params.__dict__}

    def _fit(self, context: FitContext) -> None:
        self.engine_ = context.graph_engine

    def _candidates(self, customer_idx, k, exclude):
        visits = self.engine_.random_walk_visits(customer_idx, self.params)
        if exclude is not None:
            # Zero out purchased articles before ranking so that k others remain.
            visits = visits - visits.multiply(exclude > 0)
        if self.candidates_ is not None:
            visits = visits @ sp.diags(self.candidates_.astype(np.float32))
        visits = sp.csr_matrix(visits)
        visits.eliminate_zeros()
        return top_k_of_rows(visits, k)
