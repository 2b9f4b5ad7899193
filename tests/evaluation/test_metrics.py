"""Metrics against values computed by hand from their definitions."""

import numpy as np
import pytest

from fashiongraph.evaluation import metrics as M
from fashiongraph.evaluation.evaluate import ground_truth


def test_average_precision_hand_computed():
    rec = np.array([
        [1, 2, 3, 4],     # hits at ranks 1 and 3: (1/1 + 2/3) / min(2, 4)
        [5, 6, 7, 8],     # no hit
        [9, 9, 10, -1],   # repeated 9 counts once: hits at 1 and 3 -> (1 + 2/3) / 2
        [4, 3, 2, 1],     # 5 relevant, k=4: hits at 1..4 -> 4 / min(5, 4) = 1
    ])
    actual = [np.array([1, 3]), np.array([1]), np.array([9, 10]), np.array([1, 2, 3, 4, 0])]
    ap = M.average_precision_at_k(rec, actual, k=4)
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 2, 0.0, (1 + 2 / 3) / 2, 1.0])


def test_average_precision_matches_kaggle_example():
    # The competition's worked example: predictions [a, b, c], truth {a, c}, k = 12
    # AP = (1/1 + 2/3) / 2 = 0.8333...
    ap = M.average_precision_at_k(np.array([[11, 12, 13]]), [np.array([11, 13])], k=12)
    assert ap[0] == pytest.approx(0.8333333, rel=1e-6)


def test_recall_ndcg_hit_rate_hand_computed():
    rec = np.array([[1, 2, 3], [4, 5, 6]])
    actual = [np.array([2, 7]), np.array([8])]
    np.testing.assert_allclose(M.recall_at_k(rec, actual, 3), [0.5, 0.0])
    np.testing.assert_allclose(M.hit_rate_at_k(rec, actual, 3), [1.0, 0.0])
    # One hit at rank 2 of two relevant: (1/log2(3)) / (1/log2(2) + 1/log2(3))
    expected = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    np.testing.assert_allclose(M.ndcg_at_k(rec, actual, 3), [expected, 0.0])


def test_coverage_and_empty_truth():
    rec = np.array([[0, 1, -1], [1, 2, 3]])
    assert M.catalogue_coverage(rec, 10) == pytest.approx(0.4)
    assert M.average_precision_at_k(rec, [np.array([]), np.array([2])], 3)[0] == 0.0


def test_bootstrap_ci_contains_mean_and_narrows():
    rng = np.random.default_rng(1)
    x = rng.random(2000)
    lo, hi = M.bootstrap_ci(x, num_samples=300)
    assert lo < x.mean() < hi
    lo_small, hi_small = M.bootstrap_ci(x[:50], num_samples=300)
    assert hi - lo < hi_small - lo_small
    assert np.isnan(M.bootstrap_ci(np.array([]))[0])


def test_ground_truth_distinct_articles_per_customer(tiny_dataset):
    customers, actual = ground_truth(tiny_dataset.transactions)
    assert customers.tolist() == [0, 1, 2]
    assert [a.tolist() for a in actual] == [[0, 1], [1, 2], [3, 4]]
