"""The whole job in one call: ingest, split, fit every method, evaluate, save a run directory."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.artifacts import RunDirectory
from fashiongraph.errors import DataFixWarning
from fashiongraph.evaluation.evaluate import EvaluationResult, Split, evaluate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """An evaluation task: input files and a test window.

    Attributes:
        name: short name used in reports (``hm_sample``).
        articles, transactions, customers: input tables (CSV or parquet; customers optional).
        test_start: first day of the test window; the graph is built from days before it.
        test_days: length of the test window in days.
        images: folder of article images in the H&M layout (optional, for the app).
    """

    name: str
    articles: Path
    transactions: Path
    test_start: str
    test_days: int = 7
    customers: Path | None = None
    images: Path | None = None


def bundled_tasks() -> list[Task]:
    """The two real tasks that ship with the project (see ``data/*/PROVENANCE.md``)."""
    from fashiongraph.data import sample

    s = sample.sample_paths()
    w = sample.lastweek_paths()
    return [
        Task("hm_sample", s.articles, s.transactions, sample.SAMPLE_TEST_START, 7,
             s.customers, s.images),
        Task("hm_lastweek", w.articles, w.transactions, sample.LASTWEEK_TEST_START, 1),
    ]


def load_task_dataset(task: Task):
    """Ingest a task's files; fixes are collected in ``Dataset.notes`` and logged."""
    from fashiongraph.data.ingest import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFixWarning)  # each fix is a note and a log line
        return load_dataset(task.articles, task.transactions, task.customers)


def run_task(task: Task, run_dir: str | Path, *, methods=None, k: int = 12,
             engine: str = "embedded", engine_options: dict | None = None,
             recommend_all: bool = True, progress: bool = False,
             method_params: dict | None = None) -> EvaluationResult:
    """Evaluate every method on ``task`` and save the run directory the app and API read.

    Args:
        recommend_all: also save recommendations for every customer (not only the test
            customers), so that the app can show anyone.
    """
    run = RunDirectory(run_dir)
    t0 = time.perf_counter()
    dataset = load_task_dataset(task)
    dataset.save(run.dataset_dir)
    split = Split(test_start=task.test_start, test_days=task.test_days)
    serve = np.arange(dataset.num_customers) if recommend_all else None
    result = evaluate(dataset, split, methods=methods, k=k, engine=engine,
                      engine_options=engine_options, task=task.name, workdir=run.root,
                      progress=progress, serve_customers=serve, method_params=method_params)
    for r in result.methods:
        run.save_recommendations(r.served if r.served is not None else r.recommendations)
    run.save_popular(result.popular_articles)
    if result.graph is not None:
        result.graph.save(run.graph_dir)
    run.write_manifest({
        "task": task.name,
        "inputs": {"articles": str(task.articles), "transactions": str(task.transactions),
                   "customers": None if task.customers is None else str(task.customers)},
        "images": None if task.images is None else str(Path(task.images).resolve()),
        "cutoff": str(split.test_start.date()),
        "test_days": split.test_days,
        "k": k,
        "engine": engine,
        "methods": [{"label": r.label, "method": r.method, "params": r.params,
                     "map": r.metrics["all"]["map"]} for r in result.methods],
        "dataset_notes": dataset.notes,
        "graph": None if result.graph is None else result.graph.summary(),
        "seconds": round(time.perf_counter() - t0, 1),
    })
    return result


def run_demo(out: str | Path, *, methods=None, engine: str = "embedded",
             engine_options: dict | None = None, progress: bool = False,
             method_params: dict | None = None
             ) -> list[EvaluationResult]:
    """Both bundled tasks: ``out`` holds the sample's run, ``out/../<out>-lastweek`` the other.

    The combined report (both tasks) is written to ``<out>/report``. ``method_params`` as in
    ``run_task``.
    """
    from fashiongraph.evaluation.report import write_report

    out = Path(out)
    results = []
    for task in bundled_tasks():
        run_dir = out if task.name == "hm_sample" else out.parent / f"{out.name}-lastweek"
        results.append(run_task(task, run_dir, methods=methods, engine=engine,
                                engine_options=engine_options, progress=progress,
                                method_params=method_params))
    write_report(results, RunDirectory(out).report_dir,
                 title="fashiongraph on the bundled real H&M samples")
    return results


def today() -> str:
    return str(pd.Timestamp.now().date())
