"""The GraphSAGE model directory: weights, embeddings, manifest and training curves.

Layout (``RunDirectory.model_dir("graphsage")``)::

    manifest.json              graph summary and spec, params, windows, training, versions
    model.pt                   state_dict, readable with ``torch.load(weights_only=True)``
    customer_embeddings.npy    float32 (num_customers, hidden_channels + 1)
    article_embeddings.npy     float32 (num_articles, hidden_channels + 1)
    history.json               one record per epoch: loss, validation MAP@12, steps, seconds
    training_curves.png        loss and validation MAP@12 per epoch

Reading the embeddings needs numpy only; ``load_model`` (torch) is for re-embedding a graph.
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashiongraph.errors import ModelError
from fashiongraph.gnn.hetero import HeteroSpec, hetero_spec
from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED, KnowledgeGraph

log = logging.getLogger(__name__)

MODEL_FORMAT = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.pt"
CUSTOMER_EMBEDDINGS = "customer_embeddings.npy"
ARTICLE_EMBEDDINGS = "article_embeddings.npy"
HISTORY = "history.json"
CURVES = "training_curves.png"

_RETRAIN = ("retrain GraphSAGE on this graph (fit GraphSAGERecommender, e.g. `fashiongraph "
            "evaluate --methods graphsage`), or load the model with the graph it was trained on")


@dataclass
class SavedEmbeddings:
    """Embeddings read back from a model directory.

    Attributes:
        customer: float32 array of shape (num_customers, dim).
        article: float32 array of shape (num_articles, dim).
        manifest: the directory's manifest.
        history: the training history (one dict per epoch).
    """

    customer: np.ndarray
    article: np.ndarray
    manifest: dict
    history: list[dict]


def save_model(directory: str | Path, result, graph: KnowledgeGraph, params) -> Path:
    """Write a ``TrainingResult`` into ``directory`` (created; existing files replaced).

    Args:
        directory: the model directory.
        result: ``fashiongraph.gnn.training.TrainingResult``.
        graph: the graph the final embeddings were computed on (the one before the cutoff).
        params: the ``GraphSAGEParams`` used.

    Returns:
        the manifest path.
    """
    import torch
    import torch_geometric

    import fashiongraph

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(result.model.state_dict(), directory / WEIGHTS)
    np.save(directory / CUSTOMER_EMBEDDINGS, result.customer_vectors, allow_pickle=False)
    np.save(directory / ARTICLE_EMBEDDINGS, result.article_vectors, allow_pickle=False)
    (directory / HISTORY).write_text(json.dumps(result.history, indent=2))
    plot_training_curves(result.history, directory / CURVES)
    val = [h["val_map12"] for h in result.history if h["val_map12"] is not None]
    manifest = {
        "method": "graphsage",
        "format": MODEL_FORMAT,
        "graph": graph.summary(),
        "spec": result.spec.to_dict(),
        "params": params.to_dict(),
        "windows": result.windows.to_dict(),
        "counts": result.counts,
        "training": {
            "epochs": len(result.history),
            "steps": result.steps,
            "seconds": round(result.seconds, 2),
            "best_epoch": result.best_epoch,
            "best_val_map12": max(val) if val else None,
            "stopped": result.stopped,
            "device": result.device,
        },
        "embedding_dim": int(result.customer_vectors.shape[1]),
        "files": {"weights": WEIGHTS, "customer_embeddings": CUSTOMER_EMBEDDINGS,
                  "article_embeddings": ARTICLE_EMBEDDINGS, "history": HISTORY,
                  "training_curves": CURVES},
        "versions": {"fashiongraph": fashiongraph.__version__, "torch": torch.__version__,
                     "torch_geometric": torch_geometric.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
    }
    path = directory / MANIFEST
    path.write_text(json.dumps(manifest, indent=2))
    log.info("saved graphsage model to %s", directory)
    return path


def read_manifest(directory: str | Path) -> dict:
    """The manifest of a model directory.

    Raises:
        ModelError: no manifest, or one of another method or format.
    """
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise ModelError(
            f"{directory}: not a graphsage model directory (no {MANIFEST}); train one by "
            "fitting GraphSAGERecommender with a workdir or model_dir"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("method") != "graphsage" or manifest.get("format") != MODEL_FORMAT:
        raise ModelError(
            f"{path}: expected a graphsage model of format {MODEL_FORMAT} "
            f"(got method {manifest.get('method')!r}, format {manifest.get('format')!r}); "
            f"{_RETRAIN}"
        )
    return manifest


def check_matches(manifest: dict, graph: KnowledgeGraph, directory) -> None:
    """Raise ``ModelError`` unless ``graph`` is the graph the model was saved with.

    The cutoff, the node and edge counts by type and the heterogeneous spec must all agree:
    embeddings of a graph with another cutoff would either miss purchases or leak future ones.
    """
    saved, now = manifest["graph"], graph.summary()
    problems = []
    if saved.get("cutoff") != now["cutoff"]:
        problems.append(f"cutoff: saved {saved.get('cutoff')}, graph {now['cutoff']}")
    for part in ("nodes", "edges"):
        # Purchases first: they are what differs between cutoffs.
        for t in sorted(set(saved.get(part, {})) | set(now[part]),
                        key=lambda t: (t not in (PURCHASED, CUSTOMER, ARTICLE), t)):
            a, b = saved.get(part, {}).get(t), now[part].get(t)
            if a != b:
                problems.append(f"{t} {part}: saved {a}, graph {b}")
    problems += [p for p in HeteroSpec.from_dict(manifest["spec"]).differences(
        hetero_spec(graph)) if p not in problems and "nodes:" not in p]
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more"
                                           if len(problems) > 6 else "")
        raise ModelError(
            f"{directory}: the saved graphsage model does not match the graph it is loaded "
            f"with ({shown}); {_RETRAIN}"
        )


def load_embeddings(directory: str | Path, graph: KnowledgeGraph) -> SavedEmbeddings:
    """Read the embeddings of a model directory after checking it matches ``graph``.

    Raises:
        ModelError: missing files, a mismatched graph, wrong shapes or non-finite vectors.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    check_matches(manifest, graph, directory)
    arrays = {}
    for name, file, n in ((CUSTOMER, CUSTOMER_EMBEDDINGS, graph.num_nodes_of(CUSTOMER)),
                          (ARTICLE, ARTICLE_EMBEDDINGS, graph.num_nodes_of(ARTICLE))):
        path = directory / file
        if not path.exists():
            raise ModelError(f"{path}: missing {name} embeddings; {_RETRAIN}")
        v = np.load(path, allow_pickle=False)
        if v.shape != (n, manifest["embedding_dim"]):
            raise ModelError(
                f"{path}: expected shape ({n}, {manifest['embedding_dim']}) "
                f"(got {v.shape}); {_RETRAIN}"
            )
        if not np.isfinite(v).all():
            raise ModelError(f"{path}: {name} embeddings contain NaN or infinity; {_RETRAIN}")
        arrays[name] = v.astype(np.float32, copy=False)
    history_path = directory / HISTORY
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    return SavedEmbeddings(arrays[CUSTOMER], arrays[ARTICLE], manifest, history)


