"""The recommender interface: ``fit(context)`` then ``recommend(customer_idx, k)``.

Every recommender, baseline or graph method, implements ``_fit`` and ``_candidates``; the base
class does what they share: argument checks, batching, removing purchased articles when asked,
and filling short lists from recent popularity (counted in ``Recommendations.num_from_model``, so
a fallback is never passed off as the model's work).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashiongraph.data.dataset import Dataset
from fashiongraph.errors import ConfigError, NotFittedError

log = logging.getLogger(__name__)


@dataclass
class FitContext:
    """What a recommender may learn from: the past before ``cutoff``, and an engine over it.

    Args:
        dataset: the dataset; only its transactions strictly before ``cutoff`` are visible
            (``train`` enforces this).
        cutoff: first day of the future; nothing on or after it reaches any model.
        engine: ``"embedded"`` (default) or ``"neo4j"``.
        engine_options: keyword arguments for the engine (e.g. Neo4j URI).
        graph_config: ``fashiongraph.graph.build.GraphConfig`` or ``None`` for defaults.
        workdir: where a recommender may keep artifacts (models, embeddings); ``None`` for none.
        progress: show progress bars on a terminal.
    """

    dataset: Dataset
    cutoff: pd.Timestamp
    engine: str = "embedded"
    engine_options: dict = field(default_factory=dict)
    graph_config: object = None
    workdir: Path | None = None
    progress: bool = False

    def __post_init__(self):
        self.cutoff = pd.Timestamp(self.cutoff)

    @cached_property
    def train(self) -> Dataset:
        """The dataset cut at ``cutoff``."""
        return self.dataset.before(self.cutoff)

    @cached_property
    def purchases(self) -> sp.csr_matrix:
        """float32 CSR of shape (num_customers, num_articles): units bought before the cutoff."""
        return self.train.purchase_matrix()

    @cached_property
    def graph(self):
        """The knowledge graph of ``train`` (built once, shared by all recommenders)."""
        from fashiongraph.graph.build import build_knowledge_graph

        return build_knowledge_graph(self.train, self.cutoff, self.graph_config)

    @cached_property
    def graph_engine(self):
        """The engine over ``graph`` (created once)."""
        from fashiongraph.engines.base import make_engine

        return make_engine(self.engine, self.graph, **self.engine_options)

    def sold_within(self, days: float) -> np.ndarray:
        """bool array of shape (num_articles,): sold in the ``days`` before the cutoff."""
        tx = self.train.transactions
        recent = tx["t_dat"] >= self.cutoff - pd.Timedelta(days=days)
        mask = np.zeros(self.dataset.num_articles, dtype=bool)
        mask[tx.loc[recent, "article_idx"].to_numpy()] = True
        return mask

    @cached_property
    def popular_articles(self) -> np.ndarray:
        """int64 array: article_idx ranked by recent time-decayed popularity (the fallback)."""
        from fashiongraph.recommenders.popularity import popularity_scores

        scores = popularity_scores(self.train, self.cutoff)
        order = np.argsort(-scores, kind="stable")
        return order[scores[order] > 0]


@dataclass
class Recommendations:
    """Ranked articles for a batch of customers.

    Attributes:
        method: the recommender's name.
        customer_idx: int64 array of shape (n,).
        article_idx: int64 array of shape (n, k), best first; ``-1`` pads short rows.
        scores: float32 array of shape (n, k): the method's score (popularity fallback slots
            carry ``nan``).
        num_from_model: int32 array of shape (n,): how many leading slots came from the method
            itself; the rest came from the popularity fallback.
    """

    method: str
    customer_idx: np.ndarray
    article_idx: np.ndarray
    scores: np.ndarray
    num_from_model: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_idx)

    @property
    def k(self) -> int:
        return self.article_idx.shape[1]

    def to_frame(self, dataset: Dataset) -> pd.DataFrame:
        """One row per customer: ``customer_id``, ``article_ids`` (list), ``num_from_model``."""
        art = dataset.articles["article_id"].to_numpy()
        return pd.DataFrame({
            "customer_id": dataset.customers["customer_id"].to_numpy()[self.customer_idx],
            "article_ids": [[art[a] for a in row if a >= 0] for row in self.article_idx],
            "num_from_model": self.num_from_model,
        })


class Recommender(ABC):
    """Base class of every recommender.

    Args:
        exclude_purchased: never recommend an article the customer bought before the cutoff.
        candidate_days: only recommend articles sold in this many days before the cutoff
            (``None``: any article). Fashion assortments turn over fast: an article that has not
            sold for months is usually no longer on offer.
        fallback: fill lists shorter than ``k`` with recent popularity.
        batch_size: customers scored per batch.
    """

    name: ClassVar[str]
    default_exclude_purchased: ClassVar[bool] = False

    default_candidate_days: ClassVar[float | None] = None

    def __init__(self, *, exclude_purchased: bool | None = None,
                 candidate_days: float | None | str = "default", fallback: bool = True,
                 batch_size: int = 4096):
        self.exclude_purchased = (self.default_exclude_purchased if exclude_purchased is None
                                  else bool(exclude_purchased))
        if candidate_days == "default":
            candidate_days = self.default_candidate_days
        if candidate_days is not None and not candidate_days > 0:
            raise ConfigError(f"candidate_days must be > 0 or None (got {candidate_days})")
        self.candidate_days = candidate_days
        self.fallback = fallback
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1 (got {batch_size})")
        self.batch_size = batch_size
        self.context_: FitContext | None = None

    @property
    def label(self) -> str:
        """Name plus the exclusion setting when it differs from the method's default."""
        if self.exclude_purchased == self.default_exclude_purchased:
            return self.name
        return f"{self.name}[{'exclude' if self.exclude_purchased else 'keep'}_purchased]"

    def get_params(self) -> dict:
        return {"exclude_purchased": self.exclude_purchased,
                "candidate_days": self.candidate_days, "fallback": self.fallback}

    # ------------------------------------------------------------------ public
    def fit(self, context: FitContext) -> Recommender:
        """Learn from ``context`` (only the past before its cutoff)."""
        self.context_ = context
        self.candidates_ = (None if self.candidate_days is None
                            else context.sold_within(self.candidate_days))
        self._fit(context)
        return self

    def recommend(self, customer_idx, k: int = 12) -> Recommendations:
        """Top-``k`` articles for each customer.

        Args:
            customer_idx: int array of shape (n,): rows of the dataset's customers table.
            k: list length, >= 1.
        """
        if self.context_ is None:
            raise NotFittedError(f"{self.name}: call fit(context) before recommend")
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ConfigError(f"k must be an integer >= 1 (got {k!r})")
        customer_idx = np.asarray(customer_idx, dtype=np.int64).reshape(-1)
        n_cust = self.context_.dataset.num_customers
        bad = (customer_idx < 0) | (customer_idx >= n_cust)
        if bad.any():
            raise ConfigError(
                f"customer_idx must be in 0..{n_cust - 1} (got {customer_idx[bad][:5].tolist()})"
            )

        n = len(customer_idx)
        out_a = np.full((n, k), -1, dtype=np.int64)
        out_s = np.full((n, k), np.nan, dtype=np.float32)
        from_model = np.zeros(n, dtype=np.int32)
        purchases = self.context_.purchases
        batches = range(0, n, self.batch_size)
        if self.context_.progress and len(batches) > 1:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc=f"{self.label}: recommend", unit="batch", leave=False)
        for lo in batches:
            batch = customer_idx[lo:lo + self.batch_size]
            exclude = purchases[batch] if self.exclude_purchased else None
            cand_a, cand_s = self._candidates(batch, k, exclude)
            self._fill(lo, batch, cand_a, cand_s, exclude, out_a, out_s, from_model)
        return Recommendations(self.label, customer_idx, out_a, out_s, from_model)

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _fit(self, context: FitContext) -> None:
        """Learn state (names end in ``_``)."""

    @abstractmethod
    def _candidates(self, customer_idx: np.ndarray, k: int, exclude: sp.csr_matrix | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``k`` ranked article candidates per customer.

        Args:
            customer_idx: int64 array of shape (b,).
            exclude: CSR of shape (b, num_articles) of articles to leave out, or ``None``.

        Returns:
            (article_idx, scores) of shape (b, m), m <= k is fine; ``-1`` marks no candidate.
            Candidates in ``exclude`` may be returned; the base class removes them.
        """

    # ------------------------------------------------------------------ shared
    def _fill(self, lo, batch, cand_a, cand_s, exclude, out_a, out_s, from_model) -> None:
        k = out_a.shape[1]
        popular = self.context_.popular_articles if self.fallback else np.empty(0, np.int64)
        for i in range(len(batch)):
            row_a = cand_a[i]
            keep = row_a >= 0
            if self.candidates_ is not None:
                keep &= self.candidates_[np.maximum(row_a, 0)]
            if exclude is not None:
                bought = exclude.indices[exclude.indptr[i]:exclude.indptr[i + 1]]
                keep &= ~np.isin(row_a, bought)
            else:
                bought = None
            chosen_a = row_a[keep][:k]
            chosen_s = cand_s[i][keep][:k]
            m = len(chosen_a)
            out_a[lo + i, :m] = chosen_a
            out_s[lo + i, :m] = chosen_s
            from_model[lo + i] = m
            if m < k and len(popular):
                seen = set(chosen_a.tolist())
                if bought is not None:
                    seen.update(bought.tolist())
                j = m
                for a in popular:
                    if j == k:
                        break
                    if a not in seen:
                        out_a[lo + i, j] = a
                        j += 1


_REGISTRY: dict[str, str] = {
    "popularity": "fashiongraph.recommenders.popularity:PopularityRecommender",
    "repurchase": "fashiongraph.recommenders.repurchase:RepurchaseRecommender",
    "random_walk": "fashiongraph.recommenders.random_walk:RandomWalkRecommender",
    "fastrp_knn": "fashiongraph.recommenders.fastrp_knn:FastRPKNNRecommender",
    "graphsage": "fashiongraph.recommenders.graphsage:GraphSAGERecommender",
}


def available_methods() -> list[str]:
    """Method names whose modules import here (``graphsage`` needs the ``gnn`` extra)."""
    import importlib.util

    names = []
    for name, target in _REGISTRY.items():
        module = target.split(":")[0]
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:
            continue
        if name == "graphsage" and importlib.util.find_spec("torch_geometric") is None:
            continue
        names.append(name)
    return names


def make_recommender(name: str, **params) -> Recommender:
    """Create the recommender registered as ``name`` with keyword ``params``."""
    import importlib

    if name not in _REGISTRY:
        raise ConfigError(f"unknown method {name!r}; choose from {sorted(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)(**params)
