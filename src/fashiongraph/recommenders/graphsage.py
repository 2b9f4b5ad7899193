"""GraphSAGE link prediction: the articles a customer most probably buys next.

Training (``fashiongraph.gnn``, torch) runs in ``fit``; recommending ranks every article by the
inner product of precomputed customer and article vectors, which equals the model's logit of
the purchase edge, and so needs numpy only. The model directory (weights, embeddings,
manifest, training curves) goes to ``model_dir``, or to
``RunDirectory(context.workdir).model_dir("graphsage")`` when the context has a workdir.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fashiongraph.errors import ConfigError, NotFittedError
from fashiongraph.recommenders.base import FitContext, Recommender

log = logging.getLogger(__name__)

_SCORE_CHUNK = 512
"""Customers scored per matrix product (bounds memory to 512 x num_articles floats)."""


class GraphSAGERecommender(Recommender):
    """Heterogeneous GraphSAGE trained to predict the next week's purchase edges.

    Args:
        params: ``fashiongraph.gnn.params.GraphSAGEParams``; keyword overrides of its fields
            (``max_minutes=2``, ``hidden_channels=32``, ...) may be passed instead or on top.
        model_dir: where to save the model; ``None`` uses the context's run directory, or
            saves nothing when that is ``None`` too.
        exclude_purchased, candidate_days, fallback, batch_size: see ``Recommender``. Articles
            bought before the cutoff are excluded by default.

    Attributes:
        customer_embeddings_: float32 array of shape (num_customers, dim).
        article_embeddings_: float32 array of shape (num_articles, dim).
        training_history_: one dict per epoch (``epoch``, ``loss``, ``val_map12``, ``steps``,
            ``edges``, ``train_seconds``, ``seconds``; see ``TrainingResult``).
        model_dir_: where the model was saved or loaded from (``None`` if nowhere).
        plot_path_: the PNG of the training curves (``None`` if not saved).
        manifest_: the model manifest (graph, params, windows, training summary).

    Notes:
        Fitting twice on the same ``FitContext`` with the same params (the evaluation fits
        each graph method with and without purchased articles) trains once: the result is
        kept on the context for its lifetime.

        Each request scores all articles (a dense product of 512 customers at a time); on the
        full H&M catalogue (105K articles) that is about 13 MFLOP per customer.
    """

    name = "graphsage"
    default_exclude_purchased = True

    def __init__(self, *, params=None, model_dir: str | Path | None = None,
                 exclude_purchased: bool | None = None,
                 candidate_days: float | None | str = "default", fallback: bool = True,
                 batch_size: int = 4096, **param_overrides):
        super().__init__(exclude_purchased=exclude_purchased, candidate_days=candidate_days,
                         fallback=fallback, batch_size=batch_size)
        self.params = _make_params(params, param_overrides)
        self.model_dir = None if model_dir is None else Path(model_dir)
        self.customer_embeddings_: np.ndarray | None = None
        self.article_embeddings_: np.ndarray | None = None
        self.training_history_: list[dict] = []
        self.model_dir_: Path | None = None
        self.plot_path_: Path | None = None
        self.manifest_: dict | None = None

    def get_params(self) -> dict:
        return super().get_params() | self.params.to_dict()

    # ------------------------------------------------------------------ training
    def _fit(self, context: FitContext) -> None:
        from fashiongraph.gnn.saved import read_manifest, save_model
        from fashiongraph.gnn.training import train_graphsage

        # One training per context and params (see Notes).
        cache = context.__dict__.setdefault("_graphsage_results", {})
        result = cache.get(self.params)
        if result is None:
            result = train_graphsage(context.train, context.graph, self.params,
                                     graph_config=context.graph_config,
                                     progress=context.progress)
            cache[self.params] = result
        self.customer_embeddings_ = result.customer_vectors
        self.article_embeddings_ = result.article_vectors
        self.training_history_ = result.history
        directory = self._target_dir(context)
        if directory is not None:
            if getattr(result, "saved_to", None) != directory:
                save_model(directory, result, context.graph, self.params)
                result.saved_to = directory
            self._set_saved(directory, read_manifest(directory))

    @classmethod
    def load(cls, model_dir: str | Path, context: FitContext, **kwargs) -> GraphSAGERecommender:
        """A fitted recommender from a saved model directory, without torch.

        Args:
            model_dir: a directory written by ``fit``.
            context: the context whose graph the model was trained on (same cutoff).
            kwargs: recommender options (``exclude_purchased``, ``fallback``...).

        Raises:
            ModelError: the directory is not a graphsage model or does not match
                ``context.graph``.
        """
        from fashiongraph.gnn.params import GraphSAGEParams
        from fashiongraph.gnn.saved import load_embeddings

        saved = load_embeddings(model_dir, context.graph)
        rec = cls(params=GraphSAGEParams(**saved.manifest["params"]), **kwargs)
        rec.context_ = context
        rec.candidates_ = (None if rec.candidate_days is None
                           else context.sold_within(rec.candidate_days))
        rec.customer_embeddings_ = saved.customer
        rec.article_embeddings_ = saved.article
        rec.training_history_ = saved.history
        rec._set_saved(Path(model_dir), saved.manifest)
        return rec

    def _target_dir(self, context: FitContext) -> Path | None:
        if self.model_dir is not None:
            return self.model_dir
        if context.workdir is not None:
            from fashiongraph.artifacts import RunDirectory

            return RunDirectory(context.workdir).model_dir(self.name)
        return None

    def _set_saved(self, directory: Path, manifest: dict) -> None:
        from fashiongraph.gnn.saved import CURVES

        self.model_dir_ = directory
        self.manifest_ = manifest
        curves = directory / CURVES
        self.plot_path_ = curves if curves.exists() else None

    # ------------------------------------------------------------------ serving
    def _candidates(self, customer_idx: np.ndarray, k: int, exclude: sp.csr_matrix | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        from fashiongraph.gnn.ranking import top_k

        if self.customer_embeddings_ is None:
            raise NotFittedError(f"{self.name}: call fit(context) or load() before recommend")
        articles = self.article_embeddings_
        k = min(k, articles.shape[0])
        out_a = np.empty((len(customer_idx), k), dtype=np.int64)
        out_s = np.empty((len(customer_idx), k), dtype=np.float32)
        for lo in range(0, len(customer_idx), _SCORE_CHUNK):
            hi = min(lo + _SCORE_CHUNK, len(customer_idx))

            # Inner products = logits; purchased articles drop out before the top-k.
            scores = self.customer_embeddings_[customer_idx[lo:hi]] @ articles.T
            if self.candidates_ is not None:
                scores[:, ~self.candidates_] = -np.inf
            if exclude is not None:
                part = exclude[lo:hi]
                rows = np.repeat(np.arange(hi - lo), np.diff(part.indptr))
                scores[rows, part.indices] = -np.inf
            top = top_k(scores, k)
            out_a[lo:hi] = top
            out_s[lo:hi] = np.take_along_axis(scores, top, axis=1)
        out_a[~np.isfinite(out_s)] = -1
        return out_a, out_s


def _make_params(params, overrides: dict):
    from fashiongraph.gnn.params import GraphSAGEParams

    fields = {f.name for f in dataclasses.fields(GraphSAGEParams)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(
            f"graphsage: unknown parameter(s) {unknown}; choose from {sorted(fields)}"
        )
    if params is None:
        return GraphSAGEParams(**overrides)
    if not isinstance(params, GraphSAGEParams):
        raise ConfigError(f"graphsage: params must be a GraphSAGEParams (got {type(params)})")
    return dataclasses.replace(params, **overrides) if overrides else params
