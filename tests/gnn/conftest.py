"""Real data for the GNN tests: the 1,364-customer H&M sample, built into a ``Dataset`` by hand.

Until the project's ingest is on main, the fixture reads the real CSVs and the real articles
table itself (ids as strings), keeping only the articles the sample's customers bought.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fashiongraph.data.dataset import TRANSACTION_DTYPES, Dataset
from fashiongraph.data.schema import age_band

REAL = Path("/work/shared/data/real")
SAMPLE = REAL / "hm_hungle45" / "3b7354e7"
ARTICLES = REAL / "hm_tisha1503" / "articles.parquet"


def _build_dataset() -> Dataset:
    tx = pd.read_csv(SAMPLE / "transactions_train_sample.csv",
                     dtype={"article_id": str, "customer_id": str})
    customers = pd.read_csv(SAMPLE / "customers_sample.csv", dtype={"customer_id": str})
    customers["age_band"] = [age_band(a) for a in customers["age"]]
    articles = pd.read_parquet(ARTICLES)
    articles = articles[articles["article_id"].isin(set(tx["article_id"]))].reset_index(drop=True)

    # One row per unit bought: exact duplicates become a quantity.
    tx = (tx.groupby(list(tx.columns), sort=False).size().rename("quantity").reset_index())
    tx["t_dat"] = pd.to_datetime(tx["t_dat"])
    tx["customer_idx"] = pd.Index(customers["customer_id"]).get_indexer(tx["customer_id"])
    tx["article_idx"] = pd.Index(articles["article_id"]).get_indexer(tx["article_id"])
    assert (tx["customer_idx"] >= 0).all() and (tx["article_idx"] >= 0).all()
    tx = tx[list(TRANSACTION_DTYPES)].astype(TRANSACTION_DTYPES)
    tx = tx.sort_values("t_dat", kind="stable").reset_index(drop=True)
    return Dataset(articles=articles, customers=customers, transactions=tx)


@pytest.fixture(scope="session")
def real_dataset() -> Dataset:
    """The whole real sample: 1,364 customers, 17,033 articles, 2018-09-20..2020-09-22."""
    return _build_dataset()


@pytest.fixture(scope="session")
def small_dataset(real_dataset) -> Dataset:
    """A slice of the real sample: the 120 customers most active since 2020-08-01, their
    transactions since 2020-06-01 and only the articles those touch (ids re-indexed)."""
    ds = real_dataset
    tx = ds.transactions
    recent = tx[tx["t_dat"] >= "2020-08-01"]
    top = recent["customer_idx"].value_counts().index[:120].to_numpy()
    tx = tx[tx["customer_idx"].isin(top) & (tx["t_dat"] >= "2020-06-01")]
    cust = np.sort(top)
    arts = np.sort(tx["article_idx"].unique())
    tx = tx.assign(customer_idx=np.searchsorted(cust, tx["customer_idx"]).astype(np.int32),
                   article_idx=np.searchsorted(arts, tx["article_idx"]).astype(np.int32))
    return Dataset(articles=ds.articles.iloc[arts].reset_index(drop=True),
                   customers=ds.customers.iloc[cust].reset_index(drop=True),
                   transactions=tx.reset_index(drop=True))
