"""GraphSAGE benchmark: sampler speed, training throughput, embedding and serving time.

Not a test: nothing here asserts a speed. It trains the default ``GraphSAGERecommender`` on a
bundled task for a fixed number of epochs (no early stopping, no time budget) and prints a
markdown table for ``benchmarks/results/gnn.md``. Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_gnn.py [--task hm_lastweek] [--epochs 3]

The machine may be shared: every number comes with the 1-minute load average (``uptime``)
read just before and just after it was measured.

Numbers:
    sampler: supervision mini-batches per second through PyG's ``LinkLoader`` with our CSR
        sampler and the default negatives, no model.
    training: positive supervision edges per second over the optimiser steps (sampling,
        forward, backward and Adam; validation excluded), and scored edges per second
        (positives plus their sampled negatives).
    validation: seconds per epoch to embed the validation neighbourhood and score it.
    embedding: one full-graph pass over every customer and article after training.
    serving: ``recommend`` for 1,000 customers from the saved numpy embeddings (every
        candidate article scored, purchased articles left out), median of 5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="hm_lastweek", choices=("hm_lastweek", "hm_sample"))
    parser.add_argument("--epochs", type=int, default=3,
                        help="training epochs, at least 2 (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: GraphSAGEParams.num_threads)")
    parser.add_argument("--customers", type=int, default=1000,
                        help="customers per serving measurement (default 1000)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 to time validation (got {args.epochs})")

    import torch

    from fashiongraph.gnn.params import GraphSAGEParams
    from fashiongraph.pipeline import bundled_tasks, load_task_dataset
    from fashiongraph.recommenders.base import FitContext
    from fashiongraph.recommenders.graphsage import GraphSAGERecommender

    task = next(t for t in bundled_tasks() if t.name == args.task)
    dataset = load_task_dataset(task)
    overrides = {"max_epochs": args.epochs, "patience": args.epochs + 1, "max_minutes": None}
    if args.threads is not None:
        overrides["num_threads"] = args.threads
    rec = GraphSAGERecommender(**overrides)
    params = rec.params
    rows: list[tuple[str, str, str]] = []
    info = {"date": datetime.now().isoformat(timespec="minutes"), "machine": _machine(),
            "task": task.name, "cutoff": task.test_start, "torch": torch.__version__,
            "device": "cpu" if not torch.cuda.is_available() else torch.cuda.get_device_name(),
            "params": params.to_dict(), "candidate_days": rec.candidate_days}

    with tempfile.TemporaryDirectory() as tmp:
        context = FitContext(dataset, task.test_start, progress=False, workdir=tmp)
        context.graph  # built outside every timed part

        # 1. The sampler alone, over the supervision edges of the default windows.
        load = _load()
        per_s, nodes = _sampler_speed(context, params)
        rows.append(("sampler", f"{per_s:.1f} batches/s ({params.batch_size} positive edges "
                                f"each, {nodes:,.0f} sampled nodes per batch)", _load(load)))

        # 2. Training: the recommender's fit; throughput over the optimiser steps only.
        load = _load()
        t0 = time.perf_counter()
        rec.fit(context)
        fit_s = time.perf_counter() - t0
        fit_load = _load(load)
        hist = rec.training_history_
        edges = sum(h["edges"] for h in hist)
        train_s = sum(h["train_seconds"] for h in hist)
        # Between two epochs' ends: that epoch's steps, then its validation.
        val_s = np.mean([b["seconds"] - a["seconds"] - b["train_seconds"]
                         for a, b in zip(hist, hist[1:])])
        counts = rec.manifest_["counts"]
        rows.append(("training", f"{edges / train_s:,.0f} positive edges/s, "
                                 f"{edges * (1 + params.num_negatives) / train_s:,.0f} scored "
                                 f"edges/s ({edges:,} positives in {train_s:.1f} s, "
                                 f"{hist[-1]['steps']} steps, {len(hist)} epochs)", fit_load))
        rows.append(("validation", f"{val_s:.2f} s per epoch ({counts['validation_customers']:,} "
                                   f"customers)", fit_load))
        rows.append(("fit (whole)", f"{fit_s:.1f} s (graphs before the windows, training, "
                                    f"validation, final embedding, saving)", fit_load))

        # 3. One full-graph embedding of every customer and article with the trained weights.
        from fashiongraph.gnn.hetero import to_hetero_data
        from fashiongraph.gnn.saved import load_model
        from fashiongraph.gnn.training import embed

        model, _ = load_model(rec.model_dir_, context.graph)
        data = to_hetero_data(context.graph, context.train)
        threads = torch.get_num_threads()
        torch.set_num_threads(params.num_threads or threads)
        load = _load()
        t0 = time.perf_counter()
        embed(model, data, "cpu")
        embed_s = time.perf_counter() - t0
        torch.set_num_threads(threads)
        rows.append(("embedding", f"{embed_s:.2f} s for {dataset.num_customers:,} customers and "
                                  f"{dataset.num_articles:,} articles", _load(load)))

        # 4. Serving from the saved model directory: numpy only.
        loaded = GraphSAGERecommender.load(rec.model_dir_, context)
        customers = np.resize(np.arange(dataset.num_customers), args.customers)
        loaded.recommend(customers[:10], 12)
        load = _load()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            loaded.recommend(customers, 12)
            times.append(time.perf_counter() - t0)
        per_1000 = float(np.median(times)) * 1000 / args.customers
        scored = (dataset.num_articles if loaded.candidates_ is None
                  else int(loaded.candidates_.sum()))
        rows.append(("serving", f"{per_1000:.3f} s per 1,000 customers (top 12 of {scored:,} "
                                f"candidate articles of {dataset.num_articles:,}, median of 5)",
                     _load(load)))

    print(json.dumps(info, indent=2))
    print()
    print("| measure | result | load average (1 min) before -> after |")
    print("|---|---|---|")
    for name, result, load in rows:
        print(f"| {name} | {result} | {load} |")


def _sampler_speed(context, params) -> tuple[float, float]:
    """Mini-batches per second and sampled nodes per batch over one pass (after a warm-up)."""
    import torch
    from torch_geometric.loader import LinkLoader
    from torch_geometric.sampler import NegativeSampling

    from fashiongraph.gnn.hetero import PURCHASE_EDGE, purchase_pairs, to_hetero_data
    from fashiongraph.gnn.loader import CSRNeighborSampler
    from fashiongraph.gnn.training import TrainingWindows
    from fashiongraph.graph.build import build_knowledge_graph

    tx = context.train.transactions
    w = TrainingWindows.before(context.cutoff, params, tx["t_dat"].min())
    mp = to_hetero_data(build_knowledge_graph(context.train, w.supervision_start),
                        context.train)
    sup = purchase_pairs(tx, w.supervision_start, w.validation_start)
    loader = LinkLoader(mp, CSRNeighborSampler(mp, params.num_neighbors, seed=0),
                        edge_label_index=(PURCHASE_EDGE, torch.from_numpy(sup)),
                        neg_sampling=NegativeSampling("triplet", params.num_negatives),
                        batch_size=params.batch_size, shuffle=True)
    next(iter(loader))  # numba compilation
    t0, batches, nodes = time.perf_counter(), 0, 0
    while batches < 20:
        for batch in loader:
            batches += 1
            nodes += sum(batch[t].num_nodes for t in batch.node_types)
    return batches / (time.perf_counter() - t0), nodes / batches


def _load(before: float | None = None):
    now = os.getloadavg()[0]
    return now if before is None else f"{before:.2f} -> {now:.2f}"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


if __name__ == "__main__":
    main()
