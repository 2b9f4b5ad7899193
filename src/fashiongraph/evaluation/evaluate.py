"""Offline evaluation on a temporal split: fit before the test window, score inside it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.data.dataset import Dataset
from fashiongraph.errors import ConfigError, DataError
from fashiongraph.evaluation import metrics as M
from fashiongraph.recommenders.base import (FitContext, Recommendations, Recommender,
                                            available_methods, make_recommender)

log = logging.getLogger(__name__)

GRAPH_METHODS = ("random_walk", "fastrp_knn", "graphsage")
BASELINES = ("popularity", "repurchase")


@dataclass(frozen=True, kw_only=True)
class Split:
    """A temporal split: train on ``t_dat < test_start``, test on ``test_days`` from it."""

    test_start: pd.Timestamp
    test_days: int = 7

    def __post_init__(self):
        object.__setattr__(self, "test_start", pd.Timestamp(self.test_start))
        if self.test_days < 1:
            raise ConfigError(f"test_days must be >= 1 (got {self.test_days})")

    @property
    def test_end(self) -> pd.Timestamp:
        return self.test_start + pd.Timedelta(days=self.test_days)


@dataclass
class MethodResult:
    """Scores of one method on one split.

    Attributes:
        label: method name plus exclusion variant, e.g. ``random_walk[keep_purchased]``.
        metrics: ``{"all" | "with_history" | "without_history": {metric: value}}``.
        ap: float64 array of shape (num_test_customers,): AP@k per test customer.
    """

    label: str
    method: str
    params: dict
    metrics: dict
    map_ci: tuple[float, float]
    fit_seconds: float
    recommend_seconds: float
    ap: np.ndarray
    recommendations: Recommendations
    share_from_model: float
    extras: dict = field(default_factory=dict)
    served: Recommendations | None = None


@dataclass
class EvaluationResult:
    """All methods on one split."""

    task: str
    split: Split
    k: int
    engine: str
    num_train_transactions: int
    test_customers: np.ndarray
    has_history: np.ndarray
    methods: list[MethodResult]
    comparisons: list[dict]
    popular_articles: np.ndarray | None = None
    graph: object = None

    def table(self) -> pd.DataFrame:
        rows = []
        for r in self.methods:
            a = r.metrics["all"]
            rows.append({
                "method": r.label,
                f"MAP@{self.k}": a["map"],
                "MAP 95% CI": f"[{r.map_ci[0]:.4f}, {r.map_ci[1]:.4f}]",
                f"recall@{self.k}": a["recall"],
                f"NDCG@{self.k}": a["ndcg"],
                "hit rate": a["hit_rate"],
                "coverage": a["coverage"],
                "MAP (history)": r.metrics["with_history"]["map"],
                "MAP (no history)": r.metrics["without_history"]["map"],
                "from model": r.share_from_model,
                "fit s": r.fit_seconds,
                "recommend s": r.recommend_seconds,
            })
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        return {
            "task": self.task,
            "test_start": str(self.split.test_start.date()),
            "test_days": self.split.test_days,
            "k": self.k,
            "engine": self.engine,
            "num_train_transactions": self.num_train_transactions,
            "num_test_customers": int(len(self.test_customers)),
            "num_with_history": int(self.has_history.sum()),
            "methods": [{
                "label": r.label, "method": r.method, "params": r.params, "metrics": r.metrics,
                "map_ci": list(r.map_ci), "fit_seconds": r.fit_seconds,
                "recommend_seconds": r.recommend_seconds,
                "share_from_model": r.share_from_model, "extras": r.extras,
            } for r in self.methods],
            "comparisons": self.comparisons,
        }


def ground_truth(test: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """Test customers (sorted) and the distinct articles each bought in the window."""
    pairs = test[["customer_idx", "article_idx"]].drop_duplicates().sort_values(
        ["customer_idx", "article_idx"])
    customers, starts = np.unique(pairs["customer_idx"].to_numpy(), return_index=True)
    actual = np.split(pairs["article_idx"].to_numpy(np.int64), starts[1:])
    return customers.astype(np.int64), actual


def score(recs: Recommendations, actual: list, has_history: np.ndarray, num_articles: int,
          k: int) -> dict:
    """Metrics of ``recs`` for all customers and for those with and without history."""
    ap = M.average_precision_at_k(recs.article_idx, actual, k)
    recall = M.recall_at_k(recs.article_idx, actual, k)
    ndcg = M.ndcg_at_k(recs.article_idx, actual, k)
    hit = M.hit_rate_at_k(recs.article_idx, actual, k)
    out = {}
    for group, mask in (("all", np.ones(len(ap), bool)), ("with_history", has_history),
                        ("without_history", ~has_history)):
        n = int(mask.sum())
        out[group] = {
            "customers": n,
            "map": float(ap[mask].mean()) if n else float("nan"),
            "recall": float(recall[mask].mean()) if n else float("nan"),
            "ndcg": float(ndcg[mask].mean()) if n else float("nan"),
            "hit_rate": float(hit[mask].mean()) if n else float("nan"),
            "coverage": M.catalogue_coverage(recs.article_idx[mask], num_articles),
        }
    return out, ap


def default_methods() -> list[str]:
    return available_methods()


def evaluate(dataset: Dataset, split: Split, *, methods=None, k: int = 12,
             engine: str = "embedded", engine_options: dict | None = None,
             both_exclusions: bool = True, method_params: dict | None = None,
             task: str = "task", workdir: str | Path | None = None, progress: bool = False,
             bootstrap_samples: int = 1000, serve_customers: np.ndarray | None = None
             ) -> EvaluationResult:
    """Fit every method on the past, recommend for the test customers, score.

    Args:
        dataset: the canonical dataset (all dates).
        split: where the test window starts and how long it is.
        methods: method names (default: every available one).
        both_exclusions: evaluate graph methods both excluding and keeping purchased articles.
        method_params: ``{method: {param: value}}`` passed to the constructors.
        workdir: a run directory; methods that save models put them under ``models/``.
        serve_customers: also recommend for these customers with the same fitted models
            (``MethodResult.served``), for the app and the API.
    """
    methods = list(methods or default_methods())
    unknown = [m for m in methods if m not in available_methods()]
    if unknown:
        raise ConfigError(f"unknown or unavailable method(s) {unknown}; available: "
                          f"{available_methods()}")
    method_params = method_params or {}
    test = dataset.between(split.test_start, split.test_end)
    if test.empty:
        raise DataError(
            f"no transactions in the test window {split.test_start.date()}.."
            f"{(split.test_end - pd.Timedelta(days=1)).date()} (data runs "
            f"{dataset.first_date.date()}..{dataset.last_date.date()})"
        )
    context = FitContext(dataset, split.test_start, engine=engine,
                         engine_options=engine_options or {},
                         workdir=None if workdir is None else Path(workdir), progress=progress)
    if context.train.transactions.empty:
        raise DataError(f"no transactions before the test start {split.test_start.date()}: "
                        "nothing to learn from")
    customers, actual = ground_truth(test)
    has_history = np.diff(context.purchases.indptr)[customers] > 0
    log.info("%s: %d test customers (%d with history), %d train transactions", task,
             len(customers), has_history.sum(), len(context.train.transactions))

    variants = []
    for m in methods:
        params = dict(method_params.get(m, {}))
        variants.append((m, params))
        if both_exclusions and m in GRAPH_METHODS and "exclude_purchased" not in params:
            variants.append((m, params | {"exclude_purchased": False}))

    results = []
    if progress:
        from tqdm.auto import tqdm

        variants = tqdm(variants, desc=f"{task}: methods", unit="method")
    for name, params in variants:
        rec = make_recommender(name, **params)
        t0 = time.perf_counter()
        rec.fit(context)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        recs = rec.recommend(customers, k)
        rec_s = time.perf_counter() - t0
        metrics, ap = score(recs, actual, has_history, dataset.num_articles, k)
        served = None if serve_customers is None else rec.recommend(serve_customers, k)
        extras = {}
        if getattr(rec, "training_history_", None):
            extras["training_history"] = rec.training_history_
        if getattr(rec, "plot_path_", None):
            extras["training_plot"] = str(rec.plot_path_)
        results.append(MethodResult(
            label=rec.label, method=name, params=rec.get_params(), metrics=metrics,
            map_ci=M.bootstrap_ci(ap, num_samples=bootstrap_samples), fit_seconds=fit_s,
            recommend_seconds=rec_s, ap=ap, recommendations=recs,
            share_from_model=float(recs.num_from_model.sum() / max(recs.article_idx.size, 1)),
            extras=extras, served=served,
        ))
        log.info("%s %s: MAP@%d %.5f (fit %.1fs, recommend %.1fs)", task, rec.label, k,
                 metrics["all"]["map"], fit_s, rec_s)
    if context.__dict__.get("graph_engine") is not None:
        context.graph_engine.close()
    return EvaluationResult(task, split, k, engine, len(context.train.transactions), customers,
                            has_history, results, compare(results, bootstrap_samples),
                            popular_articles=context.popular_articles,
                            graph=context.__dict__.get("graph"))


def compare(results: list[MethodResult], num_samples: int = 1000, seed: int = 0) -> list[dict]:
    """Paired bootstrap of the AP difference of every method against each baseline.

    The verdict is ``beats`` when the 95% interval of the mean difference lies above zero,
    ``worse`` when below, and ``no significant difference`` otherwise.
    """
    baselines = [r for r in results if r.method in BASELINES]
    out = []
    rng = np.random.default_rng(seed)
    for r in results:
        for b in baselines:
            if r is b:
                continue
            diff = r.ap - b.ap
            n = len(diff)
            means = np.array([diff[rng.integers(0, n, n)].mean() for _ in range(num_samples)])
            lo, hi = np.quantile(means, [0.025, 0.975])
            verdict = "beats" if lo > 0 else "worse" if hi < 0 else "no significant difference"
            out.append({"method": r.label, "baseline": b.label, "map_difference": float(diff.mean()),
                        "ci": [float(lo), float(hi)], "verdict": verdict})
    return out
