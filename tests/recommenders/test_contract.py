"""One contract suite for every recommender (and, with NEO4J set up, every engine)."""

import numpy as np
import pytest

from fashiongraph.errors import ConfigError, NotFittedError
from fashiongraph.recommenders.base import FitContext, available_methods, make_recommender

CUTOFF = "2020-09-16"
METHODS = [m for m in available_methods()]
FAST_PARAMS = {
    "graphsage": {"max_steps": 30},
}


@pytest.fixture(scope="module")
def context(request):
    dataset = request.getfixturevalue("sample_dataset")
    return FitContext(dataset, CUTOFF, progress=False)


@pytest.fixture(scope="module")
def fitted(context):
    out = {}
    for m in METHODS:
        out[m] = make_recommender(m, **FAST_PARAMS.get(m, {})).fit(context)
    return out


@pytest.fixture(scope="module")
def customers(context):
    # Customers with history, and some without (no purchase before the cutoff).
    counts = np.diff(context.purchases.indptr)
    with_history = np.flatnonzero(counts > 0)[:40]
    without = np.flatnonzero(counts == 0)[:5]
    return np.concatenate([with_history, without])


@pytest.mark.parametrize("method", METHODS)
def test_k_ids_come_back_for_every_customer(fitted, customers, context, method):
    recs = fitted[method].recommend(customers, 12)
    assert recs.article_idx.shape == (len(customers), 12)
    assert (recs.article_idx >= 0).all(), "popularity fallback fills every list"
    assert (recs.article_idx < context.dataset.num_articles).all()
    for row in recs.article_idx:
        assert len(set(row.tolist())) == 12, "no duplicates in a list"
    assert ((recs.num_from_model >= 0) & (recs.num_from_model <= 12)).all()


@pytest.mark.parametrize("method", METHODS)
def test_known_customers_get_model_results(fitted, customers, context, method):
    recs = fitted[method].recommend(customers[:40], 12)
    assert recs.num_from_model.sum() > 0


@pytest.mark.parametrize("method", METHODS)
def test_purchased_are_filtered_when_asked(fitted, customers, context, method):
    rec = fitted[method]
    if rec.name == "repurchase":
        with pytest.raises(ConfigError, match="exclude_purchased must be False"):
            make_recommender("repurchase", exclude_purchased=True).fit(context)
        return
    filtered = make_recommender(method, exclude_purchased=True,
                                **FAST_PARAMS.get(method, {})).fit(context)
    recs = filtered.recommend(customers, 12)
    bought = context.purchases
    for c, row in zip(customers, recs.article_idx):
        assert not np.isin(row, bought[c].indices).any()


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_one_at_a_time(fitted, customers, method):
    rec = fitted[method]
    batch = rec.recommend(customers[:6], 12)
    for i, c in enumerate(customers[:6]):
        one = rec.recommend(np.array([c]), 12)
        assert np.array_equal(one.article_idx[0], batch.article_idx[i])


@pytest.mark.parametrize("method", METHODS)
def test_fixed_seed_reproduces(context, customers, method):
    a = make_recommender(method, **FAST_PARAMS.get(method, {})).fit(context)
    b = make_recommender(method, **FAST_PARAMS.get(method, {})).fit(context)
    assert np.array_equal(a.recommend(customers, 12).article_idx,
                          b.recommend(customers, 12).article_idx)


@pytest.mark.parametrize("method", METHODS)
def test_argument_errors(fitted, method):
    rec = fitted[method]
    with pytest.raises(ConfigError, match=r"k must be an integer >= 1 \(got 0\)"):
        rec.recommend(np.array([0]), 0)
    with pytest.raises(ConfigError, match=r"customer_idx must be in 0..1363 \(got \[5000\]\)"):
        rec.recommend(np.array([5000]), 12)
    with pytest.raises(NotFittedError, match="call fit"):
        make_recommender(method).recommend(np.array([0]), 12)


def test_unknown_method():
    with pytest.raises(ConfigError, match="unknown method 'magic'"):
        make_recommender("magic")
