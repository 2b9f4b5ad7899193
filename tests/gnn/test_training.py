"""Training: the loss goes down, nothing of the evaluation window is seen, bad input is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from fashiongraph.errors import ConfigError, DataError, GraphError  # noqa: E402
from fashiongraph.gnn.params import GraphSAGEParams  # noqa: E402
from fashiongraph.gnn.training import train_graphsage  # noqa: E402
from fashiongraph.graph.build import build_knowledge_graph  # noqa: E402
from fashiongraph.graph.model import PURCHASED  # noqa: E402
from fashiongraph.recommenders.base import FitContext  # noqa: E402
from fashiongraph.recommenders.graphsage import GraphSAGERecommender  # noqa: E402

CUTOFF = "2020-09-16"


def _train(dataset, cutoff=CUTOFF, **params):
    train = dataset.before(cutoff)
    return train_graphsage(train, build_knowledge_graph(train, cutoff), GraphSAGEParams(**params))


def test_training_lowers_the_loss(small_dataset, fast):
    result = _train(small_dataset, **(fast | {"max_epochs": 6, "patience": 10}))
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 6
    assert losses[-1] < losses[0]
    assert all(np.isfinite(losses))
    assert result.customer_vectors.shape == (small_dataset.num_customers, 17)
    assert result.article_vectors.shape == (small_dataset.num_articles, 17)
    vals = [h["val_map12"] for h in result.history]
    assert all(v is not None and 0.0 <= v <= 1.0 for v in vals)


def test_windows_split_the_past_without_overlap(small_dataset, fast):
    result = _train(small_dataset, **fast)
    w = result.windows
    assert (str(w.supervision_start.date()), str(w.validation_start.date())) == (
        "2020-09-02", "2020-09-09")

    # Supervision edges are exactly the purchases of the supervision window.
    tx = small_dataset.transactions
    inside = tx[(tx["t_dat"] >= w.supervision_start) & (tx["t_dat"] < w.validation_start)]
    expected = set(zip(inside["customer_idx"].tolist(), inside["article_idx"].tolist()))
    assert set(zip(*result.supervision_pairs.tolist())) == expected
    assert result.counts["supervision_edges"] == len(expected) > 0

    # Message passing uses exactly the purchases strictly before the window.
    older = tx[tx["t_dat"] < w.supervision_start]
    mp_pairs = older.groupby(["customer_idx", "article_idx"]).ngroups
    assert result.counts["message_passing_purchases"] == mp_pairs


def test_no_edge_of_the_evaluation_window_reaches_the_model(small_dataset, fast):
    """Scramble every transaction on or after the cutoff: the model must not change at all."""
    tx = small_dataset.transactions
    future = tx["t_dat"] >= CUTOFF
    assert future.sum() > 0
    rng = np.random.default_rng(0)
    scrambled = tx.copy()
    scrambled.loc[future, "article_idx"] = rng.integers(
        0, small_dataset.num_articles, future.sum()).astype(np.int32)
    scrambled.loc[future, "customer_idx"] = rng.integers(
        0, small_dataset.num_customers, future.sum()).astype(np.int32)
    other = dataclasses.replace(small_dataset, transactions=scrambled)

    fits = []
    for dataset in (small_dataset, other):
        context = FitContext(dataset, CUTOFF, progress=False)
        fits.append(GraphSAGERecommender(fallback=False, **fast).fit(context))
    a, b = fits
    assert np.array_equal(a.customer_embeddings_, b.customer_embeddings_)
    assert np.array_equal(a.article_embeddings_, b.article_embeddings_)
    untimed = [[{k: v for k, v in h.items() if "seconds" not in k} for h in r.training_history_]
               for r in fits]
    assert untimed[0] == untimed[1]


def test_graph_or_data_past_the_cutoff_is_refused(small_dataset, fast):
    graph = build_knowledge_graph(small_dataset.before(CUTOFF), CUTOFF)
    with pytest.raises(GraphError, match=r"training data reaches past the cutoff 2020-09-16 "
                                         r"\(got a transaction on 2020-09-22\)"):
        train_graphsage(small_dataset, graph, GraphSAGEParams(**fast))


def test_no_purchases_in_supervision_window(small_dataset, fast):
    # Drop the supervision window's transactions: nothing to learn from.
    tx = small_dataset.transactions
    gap = (tx["t_dat"] >= "2020-09-02") & (tx["t_dat"] < "2020-09-09")
    holed = dataclasses.replace(small_dataset, transactions=tx[~gap].reset_index(drop=True))
    with pytest.raises(DataError, match=r"no purchases in the supervision window "
                                        r"2020-09-02..2020-09-08 .*choose a later cutoff or "
                                        r"longer supervision_days \(got 0 purchases\)"):
        _train(holed, **fast)


def test_without_validation_purchases_training_runs_without_early_stopping(small_dataset, fast,
                                                                           caplog):
    tx = small_dataset.transactions
    gap = (tx["t_dat"] >= "2020-09-09") & (tx["t_dat"] < CUTOFF)
    holed = dataclasses.replace(small_dataset, transactions=tx[~gap].reset_index(drop=True))
    result = _train(holed, **fast)
    assert [h["val_map12"] for h in result.history] == [None] * 3
    assert result.stopped == "max_epochs"
    assert "training without early stopping" in caplog.text


@pytest.mark.parametrize("params, message", [
    ({"max_steps": 0}, r"max_steps must be an integer >= 1: a zero budget trains nothing "
                       r"\(got 0\)"),
    ({"max_minutes": 0}, r"max_minutes must be > 0 or None for no limit: a zero budget trains "
                         r"nothing \(got 0\)"),
    ({"max_epochs": 0}, r"max_epochs must be an integer >= 1: a zero budget trains nothing "
                        r"\(got 0\)"),
    ({"device": "tpu"}, r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N' \(got 'tpu'\)"),
    ({"num_neighbors": (10,)}, r"num_neighbors needs one fan-out per layer \(2 layers\) "
                               r"\(got \[10\]\)"),
    ({"num_neighbors": (10, 0)}, r"num_neighbors entries must be >= 1 or -1 for all "
                                 r"\(got \[10, 0\]\)"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\) \(got 1.0\)"),
])
def test_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        GraphSAGEParams(**params)


def test_unknown_recommender_parameter():
    with pytest.raises(ConfigError, match=r"graphsage: unknown parameter\(s\) \['hidden'\]"):
        GraphSAGERecommender(hidden=3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error(small_dataset, fast):
    with pytest.raises(ConfigError, match=r"device 'cuda' was requested but torch sees no CUDA "
                                          r"GPU; use device='cpu' or 'auto'"):
        _train(small_dataset, **(fast | {"device": "cuda"}))


def test_budget_stops_training(small_dataset, fast):
    result = _train(small_dataset, **(fast | {"max_steps": 2, "max_epochs": 50}))
    assert result.stopped == "max_steps"
    assert result.steps == 2
    assert len(result.history) == 1 + (result.history[0]["steps"] < 2)


def test_graph_without_purchase_edges_is_refused(small_dataset, fast):
    train = small_dataset.before(CUTOFF)
    graph = build_knowledge_graph(train, CUTOFF)
    del graph.edges[PURCHASED]
    from fashiongraph.gnn.hetero import to_hetero_data

    with pytest.raises(GraphError, match="the knowledge graph has no 'PURCHASED' edges"):
        to_hetero_data(graph)
