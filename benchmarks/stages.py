"""The pipeline at one scale, as the benchmark measures it, in three stages.

``synth`` and ``ingest`` run the real ``fashiongraph`` commands as child processes. ``pipeline``
runs in one worker process (``python -m benchmarks.stages pipeline DIR``), as ``fashiongraph
evaluate`` would: the split's context, the knowledge graph, the CSR projection, FastRP, KNN for
the test customers, random-walk recommendations for them, one customer's latency, the two
baselines and the evaluation. Each stage writes ``results/<stage>.json`` under the scale's
directory when it succeeds; a stage whose file exists is not run again (that is the resume).

The test window is the last seven days of the data; test customers are those who bought in it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.measure import REPO, machine, measured

FULL_SCALE = {"customers": 1_371_980, "articles": 105_542, "transactions": 31_788_324}
"""The size of the real H&M data; scale ``s`` generates ``round(s * n)`` of each."""

TEST_DAYS = 7
LATENCY_SAMPLES = 300
SEED = 0


def scale_sizes(scale: float) -> dict:
    """Customers, articles and transactions at ``scale`` (1.0 = H&M)."""
    return {key: max(1, round(scale * n)) for key, n in FULL_SCALE.items()}


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (commands read better)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def synth_command(scale: float, out: Path) -> list[str]:
    sizes = scale_sizes(scale)
    return [sys.executable, "-m", "fashiongraph.cli", "synth",
            "--customers", str(sizes["customers"]), "--articles", str(sizes["articles"]),
            "--transactions", str(sizes["transactions"]), "--seed", str(SEED),
            "--out", _shown(out)]


def ingest_command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "fashiongraph.cli", "ingest",
            "--articles", _shown(data / "articles.parquet"),
            "--transactions", _shown(data / "transactions_train.parquet"),
            "--customers", _shown(data / "customers.parquet"), "--out", _shown(out)]


def pipeline_command(scale_dir: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.stages", "pipeline", _shown(scale_dir)]


def run_pipeline(scale_dir: Path) -> dict:
    """Every step after ingest, measured one by one in this process; returns the result."""
    import pandas as pd

    from fashiongraph.data.dataset import Dataset
    from fashiongraph.engines.base import FastRPParams, RandomWalkParams
    from fashiongraph.evaluation.evaluate import ground_truth, score
    from fashiongraph.graph.build import build_knowledge_graph
    from fashiongraph.recommenders.base import FitContext
    from fashiongraph.recommenders.fastrp_knn import FastRPKNNRecommender
    from fashiongraph.recommenders.popularity import PopularityRecommender
    from fashiongraph.recommenders.random_walk import RandomWalkRecommender
    from fashiongraph.recommenders.repurchase import RepurchaseRecommender

    steps, recs = [], {}

    # Compiling (or loading compiled) numba kernels is a fixed cost of any first call; pay it
    # here on a toy graph so that the steps below measure their work, not the compiler.
    with measured("kernel warm-up") as step:
        _warm_up_kernels()
        step.extra["counted"] = False
    steps.append(step)

    # Reading the dataset back is the price of running stages in separate processes; it is
    # reported but not counted in the end-to-end time.
    with measured("load dataset") as step:
        dataset = Dataset.load(scale_dir / "dataset")
        step.extra["counted"] = False
    steps.append(step)
    test_start = dataset.last_date.normalize() - pd.Timedelta(days=TEST_DAYS - 1)
    split_info = {"test_start": str(test_start.date()), "test_days": TEST_DAYS}

    with measured("context") as step:
        context = FitContext(dataset, test_start)
        test = dataset.between(test_start, test_start + pd.Timedelta(days=TEST_DAYS))
        customers, actual = ground_truth(test)
        has_history = np.diff(context.purchases.indptr)[customers] > 0
        step.extra |= {"train_transactions": len(context.train.transactions),
                       "test_customers": len(customers),
                       "with_history": int(has_history.sum())}
    steps.append(step)

    with measured("graph") as step:
        graph = build_knowledge_graph(context.train, test_start)
        step.extra |= {"nodes": graph.num_nodes, "edges": graph.num_edges}
    steps.append(step)
    context.graph = graph  # the cached property, filled: every recommender shares this graph

    fastrp_params, walk_params = FastRPParams(), RandomWalkParams()
    with measured("projection") as step:
        csr = context.graph_engine.projection(fastrp_params.edge_types, fastrp_params.weighted)
        step.extra["csr_entries"] = csr.num_entries
    steps.append(step)

    with measured("fastrp") as step:
        knn_rec = FastRPKNNRecommender(params=fastrp_params).fit(context)
        step.extra["dimension"] = fastrp_params.embedding_dimension
    steps.append(step)

    with measured("knn") as step:
        recs["fastrp_knn"] = knn_rec.recommend(customers, 12)
        step.extra |= {"queries": len(customers),
                       "candidate_articles": int(knn_rec.candidates_.sum())}
    steps.append(step)
    del knn_rec

    with measured("walk table") as step:
        table = context.graph_engine.walk_table(walk_params.edge_types, walk_params.weighted)
        step.extra["bytes"] = table.nbytes
    steps.append(step)

    with measured("random walk") as step:
        walk_rec = RandomWalkRecommender(params=walk_params).fit(context)
        recs["random_walk"] = walk_rec.recommend(customers, 12)
        walk_steps = len(customers) * walk_params.walks_per_node * walk_params.walk_length
        step.extra |= {"customers": len(customers), "walk_steps": walk_steps}
    step.extra["steps_per_s_with_ranking"] = walk_steps / step.wall_s
    steps.append(step)

    # One customer at a time, as the API asks: the latency a person waits for.
    with measured("random walk, one customer") as step:
        rng = np.random.default_rng(SEED)
        sample = rng.choice(customers, min(LATENCY_SAMPLES, len(customers)), replace=False)
        walk_rec.recommend(sample[:1], 12)
        latencies = []
        for c in sample:
            t0 = time.perf_counter()
            walk_rec.recommend(np.array([c]), 12)
            latencies.append(time.perf_counter() - t0)
        ms = np.array(latencies) * 1e3
        step.extra |= {"samples": len(ms), "p50_ms": float(np.percentile(ms, 50)),
                       "p90_ms": float(np.percentile(ms, 90)),
                       "p99_ms": float(np.percentile(ms, 99)), "counted": False}
    steps.append(step)
    del walk_rec

    with measured("baselines") as step:
        for rec in (PopularityRecommender(), RepurchaseRecommender()):
            recs[rec.name] = rec.fit(context).recommend(customers, 12)
    steps.append(step)

    with measured("evaluation") as step:
        metrics = {}
        for name, r in recs.items():
            m, _ = score(r, actual, has_history, dataset.num_articles, 12)
            metrics[name] = {"map": m["all"]["map"], "recall": m["all"]["recall"],
                             "from_model": float(r.num_from_model.sum() / r.article_idx.size)}
        step.extra["metrics"] = metrics
    steps.append(step)

    return {"split": split_info, "steps": [s.to_json() for s in steps], "machine": machine()}


def _warm_up_kernels() -> None:
    import scipy.sparse as sp

    from fashiongraph.engines.base import FastRPParams
    from fashiongraph.engines.embedded.fastrp import fastrp
    from fashiongraph.engines.embedded.knn import cosine_top_k
    from fashiongraph.engines.embedded.walk import walk_visits
    from fashiongraph.graph.csr import CSRGraph
    from fashiongraph.recommenders.sparse_rows import stored_in_rows, zero_where_stored

    csr = CSRGraph.from_edges([0, 0, 1, 1], [2, 3, 2, 3], [1.0, 2.0, 1.0, 3.0], num_nodes=4,
                              type_names=["customer", "article"], type_bounds=[0, 2, 4])
    kw = dict(article_range=(2, 4), walk_length=3, walks_per_node=2, restart_probability=0.2,
              random_seed=0)
    visits = walk_visits(csr, np.arange(2), **kw)
    walk_visits(csr, np.arange(2).repeat(64), **kw)  # the parallel kernel too
    vectors = fastrp(csr, FastRPParams(embedding_dimension=4))
    cosine_top_k(vectors[:2], vectors[2:], 1, exclude=sp.csr_matrix(np.eye(2)))
    zero_where_stored(visits, visits)
    stored_in_rows(np.zeros((2, 1), dtype=np.int64), visits)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "pipeline":
        print("usage: python -m benchmarks.stages pipeline SCALE_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    scale_dir = Path(argv[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        result = run_pipeline(scale_dir)
    out = scale_dir / "results" / "pipeline.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
