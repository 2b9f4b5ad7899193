"""The canonical dataset: three tables with integer indices, stored as parquet.

Everything downstream of ingest works on integer positions, not on the 64-character customer
ids: ``customer_idx`` is a row of ``Dataset.customers`` and ``article_idx`` a row of
``Dataset.articles``. This keeps 32M transactions at about 20 bytes a row.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashiongraph.errors import DataError

log = logging.getLogger(__name__)

TRANSACTION_DTYPES = {
    "t_dat": "datetime64[s]",
    "customer_idx": "int32",
    "article_idx": "int32",
    "price": "float32",
    "sales_channel_id": "int8",
    "quantity": "int32",
}
"""Canonical transaction columns. ``sales_channel_id`` is 0 where the input had none.
``quantity`` counts exact-duplicate input rows (one row per unit bought in H&M data)."""


@dataclass
class Dataset:
    """Articles, customers and transactions in canonical form.

    Attributes:
        articles: one row per article; row ``i`` is ``article_idx == i``. Column ``article_id``
            holds the 10-character id; the other columns are the H&M attribute columns present.
        customers: one row per customer; row ``i`` is ``customer_idx == i``. Column
            ``customer_id`` plus the customer attributes present and a derived ``age_band``.
        transactions: columns of ``TRANSACTION_DTYPES``, sorted by ``t_dat``.
        notes: what ingest fixed or excluded, one human-readable line each (kept in the manifest).
    """

    articles: pd.DataFrame
    customers: pd.DataFrame
    transactions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ sizes
    @property
    def num_articles(self) -> int:
        return len(self.articles)

    @property
    def num_customers(self) -> int:
        return len(self.customers)

    @property
    def first_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.transactions["t_dat"].min())

    @property
    def last_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.transactions["t_dat"].max())

    # ------------------------------------------------------------------ lookups
    def customer_index(self, customer_ids) -> np.ndarray:
        """int64 array of shape (n,): the ``customer_idx`` of each id, ``-1`` where unknown."""
        return _lookup(self.customers["customer_id"], customer_ids)

    def article_index(self, article_ids) -> np.ndarray:
        """int64 array of shape (n,): the ``article_idx`` of each id, ``-1`` where unknown.

        Integer ids or ids that lost their leading zero are zero-padded first.
        """
        ids = pd.Series(np.asarray(article_ids, dtype=object)).astype(str).str.zfill(10)
        return _lookup(self.articles["article_id"], ids)

    # ------------------------------------------------------------------ time
    def before(self, cutoff) -> Dataset:
        """The same catalogue and customers with only transactions strictly before ``cutoff``."""
        cutoff = pd.Timestamp(cutoff)
        tx = self.transactions[self.transactions["t_dat"] < cutoff]
        return replace(self, transactions=tx.reset_index(drop=True), notes=list(self.notes))

    def between(self, start, end) -> pd.DataFrame:
        """Transactions with ``start <= t_dat < end``."""
        t = self.transactions["t_dat"]
        return self.transactions[(t >= pd.Timestamp(start)) & (t < pd.Timestamp(end))]

    def purchase_matrix(self, transactions: pd.DataFrame | None = None) -> sp.csr_matrix:
        """float32 CSR of shape (num_customers, num_articles): units bought per pair."""
        tx = self.transactions if transactions is None else transactions
        m = sp.csr_matrix(
            (tx["quantity"].to_numpy(np.float32),
             (tx["customer_idx"].to_numpy(), tx["article_idx"].to_numpy())),
            shape=(self.num_customers, self.num_articles),
        )
        m.sum_duplicates()
        return m

    # ------------------------------------------------------------------ storage
    def save(self, directory: str | Path) -> Path:
        """Write the three tables as parquet plus ``dataset.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.articles.to_parquet(directory / "articles.parquet", index=False)
        self.customers.to_parquet(directory / "customers.parquet", index=False)
        self.transactions.to_parquet(directory / "transactions.parquet", index=False)
        meta = {
            "num_articles": self.num_articles,
            "num_customers": self.num_customers,
            "num_transactions": len(self.transactions),
            "first_date": str(self.first_date.date()) if len(self.transactions) else None,
            "last_date": str(self.last_date.date()) if len(self.transactions) else None,
            "notes": self.notes,
        }
        (directory / "dataset.json").write_text(json.dumps(meta, indent=2))
        log.info("saved dataset to %s (%d transactions)", directory, len(self.transactions))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Dataset:
        """Read a dataset written by ``save``."""
        directory = Path(directory)
        meta_path = directory / "dataset.json"
        if not meta_path.exists():
            raise DataError(
                f"{directory}: not a fashiongraph dataset directory (no dataset.json); "
                "create one with `fashiongraph ingest`"
            )
        meta = json.loads(meta_path.read_text())
        tx = pd.read_parquet(directory / "transactions.parquet")
        return cls(
            articles=pd.read_parquet(directory / "articles.parquet"),
            customers=pd.read_parquet(directory / "customers.parquet"),
            transactions=tx.astype(TRANSACTION_DTYPES),
            notes=list(meta.get("notes", [])),
        )


def _lookup(index_values: pd.Series, ids) -> np.ndarray:
    """Positions of ``ids`` in ``index_values`` (-1 where absent)."""
    idx = pd.Index(index_values.to_numpy())
    return idx.get_indexer(pd.Index(np.asarray(ids, dtype=object).astype(str))).astype(np.int64)