def load_model(directory: str | Path, graph: KnowledgeGraph):
    """Rebuild the trained module from a model directory (torch; not the request path).

    The weights are read with ``torch.load(weights_only=True)``: no pickled code runs.

    Returns:
        (model, params): ``GraphSAGELinkPredictor`` in eval mode on the CPU and the
        ``GraphSAGEParams`` it was trained with.

    Raises:
        ModelError: the directory does not match ``graph`` or the weights do not fit.
    """
    import torch

    from fashiongraph.gnn.model import GraphSAGELinkPredictor
    from fashiongraph.gnn.params import GraphSAGEParams

    directory = Path(directory)
    manifest = read_manifest(directory)
    spec = HeteroSpec.from_dict(manifest["spec"])
    differences = spec.differences(hetero_spec(graph))
    if differences:
        raise ModelError(
            f"{directory}: the saved graphsage model does not fit this graph "
            f"({'; '.join(differences[:6])}); {_RETRAIN}"
        )
    params = GraphSAGEParams(**manifest["params"])
    model = GraphSAGELinkPredictor(spec, hidden_channels=params.hidden_channels,
                                   num_layers=params.num_layers,
                                   id_embeddings=params.id_embeddings, dropout=params.dropout)
    try:
        state = torch.load(directory / WEIGHTS, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"{directory / WEIGHTS}: cannot load the weights ({exc}); {_RETRAIN}"
                         ) from exc
    return model.eval(), params


def plot_training_curves(history: list[dict], path: str | Path) -> Path:
    """Draw loss and validation MAP@12 per epoch into a PNG (matplotlib, no pyplot state)."""
    from matplotlib.figure import Figure

    path = Path(path)
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(8, 3.2))
    ax_loss, ax_val = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["loss"] for h in history], marker="o")
    ax_loss.set(title="training loss (BCE)", xlabel="epoch", ylabel="loss")
    val = [(h["epoch"], h["val_map12"]) for h in history if h["val_map12"] is not None]
    if val:
        ax_val.plot(*zip(*val), marker="o", color="tab:green")
    else:
        ax_val.text(0.5, 0.5, "no validation window", ha="center", va="center",
                    transform=ax_val.transAxes)
    ax_val.set(title="validation MAP@12", xlabel="epoch")
    for ax in (ax_loss, ax_val):
        ax.grid(alpha=0.3)
    fig.suptitle("GraphSAGE training")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
