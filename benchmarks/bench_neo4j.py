"""Wall time of the embedded and the Neo4j engine on the same graph and machine.

For each engine, the phases the recommenders need for the test customers of one task:

- load: create the engine (Neo4j: put the graph into the database and check the counts; the
  embedded engine has nothing to load);
- project: the graph the algorithms run on (Neo4j: the GDS projection; embedded: the CSR);
- random_walk: fit and recommend with the random-walk recommender (walks + ranking);
- fastrp_knn: fit and recommend with FastRP + filtered KNN.

Reading the data and building the knowledge graph are shared and not timed. The machine's load
average is recorded beside every number (the machine may be shared).

Usage (the bundled Neo4j must run: ``make neo4j-start``)::

    python benchmarks/bench_neo4j.py --task sample --out benchmarks/out/sample.json
    fashiongraph synth --customers 50000 --transactions 1160000 --out /tmp/synth50k
    python benchmarks/bench_neo4j.py --synth /tmp/synth50k --test-start 2020-09-16 \\
        --load bulk --out benchmarks/out/synth50k.json

Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("bench_neo4j")

PHASES = ("load", "project", "random_walk", "fastrp_knn")


def load_average() -> float:
    """One-minute load average of the machine."""
    return round(os.getloadavg()[0], 2)


def task_dataset(args):
    """(name, dataset, test start) of the chosen task."""
    from fashiongraph.data.ingest import load_dataset
    from fashiongraph.pipeline import bundled_tasks, load_task_dataset

    if args.synth is None:
        task = bundled_tasks()[0]
        return task.name, load_task_dataset(task), task.test_start
    folder = Path(args.synth)
    dataset = load_dataset(folder / "articles.parquet", folder / "transactions_train.parquet",
                           folder / "customers.parquet")
    return folder.name, dataset, args.test_start


def run_engine(engine_name: str, context, customers, actual, has_history, options: dict) -> dict:
    """Time every phase for one engine; return seconds, load averages and MAP@12."""
    from fashiongraph.engines.base import make_engine
    from fashiongraph.evaluation.evaluate import score
    from fashiongraph.recommenders.base import make_recommender

    out = {"engine": engine_name, "seconds": {}, "load_average": {}, "map": {}}

    def timed(phase, work):
        t0 = time.perf_counter()
        result = work()
        out["seconds"][phase] = round(time.perf_counter() - t0, 2)
        out["load_average"][phase] = load_average()
        log.info("%s %s: %.1fs (load average %.2f)", engine_name, phase,
                 out["seconds"][phase], out["load_average"][phase])
        return result

    engine = timed("load", lambda: make_engine(engine_name, context.graph, **options))
    context.__dict__["graph_engine"] = engine  # the recommenders use this engine
    try:
        timed("project", lambda: engine.projection(None) if engine_name == "neo4j"
              else engine.projection(None, True))
        for method in ("random_walk", "fastrp_knn"):
            recs = timed(method, lambda m=method: make_recommender(m).fit(context)
                         .recommend(customers, 12))
            metrics, _ = score(recs, actual, has_history, context.dataset.num_articles, 12)
            out["map"][method] = round(metrics["all"]["map"], 5)
        if engine_name == "neo4j":
            out["neo4j_timings"] = {k: round(v, 2) for k, v in engine.timings_.items()}
            out["load_report"] = engine.load_report_.summary()
    finally:
        engine.close()
        del context.__dict__["graph_engine"]
    out["seconds"]["total"] = round(sum(out["seconds"][p] for p in PHASES), 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("sample",), default="sample",
                        help="the bundled real sample (default)")
    parser.add_argument("--synth", type=Path, default=None,
                        help="a folder written by `fashiongraph synth` instead of the sample")
    parser.add_argument("--test-start", default="2020-09-16",
                        help="first test day of a --synth task (default 2020-09-16)")
    parser.add_argument("--engines", nargs="+", default=["embedded", "neo4j"])
    parser.add_argument("--load", choices=("online", "bulk"), default="bulk",
                        help="how the Neo4j engine loads the graph (default bulk)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("neo4j", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from fashiongraph.evaluation.evaluate import Split, ground_truth
    from fashiongraph.recommenders.base import FitContext

    name, dataset, test_start = task_dataset(args)
    context = FitContext(dataset, test_start)
    split = Split(test_start=test_start, test_days=7)
    test = dataset.between(split.test_start, split.test_end)
    customers, actual = ground_truth(test)
    has_history = np.diff(context.purchases.indptr)[customers] > 0
    graph = context.graph
    log.info("%s: %s", name, graph.summary())

    results = []
    for engine_name in args.engines:
        options = {"load": args.load} if engine_name == "neo4j" else {}
        results.append(run_engine(engine_name, context, customers, actual, has_history,
                                  options))
    by_engine = {r["engine"]: r for r in results}
    ratio = None
    if {"embedded", "neo4j"} <= set(by_engine):
        # No ratio where the embedded engine has (almost) nothing to do, e.g. loading.
        ratio = {p: (round(by_engine["neo4j"]["seconds"][p] / by_engine["embedded"]["seconds"][p],
                           1) if by_engine["embedded"]["seconds"][p] >= 0.05 else None)
                 for p in (*PHASES, "total")}
    report = {
        "task": name, "test_start": str(context.cutoff.date()),
        "graph": {"nodes": graph.num_nodes, "edges": graph.num_edges},
        "test_customers": int(len(customers)), "neo4j_load": args.load,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d %H:%M"), "results": results,
        "ratio_neo4j_to_embedded": ratio,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
