"""The embedded kernels against their simple references, in one run, with the ratios.

On the knowledge graph of one scale's synthetic data (built here; the scale's ``synth`` and
``ingest`` stages run first when missing), with the test customers of its last week; or, with
``--drawn-graph``, on a graph drawn directly at that scale (``kernel_graph.py``: a full-size
graph in seconds) with a random ``WEEK_SHARE`` of its customers as the week's customers:

- walk: ``walk_visits`` vs the plain numba loop (``baselines.plain_walk_visits``) vs the
  plain-Python reference (on a few customers), in steps per second;
- FastRP 128-d: the numba kernel vs scipy sparse products, and their largest difference;
- KNN top-12 with purchased articles excluded: ``cosine_top_k`` vs the brute numpy reference
  (on as many queries as its full similarity matrix allows), and their agreement.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.measure import cpu_seconds, load_average, machine

WALK_CUSTOMERS = 20_000
PYTHON_WALK_CUSTOMERS = 5
KNN_REFERENCE_BYTES = 1 * 2**30
WEEK_SHARE = 0.055
"""Share of customers who buy in a given week (7,537 of 137,198 in the 10% synth data)."""


def _timed(fn, *args, **kwargs) -> tuple[object, dict]:
    load_before = load_average()
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return out, {"wall_s": wall, "cpu_s": cpu, "load_before": load_before,
                 "load_after": load_average()}


def pipeline_inputs(scale_dir: Path) -> dict:
    """The graph before the last week of a scale's dataset, its test customers, their buys."""
    import pandas as pd

    from fashiongraph.data.dataset import Dataset
    from fashiongraph.evaluation.evaluate import ground_truth
    from fashiongraph.graph.build import build_knowledge_graph

    dataset = Dataset.load(scale_dir / "dataset")
    test_start = dataset.last_date.normalize() - pd.Timedelta(days=6)
    train = dataset.before(test_start)
    graph = build_knowledge_graph(train, test_start)
    customers, _ = ground_truth(dataset.between(test_start,
                                                dataset.last_date + pd.Timedelta(days=1)))
    return {"graph": graph, "customers": customers, "bought": train.purchase_matrix(),
            "source": f"`fashiongraph synth` data of {scale_dir.name}, last week held out"}


def drawn_inputs(scale: float) -> dict:
    """A drawn H&M-shaped graph and a random week's worth of its customers."""
    import scipy.sparse as sp

    from benchmarks.kernel_graph import synthetic_knowledge_graph
    from fashiongraph.graph.model import ARTICLE, CUSTOMER, PURCHASED

    graph = synthetic_knowledge_graph(scale)
    e = graph.edges[PURCHASED]
    shape = (graph.num_nodes_of(CUSTOMER), graph.num_nodes_of(ARTICLE))
    bought = sp.csr_matrix((np.ones(len(e), np.float32), (e.src, e.dst)), shape=shape)
    rng = np.random.default_rng(0)
    customers = np.sort(rng.choice(shape[0], int(WEEK_SHARE * shape[0]), replace=False))
    return {"graph": graph, "customers": customers, "bought": bought,
            "source": f"graph drawn at scale {scale:g} (`benchmarks/kernel_graph.py`), "
                      f"{WEEK_SHARE:.1%} of customers as the week's customers"}


