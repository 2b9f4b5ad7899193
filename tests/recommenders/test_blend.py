"""The blend puts repurchase candidates first, then the graph method's, without duplicates."""

import numpy as np
import pytest

from fashiongraph.errors import ConfigError
from fashiongraph.recommenders.base import FitContext, make_recommender

CUTOFF = "2020-09-16"


@pytest.fixture(scope="module")
def context(sample_dataset):
    return FitContext(sample_dataset, CUTOFF)


@pytest.fixture(scope="module")
def customers(context):
    return np.flatnonzero(np.diff(context.purchases.indptr) > 0)[:30]


@pytest.mark.parametrize("max_repurchase", [None, 2])
def test_repurchase_first_then_graph_articles(context, customers, max_repurchase):
    blend = make_recommender("blend", max_repurchase=max_repurchase).fit(context)
    repurchase = make_recommender("repurchase", fallback=False).fit(context)
    walk = make_recommender("random_walk", fallback=False).fit(context)
    got = blend.recommend(customers, 12)
    first = repurchase.recommend(customers, 12)
    second = walk.recommend(customers, 12)
    limit = 12 if max_repurchase is None else max_repurchase
    checked = 0
    for i in range(len(customers)):
        n_first = min(first.num_from_model[i], limit)
        row = got.article_idx[i]
        assert row[:n_first].tolist() == first.article_idx[i, :n_first].tolist()
        rest = [a for a in second.article_idx[i, :second.num_from_model[i]]
                if a not in set(row[:n_first].tolist())]
        n_rest = min(len(rest), 12 - n_first)
        assert row[n_first:n_first + n_rest].tolist() == rest[:n_rest]
        assert got.num_from_model[i] == n_first + n_rest
        checked += n_first > 0 and n_rest > 0
    assert checked > 0, "some customers must have both repurchase and walk candidates"


def test_blend_rejects_a_baseline_as_graph_method():
    with pytest.raises(ConfigError, match="graph_method must be a graph method"):
        make_recommender("blend", graph_method="popularity")


def test_blend_rejects_negative_slots():
    with pytest.raises(ConfigError, match=r"max_repurchase must be an integer >= 0 or None "
                                          r"\(got -1\)"):
        make_recommender("blend", max_repurchase=-1)
