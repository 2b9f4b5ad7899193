"""The saved model: identical recommendations after loading, checks, and no torch to serve."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from fashiongraph.errors import ModelError  # noqa: E402
from fashiongraph.gnn.saved import load_model  # noqa: E402
from fashiongraph.gnn.training import embed  # noqa: E402
from fashiongraph.gnn.hetero import to_hetero_data  # noqa: E402
from fashiongraph.recommenders.base import FitContext  # noqa: E402
from fashiongraph.recommenders.graphsage import GraphSAGERecommender  # noqa: E402

CUTOFF = "2020-09-16"


@pytest.fixture(scope="module")
def fitted(small_dataset, tmp_path_factory):
    fast = {"hidden_channels": 16, "num_neighbors": (5, 3), "batch_size": 128, "max_epochs": 3}
    run = tmp_path_factory.mktemp("run")
    context = FitContext(small_dataset, CUTOFF, progress=False, workdir=run)
    return GraphSAGERecommender(fallback=False, **fast).fit(context)


def test_model_directory_layout(fitted):
    d = fitted.model_dir_
    assert d == fitted.context_.workdir / "models" / "graphsage"
    for name in ("manifest.json", "model.pt", "customer_embeddings.npy",
                 "article_embeddings.npy", "history.json", "training_curves.png"):
        assert (d / name).stat().st_size > 0, name
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["graph"]["cutoff"] == CUTOFF
    assert manifest["params"]["hidden_channels"] == 16
    assert manifest["windows"] == {"supervision_start": "2020-09-02",
                                   "validation_start": "2020-09-09", "cutoff": CUTOFF}
    assert set(manifest["versions"]) >= {"torch", "torch_geometric", "numpy", "fashiongraph"}
    assert json.loads((d / "history.json").read_text()) == fitted.training_history_
    assert fitted.plot_path_ == d / "training_curves.png"
    assert (d / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_then_load_gives_identical_recommendations(fitted):
    loaded = GraphSAGERecommender.load(fitted.model_dir_, fitted.context_, fallback=False)
    customers = np.arange(fitted.context_.dataset.num_customers)
    a, b = fitted.recommend(customers, 12), loaded.recommend(customers, 12)
    assert np.array_equal(a.article_idx, b.article_idx)
    assert np.array_equal(a.scores, b.scores)
    assert loaded.training_history_ == fitted.training_history_
    assert (a.num_from_model == 12).all()


def test_purchased_articles_are_excluded_by_default(fitted):
    customers = np.arange(fitted.context_.dataset.num_customers)
    recs = fitted.recommend(customers, 12)
    bought = fitted.context_.purchases
    for c, row in zip(customers, recs.article_idx):
        assert not np.isin(row, bought[c].indices).any()


def test_weights_load_without_pickle_and_reproduce_the_embeddings(fitted):
    context = fitted.context_
    model, params = load_model(fitted.model_dir_, context.graph)
    state = torch.load(fitted.model_dir_ / "model.pt", weights_only=True)
    assert set(state) == set(model.state_dict())
    customer, article = embed(model, to_hetero_data(context.graph, context.train), "cpu")
    np.testing.assert_allclose(customer, fitted.customer_embeddings_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(article, fitted.article_embeddings_, rtol=1e-5, atol=1e-5)
    assert params.hidden_channels == 16


def test_a_model_of_another_graph_is_refused(fitted, small_dataset):
    other = FitContext(small_dataset, "2020-09-09", progress=False)
    with pytest.raises(ModelError, match=r"the saved graphsage model does not match the graph it "
                                         r"is loaded with \(cutoff: saved 2020-09-16, graph "
                                         r"2020-09-09; PURCHASED edges: saved 2311, graph 2132; "
                                         r".*\); retrain GraphSAGE on this graph"):
        GraphSAGERecommender.load(fitted.model_dir_, other)


def test_a_model_of_other_articles_is_refused(fitted, sample_dataset):
    other = FitContext(sample_dataset, CUTOFF, progress=False)
    with pytest.raises(ModelError, match=r"article nodes: saved \d+, graph 105542"):
        GraphSAGERecommender.load(fitted.model_dir_, other)


def test_not_a_model_directory(tmp_path, fitted):
    with pytest.raises(ModelError, match=r"not a graphsage model directory \(no manifest.json\)"):
        GraphSAGERecommender.load(tmp_path, fitted.context_)


def test_broken_embeddings_are_refused(fitted, tmp_path):
    import shutil

    broken = tmp_path / "graphsage"
    shutil.copytree(fitted.model_dir_, broken)
    emb = np.load(broken / "article_embeddings.npy")
    emb[3, 0] = np.nan
    np.save(broken / "article_embeddings.npy", emb)
    with pytest.raises(ModelError, match="article embeddings contain NaN or infinity"):
        GraphSAGERecommender.load(broken, fitted.context_)


def test_serving_a_saved_model_does_not_import_torch(fitted, small_dataset, tmp_path):
    small_dataset.save(tmp_path / "dataset")
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from fashiongraph.data.dataset import Dataset
        from fashiongraph.recommenders.base import FitContext
        from fashiongraph.recommenders.graphsage import GraphSAGERecommender

        context = FitContext(Dataset.load({str(tmp_path / "dataset")!r}), {CUTOFF!r},
                             progress=False)
        rec = GraphSAGERecommender.load({str(fitted.model_dir_)!r}, context, fallback=False)
        recs = rec.recommend(np.arange(5), 12)
        print(recs.article_idx.tolist())
        print(sorted(m for m in ("torch", "torch_geometric", "numba") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[-1] == "[]"
    assert json.loads(out[0]) == fitted.recommend(np.arange(5), 12).article_idx.tolist()