def run_kernels(inputs: dict, scale: float) -> dict:
    """Measure every kernel pair on ``inputs`` (``pipeline_inputs`` or ``drawn_inputs``)."""
    from benchmarks.baselines import fastrp_scipy, plain_walk_visits
    from fashiongraph.engines.base import FastRPParams, RandomWalkParams
    from fashiongraph.engines.embedded.fastrp import fastrp
    from fashiongraph.engines.embedded.knn import cosine_top_k, cosine_top_k_reference
    from fashiongraph.engines.embedded.walk import (build_walk_table, row_cumulative_weights,
                                                    walk_visits, walk_visits_reference)
    from fashiongraph.graph.model import ARTICLE, CUSTOMER

    graph, customers = inputs["graph"], inputs["customers"]
    csr, csr_t = _timed(graph.to_csr)
    result = {"scale": scale, "source": inputs["source"],
              "graph": {"nodes": csr.num_nodes, "entries": csr.num_entries},
              "test_customers": len(customers), "projection": csr_t}

    # Walks: the default parameters of the random-walk recommender.
    p = RandomWalkParams()
    walkers = customers[:WALK_CUSTOMERS]
    starts = graph.global_ids(CUSTOMER, walkers)
    kw = dict(article_range=csr.type_range(ARTICLE), walk_length=p.walk_length,
              walks_per_node=p.walks_per_node, restart_probability=p.restart_probability,
              random_seed=p.random_seed)
    steps = len(starts) * p.walk_length * p.walks_per_node
    table, table_t = _timed(build_walk_table, csr)
    cumw, cumw_t = _timed(row_cumulative_weights, csr)
    walk_visits(csr, starts[:2], walk_table=table, **kw)  # compile or load the kernels first
    plain_walk_visits(csr, starts[:2], cumulative_weights=cumw, **kw)
    fast, fast_t = _timed(walk_visits, csr, starts, walk_table=table, **kw)
    plain, plain_t = _timed(plain_walk_visits, csr, starts, cumulative_weights=cumw, **kw)
    _, python_t = _timed(walk_visits_reference, csr, starts[:PYTHON_WALK_CUSTOMERS], **kw)
    python_steps = PYTHON_WALK_CUSTOMERS * p.walk_length * p.walks_per_node
    for t, n in ((fast_t, steps), (plain_t, steps), (python_t, python_steps)):
        t |= {"steps": n, "steps_per_s": n / t["wall_s"], "steps_per_cpu_s": n / t["cpu_s"]}
    result["walk"] = {
        "customers": len(starts), "params": p.__dict__,
        "fast": fast_t, "plain_numba": plain_t, "python_reference": python_t,
        "table": table_t | {"bytes": table.nbytes}, "cumulative_weights": cumw_t,
        "ratio_vs_plain_numba": plain_t["wall_s"] / fast_t["wall_s"],
        "ratio_vs_python": python_t["wall_s"] / python_steps / (fast_t["wall_s"] / steps),
        "visits_fast": int(fast.sum()), "visits_plain": int(plain[:, 0].sum()),
    }

    # FastRP: the recommender's default parameters (128-d, weighted, three propagations).
    fp = FastRPParams()
    fastrp(csr, FastRPParams(embedding_dimension=8))
    vectors, fast_t = _timed(fastrp, csr, fp)
    ref, ref_t = _timed(fastrp_scipy, csr, fp)
    result["fastrp"] = {"fast": fast_t, "scipy": ref_t, "ratio": ref_t["wall_s"] / fast_t["wall_s"],
                        "max_abs_difference": float(np.abs(vectors - ref).max())}
    del ref

    # KNN: every test customer against every article, purchased articles excluded.
    c_lo, c_hi = csr.type_range(CUSTOMER)
    a_lo, a_hi = csr.type_range(ARTICLE)
    queries = vectors[c_lo:c_hi][customers]
    targets = vectors[a_lo:a_hi]
    exclude = inputs["bought"][customers]
    cosine_top_k(queries[:2], targets, 12, exclude=exclude[:2])
    (idx, _), fast_t = _timed(cosine_top_k, queries, targets, 12, exclude=exclude)
    n_ref = int(max(1, min(len(queries), KNN_REFERENCE_BYTES // (12 * len(targets)))))
    (ref_idx, _), ref_t = _timed(cosine_top_k_reference, queries[:n_ref], targets, 12,
                                 exclude=exclude[:n_ref])
    per_query_fast = fast_t["wall_s"] / len(queries)
    result["knn"] = {"queries": len(queries), "targets": len(targets), "fast": fast_t,
                     "reference": ref_t | {"queries": n_ref},
                     "ratio_per_query": ref_t["wall_s"] / n_ref / per_query_fast,
                     "identical_rows": float((idx[:n_ref] == ref_idx).all(axis=1).mean())}
    result["machine"] = machine()
    return result


def write_kernels_report(result: dict, results_dir: Path, command: str, *,
                         name: str = "kernels") -> Path:
    """Write ``<name>.json`` and ``<name>.md``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(result, indent=2))
    m, w, f, k = result["machine"], result["walk"], result["fastrp"], result["knn"]

    def row(name, t, amount):
        return (f"| {name} | {t['wall_s']:.3f} | {t['cpu_s']:.3f} | {amount} | "
                f"{t['load_before']} | {t['load_after']} |")

    lines = [
        "# Embedded kernels against their simple references", "",
        f"`{command}` on {m['date_utc']}: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"numba {m['numba']} ({m['numba_threads']} threads), commit {m['commit']}.", "",
        f"Graph: {result['source']}; {result['graph']['nodes']:,} nodes, "
        f"{result['graph']['entries']:,} CSR entries (projection "
        f"{result['projection']['wall_s']:.1f} s); {result['test_customers']:,} test customers.",
        "",
        "`cpu s` counts both threads; wall time under a load average above 2 means the cores "
        "were shared with other work, and `steps per CPU-second` is then the steadier figure.",
        "",
        "| kernel | wall s | cpu s | work | load before | load after |",
        "|---|---:|---:|---|---|---|",
        row("walk, fast (alias tables, walks in flight)", w["fast"],
            f"{w['fast']['steps']:,} steps: {w['fast']['steps_per_s'] / 1e6:.1f}M/s wall, "
            f"{w['fast']['steps_per_cpu_s'] / 1e6:.1f}M per CPU-s"),
        row("walk, plain numba loop (binary search)", w["plain_numba"],
            f"{w['plain_numba']['steps']:,} steps: {w['plain_numba']['steps_per_s'] / 1e6:.1f}M/s "
            f"wall, {w['plain_numba']['steps_per_cpu_s'] / 1e6:.1f}M per CPU-s"),
        row("walk, plain Python reference", w["python_reference"],
            f"{w['python_reference']['steps']:,} steps: "
            f"{w['python_reference']['steps_per_s'] / 1e3:.0f}K/s"),
        row("walk table (alias, once per graph)", w["table"],
            f"{w['table']['bytes'] / 2**20:.0f} MiB"),
        row("cumulative weights (plain loop's table)", w["cumulative_weights"], ""),
        row("FastRP 128-d, numba kernel", f["fast"], f"{result['graph']['nodes']:,} nodes"),
        row("FastRP 128-d, scipy reference", f["scipy"], ""),
        row("KNN top-12, blocked BLAS + numba select", k["fast"],
            f"{k['queries']:,} queries x {k['targets']:,} articles"),
        row("KNN top-12, brute numpy (full sort)", k["reference"],
            f"{k['reference']['queries']:,} queries"),
        "",
        "| comparison | ratio | agreement |", "|---|---:|---|",
        f"| walk: fast vs plain numba loop | {w['ratio_vs_plain_numba']:.1f}x | article visits "
        f"{w['visits_fast']:,} vs {w['visits_plain']:,} (same distribution, different sampler) |",
        f"| walk: fast vs plain Python, per step | {w['ratio_vs_python']:.0f}x | exact on "
        "unweighted and forced walks, in distribution otherwise (tests) |",
        f"| FastRP: numba vs scipy | {f['ratio']:.1f}x | max abs difference "
        f"{f['max_abs_difference']:.1e} |",
        f"| KNN: fast vs brute numpy, per query | {k['ratio_per_query']:.1f}x | "
        f"{k['identical_rows']:.1%} of rows identical |",
        "",
    ]
    path = results_dir / f"{name}.md"
    path.write_text("\n".join(lines))
    return path


def main_kernels(scale: float, *, scale_dir: Path | None = None) -> dict:
    """Kernels on ``scale_dir``'s pipeline data, or on a drawn graph when it is ``None``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        inputs = drawn_inputs(scale) if scale_dir is None else pipeline_inputs(scale_dir)
        return run_kernels(inputs, scale)
