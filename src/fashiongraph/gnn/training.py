"""Training the GraphSAGE link predictor on temporal windows before the cutoff.

The model learns what a customer buys *next*: message passing runs over purchases strictly
older than the supervision window, and the supervision edges are the purchases inside it. The
validation window after it (still before the cutoff) is scored the way the evaluation is: with
embeddings of the graph before the window, excluding what was bought before. Final
embeddings come from the graph before the cutoff. Nothing on or after the cutoff is read:
``train_graphsage`` receives ``FitContext.train``, already cut.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from fashiongraph.data.dataset import Dataset
from fashiongraph.errors import DataError, GraphError, ModelError
from fashiongraph.gnn.hetero import (
    PURCHASE_EDGE, HeteroSpec, hetero_spec, purchase_pairs, to_hetero_data,
)
from fashiongraph.gnn.params import GraphSAGEParams, resolve_device
from fashiongraph.gnn.ranking import map_at_k, top_k
from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED, KnowledgeGraph

log = logging.getLogger(__name__)

VALIDATION_K = 12
"""Cut-off of the validation metric (MAP@12, as in the H&M competition)."""


@dataclass(frozen=True)
class TrainingWindows:
    """The dates that split the past before the cutoff (see ``GraphSAGEParams``).

    Attributes:
        supervision_start: first day of the supervision window; message passing is before it.
        validation_start: first day of the validation window (= end of supervision).
        cutoff: the first day the model may not see.
    """

    supervision_start: pd.Timestamp
    validation_start: pd.Timestamp
    cutoff: pd.Timestamp

    @classmethod
    def before(cls, cutoff, params: GraphSAGEParams) -> TrainingWindows:
        cutoff = pd.Timestamp(cutoff)
        validation_start = cutoff - pd.Timedelta(days=params.validation_days)
        return cls(validation_start - pd.Timedelta(days=params.supervision_days),
                   validation_start, cutoff)

    def to_dict(self) -> dict:
        return {k: str(getattr(self, k).date())
                for k in ("supervision_start", "validation_start", "cutoff")}


@dataclass
class TrainingResult:
    """What training produced.

    Attributes:
        model: the trained module (best validation epoch), on the CPU.
        spec: the graph spec it was built for.
        customer_vectors: float32 array of shape (num_customers, hidden_channels + 1).
        article_vectors: float32 array of shape (num_articles, hidden_channels + 1).
        history: one dict per epoch: ``epoch``, ``loss``, ``val_map12`` (``None`` without a
            validation window), ``steps`` (so far), ``edges`` (positive edges this epoch),
            ``train_seconds`` (this epoch's steps, sampling included, validation excluded),
            ``seconds`` (since the start of training).
        windows: the temporal split.
        counts: sizes of the split (supervision edges, validation customers, message-passing
            purchases).
        best_epoch: epoch whose weights were kept.
        stopped: why training ended: ``"max_epochs"``, ``"early_stopping"``, ``"max_steps"``
            or ``"max_minutes"``.
        device: the device it ran on.
        seconds: wall time of ``train_graphsage``.
        steps: optimiser steps taken.
        supervision_pairs: int64 array of shape (2, num_edges): the supervision edges
            (customer_idx, article_idx).
        saved_to: the model directory it was last saved to (set by the recommender).
    """

    model: torch.nn.Module
    spec: HeteroSpec
    customer_vectors: np.ndarray
    article_vectors: np.ndarray
    history: list[dict]
    windows: TrainingWindows
    counts: dict
    best_epoch: int
    stopped: str
    device: str
    seconds: float = 0.0
    steps: int = 0
    supervision_pairs: np.ndarray = field(default=None, repr=False)
    saved_to: object = None


def train_graphsage(train: Dataset, graph: KnowledgeGraph, params: GraphSAGEParams, *,
                    graph_config=None, progress: bool = False) -> TrainingResult:
    """Train on windows before ``graph.cutoff`` and embed every customer and article.

    Args:
        train: the dataset already cut at the cutoff (``FitContext.train``).
        graph: the knowledge graph of ``train`` before the cutoff (``FitContext.graph``).
        params: hyperparameters and budget.
        graph_config: ``GraphConfig`` used to build the earlier graphs (as ``graph``'s).
        progress: show a tqdm bar over epochs.

    Returns:
        TrainingResult

    Raises:
        ConfigError: an unknown or unavailable device.
        DataError: no purchases in the supervision window.
        GraphError: the graph has no cutoff, or transactions on or after it.
        ModelError: the embeddings came out NaN or infinite.
    """
    from fashiongraph.graph.build import build_knowledge_graph

    t0 = time.perf_counter()
    device = resolve_device(params.device)
    if graph.cutoff is None:
        raise GraphError("the knowledge graph has no cutoff date; build it with a cutoff")
    windows = TrainingWindows.before(graph.cutoff, params)
    tx = train.transactions
    if len(tx) and tx["t_dat"].max() >= windows.cutoff:
        raise GraphError(
            f"training data reaches past the cutoff {windows.cutoff.date()} "
            f"(got a transaction on {pd.Timestamp(tx['t_dat'].max()).date()}); "
            "pass FitContext.train, which is cut at the cutoff"
        )

    # Supervision: purchases in the window; message passing: the graph strictly before it.
    supervision = purchase_pairs(tx, windows.supervision_start, windows.validation_start)
    if supervision.shape[1] == 0:
        raise DataError(
            f"no purchases in the supervision window {windows.supervision_start.date()}.."
            f"{(windows.validation_start - pd.Timedelta(days=1)).date()} "
            f"(supervision_days={params.supervision_days}, validation_days="
            f"{params.validation_days} before the cutoff {windows.cutoff.date()}); "
            "choose a later cutoff or longer supervision_days (got 0 purchases)"
        )
    mp_graph = build_knowledge_graph(train, windows.supervision_start, graph_config)
    spec = hetero_spec(graph)
    if hetero_spec(mp_graph) != spec:
        raise GraphError("graphs before and at the cutoff differ in node or edge types; "
                         "build `graph` from `train` with the same graph_config")
    validation = purchase_pairs(tx, windows.validation_start, windows.cutoff)
    val_graph = (build_knowledge_graph(train, windows.validation_start, graph_config)
                 if validation.shape[1] else None)
    if params.validation_days and val_graph is None:
        log.warning("no purchases in the validation window %s..%s: training without early "
                    "stopping", windows.validation_start.date(), windows.cutoff.date())
    counts = {
        "supervision_edges": int(supervision.shape[1]),
        "supervision_customers": int(len(np.unique(supervision[0]))),
        "message_passing_purchases": len(mp_graph.edges[PURCHASED]),
        "validation_edges": int(validation.shape[1]),
        "validation_customers": int(len(np.unique(validation[0]))),
    }
    log.info("graphsage windows %s; %s", windows.to_dict(), counts)

    threads = torch.get_num_threads()
    if params.num_threads is not None:
        torch.set_num_threads(params.num_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(params.seed)
            return _train(train, graph, params, windows, mp_graph, val_graph, supervision,
                          validation, spec, counts, device, progress, t0)
    finally:
        torch.set_num_threads(threads)


def _train(train, graph, params, windows, mp_graph, val_graph, supervision, validation, spec,
           counts, device, progress, t0) -> TrainingResult:
    """The training loop of ``train_graphsage`` (seeded, threads set)."""
    from torch_geometric.loader import LinkLoader
    from torch_geometric.sampler import NegativeSampling

    from fashiongraph.gnn.loader import CSRNeighborSampler
    from fashiongraph.gnn.model import GraphSAGELinkPredictor

    mp_data = to_hetero_data(mp_graph, train)
    model = GraphSAGELinkPredictor(
        spec, hidden_channels=params.hidden_channels, num_layers=params.num_layers,
        id_embeddings=params.id_embeddings, dropout=params.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=params.lr,
                                 weight_decay=params.weight_decay)

    # Mini-batches of supervision edges, their sampled neighbourhoods and negatives.
    neg = NegativeSampling("triplet", amount=params.num_negatives,
                           dst_weight=_negative_weights(mp_graph, params))
    loader = LinkLoader(
        mp_data, CSRNeighborSampler(mp_data, params.num_neighbors, seed=params.seed),
        edge_label_index=(PURCHASE_EDGE, torch.from_numpy(supervision)),
        neg_sampling=neg, batch_size=params.batch_size, shuffle=True,
        generator=torch.Generator().manual_seed(params.seed))
    val_eval = (_Validation(val_graph, train, validation, device) if val_graph is not None
                else None)

    history: list[dict] = []
    best_state, best_metric, best_epoch, bad_epochs = None, -np.inf, 0, 0
    steps, stopped = 0, "max_epochs"
    deadline = None if params.max_minutes is None else t0 + 60.0 * params.max_minutes
    epochs = range(1, params.max_epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="graphsage", unit="epoch")
    for epoch in epochs:
        # One pass over the supervision edges.
        model.train()
        losses, sizes = [], []
        t_epoch = time.perf_counter()
        for batch in loader:
            batch = batch.to(device)
            loss = _batch_loss(model, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            losses.append(float(loss.detach()))
            sizes.append(int(batch[CUSTOMER].src_index.numel()))
            if params.max_steps is not None and steps >= params.max_steps:
                stopped = "max_steps"
                break
            if deadline is not None and time.perf_counter() >= deadline:
                stopped = "max_minutes"
                break
        train_seconds = time.perf_counter() - t_epoch
        loss_value = float(np.average(losses, weights=sizes))
        if not np.isfinite(loss_value):
            raise ModelError(
                f"graphsage training diverged at epoch {epoch} (got loss {loss_value}); "
                f"lower lr (got {params.lr})"
            )

        # Validation metric, and early stopping on it.
        metric = val_eval(model) if val_eval is not None else None
        history.append({"epoch": epoch, "loss": loss_value, "val_map12": metric,
                        "steps": steps, "edges": int(sum(sizes)),
                        "train_seconds": round(train_seconds, 3),
                        "seconds": round(time.perf_counter() - t0, 3)})
        log.info("graphsage epoch %d: loss %.4f, val MAP@12 %s, %d steps", epoch,
                 loss_value, "n/a" if metric is None else f"{metric:.4f}", steps)
        if metric is None or metric > best_metric:
            best_metric = -np.inf if metric is None else metric
            best_state, best_epoch, bad_epochs = _cpu_state(model), epoch, 0
        else:
            bad_epochs += 1
        if stopped != "max_epochs":
            break
        if val_eval is not None and bad_epochs >= params.patience:
            stopped = "early_stopping"
            break

    # Final vectors from the best weights over the whole graph before the cutoff.
    model.load_state_dict(best_state)
    customer, article = embed(model, to_hetero_data(graph, train), device)
    model = model.cpu()
    seconds = time.perf_counter() - t0
    log.info("graphsage trained in %.1fs (%d steps, stopped by %s, best epoch %d)", seconds,
             steps, stopped, best_epoch)
    return TrainingResult(model, spec, customer, article, history, windows, counts, best_epoch,
                          stopped, str(device), seconds, steps, supervision)


def embed(model, data, device) -> tuple[np.ndarray, np.ndarray]:
    """Customer and article vectors of the whole graph ``data`` (all neighbours, no sampling).

    Returns:
        (customer, article): float32 arrays of shapes (num_customers, hidden_channels + 1) and
        (num_articles, hidden_channels + 1), whose inner products are the model's logits.

    Raises:
        ModelError: a vector contains NaN or infinity.
    """
    model.eval()
    data = data.to(device)
    with torch.no_grad():
        h = model.encode(data.collect("n_id"), data.collect("attr_codes"),
                         data.collect("activity"), data.edge_index_dict)
        customer, article = model.export_vectors(h)
    customer = customer.cpu().numpy().astype(np.float32)
    article = article.cpu().numpy().astype(np.float32)
    for name, v in ((CUSTOMER, customer), (ARTICLE, article)):
        bad = ~np.isfinite(v).all(axis=1)
        if bad.any():
            raise ModelError(
                f"graphsage produced non-finite {name} vectors for {int(bad.sum())} nodes "
                f"(got e.g. row {int(np.flatnonzero(bad)[0])}); retrain with a lower lr"
            )
    return customer, article


class _Validation:
    """MAP@12 on the validation window, with embeddings of the graph before it."""

    def __init__(self, graph: KnowledgeGraph, train: Dataset, pairs: np.ndarray, device):
        self.data = to_hetero_data(graph, train)
        self.device = device
        n_c, n_a = graph.num_nodes_of(CUSTOMER), graph.num_nodes_of(ARTICLE)
        self.customers = np.unique(pairs[0])
        truth = sp.csr_matrix((np.ones(pairs.shape[1], np.float32), (pairs[0], pairs[1])),
                              shape=(n_c, n_a))
        self.truth = truth[self.customers]
        e = graph.edges[PURCHASED]
        self.bought = sp.csr_matrix((np.ones(len(e), np.float32), (e.src, e.dst)),
                                    shape=(n_c, n_a))[self.customers]

    def __call__(self, model) -> float:
        customer, article = embed(model, self.data, self.device)
        scores = customer[self.customers] @ article.T
        rows = np.repeat(np.arange(len(self.customers)), np.diff(self.bought.indptr))
        scores[rows, self.bought.indices] = -np.inf
        return map_at_k(top_k(scores, VALIDATION_K), self.truth)


def _batch_loss(model, batch) -> torch.Tensor:
    """Binary cross-entropy of positive edges against their sampled negatives."""
    src = batch[CUSTOMER].src_index
    pos = batch[ARTICLE].dst_pos_index
    neg = batch[ARTICLE].dst_neg_index.view(src.numel(), -1)
    articles = torch.cat([pos.view(-1, 1), neg], dim=1)
    logits = model(batch.collect("n_id"), batch.collect("attr_codes"), batch.collect("activity"),
                   batch.edge_index_dict, src, articles)
    labels = torch.zeros_like(logits)
    labels[:, 0] = 1.0
    return F.binary_cross_entropy_with_logits(logits, labels)


def _negative_weights(graph: KnowledgeGraph, params: GraphSAGEParams):
    """float tensor of shape (num_articles,) for popularity-aware negatives, or ``None``."""
    if params.negative_popularity == 0:
        return None
    e = graph.edges[PURCHASED]
    counts = np.bincount(e.dst, minlength=graph.num_nodes_of(ARTICLE)).astype(np.float64)
    return torch.from_numpy((counts + 1.0) ** params.negative_popularity).float()


def _cpu_state(model) -> dict:
    return {k: v.detach().cpu().clone() for k, v in copy.copy(model.state_dict()).items()}
