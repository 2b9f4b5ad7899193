"""Shared fixtures: the bundled real samples and a tiny hand-made dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fashiongraph.data.dataset import TRANSACTION_DTYPES, Dataset


@pytest.fixture(scope="session")
def sample_dataset() -> Dataset:
    """The bundled 1,364-customer real sample (data/hm_sample)."""
    from fashiongraph.pipeline import bundled_tasks, load_task_dataset

    return load_task_dataset(bundled_tasks()[0])


@pytest.fixture(scope="session")
def lastweek_dataset() -> Dataset:
    """The bundled one-week real sample (data/hm_lastweek)."""
    from fashiongraph.pipeline import bundled_tasks, load_task_dataset

    return load_task_dataset(bundled_tasks()[1])


@pytest.fixture()
def tiny_dataset() -> Dataset:
    """Four customers, six articles, purchases on 2020-09-01..10 (cutoff tests use 09-08).

    c0 bought a0 twice (09-01, 09-07) and a1; c1 bought a1, a2; c2 bought a3 on 09-08 and
    a4 on 09-09 (both after a 09-08 cutoff); c3 never bought anything.
    """
    articles = pd.DataFrame({
        "article_id": [f"010877501{i}" for i in range(6)],
        "product_code": [108775, 108775, 200001, 200001, 300001, 300002],
        "prod_name": ["Strap top", "Strap top", "Jeans", "Jeans", "Dress", "Sock"],
        "product_type_no": [253, 253, 272, 272, 265, 302],
        "product_type_name": ["Vest top", "Vest top", "Trousers", "Trousers", "Dress", "Socks"],
        "colour_group_code": [9, 10, 9, 73, 9, 10],
        "colour_group_name": ["Black", "White", "Black", "Dark Blue", "Black", "White"],
    })
    customers = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(4)],
        "age": [25.0, 31.0, np.nan, 45.0],
        "age_band": ["25-29", "30-39", None, "40-49"],
        "club_member_status": ["ACTIVE", "ACTIVE", None, "PRE-CREATE"],
    })
    tx = pd.DataFrame({
        "t_dat": pd.to_datetime(["2020-09-01", "2020-09-07", "2020-09-02", "2020-09-03",
                                 "2020-09-05", "2020-09-08", "2020-09-09"]),
        "customer_idx": [0, 0, 0, 1, 1, 2, 2],
        "article_idx": [0, 0, 1, 1, 2, 3, 4],
        "price": [0.02] * 7,
        "sales_channel_id": [2] * 7,
        "quantity": [1, 2, 1, 1, 1, 1, 1],
    }).astype(TRANSACTION_DTYPES)
    return Dataset(articles, customers, tx)
