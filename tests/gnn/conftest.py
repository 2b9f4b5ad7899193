"""Fixtures of the GNN tests: slices of the bundled real sample, small enough to train in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from fashiongraph.data.dataset import Dataset


@pytest.fixture()
def fast() -> dict:
    """Small, quick GraphSAGE hyperparameters for tests."""
    return {"hidden_channels": 16, "num_neighbors": (5, 3), "batch_size": 128, "max_epochs": 3,
            "max_minutes": 2.0}


@pytest.fixture(scope="session")
def small_dataset(sample_dataset) -> Dataset:
    """The 150 customers of the real sample most active since 2020-08-01, their transactions
    since 2020-06-01 (test window included) and only the articles those touch (re-indexed)."""
    tx = sample_dataset.transactions
    recent = tx[tx["t_dat"] >= "2020-08-01"]
    top = np.sort(recent["customer_idx"].value_counts().index[:150].to_numpy())
    tx = tx[tx["customer_idx"].isin(top) & (tx["t_dat"] >= "2020-06-01")]
    arts = np.sort(tx["article_idx"].unique())
    tx = tx.assign(customer_idx=np.searchsorted(top, tx["customer_idx"]).astype(np.int32),
                   article_idx=np.searchsorted(arts, tx["article_idx"]).astype(np.int32))
    return Dataset(articles=sample_dataset.articles.iloc[arts].reset_index(drop=True),
                   customers=sample_dataset.customers.iloc[top].reset_index(drop=True),
                   transactions=tx.reset_index(drop=True))
