"""The CSR row helpers against the scipy algebra they replace."""

import numpy as np
import pytest
import scipy.sparse as sp

from fashiongraph.errors import ConfigError
from fashiongraph.recommenders.sparse_rows import stored_in_rows, zero_where_stored


def test_zero_where_stored_equals_scipy_algebra():
    values = sp.random(40, 30, density=0.3, random_state=1, format="csr", dtype=np.float32)
    mask = sp.random(40, 30, density=0.2, random_state=2, format="csr")
    mask.data[::3] = 0.0  # explicitly stored zeros do not mask
    want = (values - values.multiply(mask > 0)).toarray()
    zero_where_stored(values, mask)
    assert np.array_equal(values.toarray(), want)


def test_stored_in_rows_equals_a_plain_loop():
    rng = np.random.default_rng(0)
    rows = sp.random(25, 50, density=0.2, random_state=4, format="csr")
    idx = rng.integers(-1, 50, size=(25, 12))
    got = stored_in_rows(idx, rows)
    dense = rows.toarray()
    want = np.array([[a >= 0 and dense[i, a] > 0 for a in row] for i, row in enumerate(idx)])
    assert np.array_equal(got, want)


def test_stored_in_rows_with_unsorted_rows_and_stored_zeros():
    # Row 0 holds columns 4, 1 (unsorted) and an explicit zero at 2; row 1 is empty.
    rows = sp.csr_matrix((np.array([1.0, 2.0, 0.0]), np.array([4, 1, 2]), np.array([0, 3, 3])),
                         shape=(2, 5))
    idx = np.array([[1, 2, 4, -1], [1, 4, 0, -1]])
    assert stored_in_rows(idx, rows).tolist() == [[True, False, True, False], [False] * 4]


def test_shape_errors():
    with pytest.raises(ConfigError, match=r"differ in shape \(\(2, 3\) vs \(3, 3\)\)"):
        zero_where_stored(sp.csr_matrix((2, 3)), sp.csr_matrix((3, 3)))
    with pytest.raises(ConfigError, match="article_idx has 1 rows, the matrix 2"):
        stored_in_rows(np.zeros((1, 4), dtype=int), sp.csr_matrix((2, 3)))
