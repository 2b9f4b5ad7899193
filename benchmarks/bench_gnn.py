"""GraphSAGE benchmark: training throughput, sampler speed, embedding and serving time.

Not a test: it prints numbers for ``benchmarks/RESULTS-gnn.md``. Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_gnn.py [--epochs 5] [--threads 1]

Data: the bundled real sample (1,364 customers, 105,542 articles in the catalogue), cutoff
2020-09-16, default ``GraphSAGEParams`` except a fixed number of epochs and no early stopping.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import date

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--customers", type=int, default=1000,
                        help="customers per serving measurement (default 1000)")
    args = parser.parse_args()

    import torch

    from fashiongraph.gnn.hetero import PURCHASE_EDGE, purchase_pairs, to_hetero_data
    from fashiongraph.gnn.loader import CSRNeighborSampler
    from fashiongraph.gnn.params import GraphSAGEParams
    from fashiongraph.graph.build import build_knowledge_graph
    from fashiongraph.pipeline import bundled_tasks, load_task_dataset
    from fashiongraph.recommenders.base import FitContext
    from fashiongraph.recommenders.graphsage import GraphSAGERecommender

    cutoff = "2020-09-16"
    dataset = load_task_dataset(bundled_tasks()[0])
    out = {"date": str(date.today()), "machine": _machine(), "torch": torch.__version__,
           "epochs": args.epochs, "threads": args.threads}

    # 1. Sampler alone: supervision mini-batches through PyG's LinkLoader, no model.
    from torch_geometric.loader import LinkLoader
    from torch_geometric.sampler import NegativeSampling

    params = GraphSAGEParams(max_epochs=args.epochs, patience=args.epochs + 1,
                             num_threads=args.threads, max_minutes=None)
    mp = to_hetero_data(build_knowledge_graph(dataset.before("2020-09-02"), "2020-09-02"),
                        dataset)
    sup = purchase_pairs(dataset.transactions, "2020-09-02", "2020-09-09")
    loader = LinkLoader(mp, CSRNeighborSampler(mp, params.num_neighbors, seed=0),
                        edge_label_index=(PURCHASE_EDGE, torch.from_numpy(sup)),
                        neg_sampling=NegativeSampling("triplet", params.num_negatives),
                        batch_size=params.batch_size, shuffle=True)
    for _ in loader:  # warm-up: numba compilation
        pass
    t0, batches, nodes = time.perf_counter(), 0, 0
    for _ in range(10):
        for batch in loader:
            batches += 1
            nodes += sum(batch[t].num_nodes for t in batch.node_types)
    dt = time.perf_counter() - t0
    out["sampler_batches_per_s"] = batches / dt
    out["sampler_nodes_per_batch"] = nodes / batches

    # 2. Training (the recommender's fit): throughput over the training steps only.
    with tempfile.TemporaryDirectory() as tmp:
        context = FitContext(dataset, cutoff, progress=False, workdir=tmp)
        context.graph  # built outside the timed fit
        t0 = time.perf_counter()
        rec = GraphSAGERecommender(params=params).fit(context)
        out["fit_seconds"] = time.perf_counter() - t0
        hist = rec.training_history_
        edges = sum(h["edges"] for h in hist)
        train_s = sum(h["train_seconds"] for h in hist)
        out["supervision_edges_per_epoch"] = hist[0]["edges"]
        out["train_seconds"] = train_s
        out["positive_edges_per_s"] = edges / train_s
        out["scored_edges_per_s"] = edges * (1 + params.num_negatives) / train_s
        out["validation_seconds_per_epoch"] = (hist[-1]["seconds"] - train_s) / len(hist)

        # 3. Serving from the saved model: numpy only.
        loaded = GraphSAGERecommender.load(rec.model_dir_, context)
        customers = np.resize(np.arange(dataset.num_customers), args.customers)
        loaded.recommend(customers[:10], 12)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            loaded.recommend(customers, 12)
            times.append(time.perf_counter() - t0)
        out["recommend_seconds_per_1000"] = float(np.median(times)) * 1000 / args.customers
        out["num_articles_ranked"] = dataset.num_articles

        # 4. Full-graph embedding of all customers and articles (torch, after training).
        from fashiongraph.gnn.saved import load_model
        from fashiongraph.gnn.training import embed

        model, _ = load_model(rec.model_dir_, context.graph)
        data = to_hetero_data(context.graph, context.train)
        torch.set_num_threads(args.threads)
        embed(model, data, "cpu")
        t0 = time.perf_counter()
        embed(model, data, "cpu")
        out["embed_all_seconds"] = time.perf_counter() - t0
        out["embed_customers_per_s"] = dataset.num_customers / out["embed_all_seconds"]

    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()},
                     indent=2))


def _machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}"


if __name__ == "__main__":
    main()
