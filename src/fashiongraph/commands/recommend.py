"""``fashiongraph recommend``: one customer's list, from a saved run or fitted on the spot."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashiongraph.commands.evaluate import day

HELP = "recommend articles for one customer (from a run directory, or fitted on raw tables)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", required=True, help="customer_id")
    parser.add_argument("--method", default="random_walk", help="method name (random_walk)")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--run", type=Path, default=None,
                        help="a run directory written by `demo` or `evaluate --run-dir`")
    parser.add_argument("--articles", type=Path)
    parser.add_argument("--transactions", type=Path)
    parser.add_argument("--customers", type=Path)
    parser.add_argument("--cutoff", default=None, type=day,
                        help="learn from transactions before this day (default: all)")
    parser.add_argument("--engine", choices=("embedded", "neo4j"), default="embedded")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from fashiongraph.artifacts import RunDirectory
    from fashiongraph.data.dataset import Dataset
    from fashiongraph.errors import ConfigError, DataError

    if args.run is None and (args.articles is None or args.transactions is None):
        raise ConfigError("give --run DIR, or --articles and --transactions to fit on the spot")

    if args.run is not None:
        run_dir = RunDirectory(args.run)
        manifest = run_dir.read_manifest()
        dataset = Dataset.load(run_dir.dataset_dir)
        idx = int(dataset.customer_index([args.customer])[0])
        if idx < 0:
            raise DataError(f"customer {args.customer!r} is not in {run_dir.dataset_dir}")
        labels = run_dir.recommendation_labels()
        if args.method not in labels:
            raise ConfigError(f"method {args.method!r} has no saved recommendations in "
                              f"{args.run} (have {labels})")
        recs = run_dir.load_recommendations(args.method)
        rows = recs[recs["customer_idx"] == idx].sort_values("rank").head(args.k)
        articles, scores = rows["article_idx"].to_numpy(), rows["score"].to_numpy()
        from_model = rows["from_model"].to_numpy()
        source = f"run {args.run} (cutoff {manifest['cutoff']})"
    else:
        from fashiongraph.pipeline import Task, load_task_dataset
        from fashiongraph.recommenders.base import FitContext, make_recommender

        dataset = load_task_dataset(Task("input", args.articles, args.transactions, "",
                                         customers=args.customers))
        cutoff = pd.Timestamp(args.cutoff) if args.cutoff else \
            dataset.last_date + pd.Timedelta(days=1)
        idx = int(dataset.customer_index([args.customer])[0])
        if idx < 0:
            raise DataError(f"customer {args.customer!r} is in neither the customers nor the "
                            f"transactions table")
        context = FitContext(dataset, cutoff, engine=args.engine)
        recs = make_recommender(args.method).fit(context).recommend(np.array([idx]), args.k)
        articles, scores = recs.article_idx[0], recs.scores[0]
        articles, scores = articles[articles >= 0], scores[articles >= 0]
        from_model = np.arange(len(articles)) < recs.num_from_model[0]
        source = f"fitted on transactions before {cutoff.date()}"

    arts = dataset.articles
    print(f"{args.method} for customer {args.customer} ({source}):")
    for rank, (a, s, m) in enumerate(zip(articles, scores, from_model), start=1):
        row = arts.iloc[int(a)]
        name = row.get("prod_name", "")
        kind = row.get("product_type_name", "")
        tag = "" if m else "  (popularity fallback)"
        score = "" if np.isnan(s) else f"{s:9.4f}"
        print(f"{rank:3d}. {row['article_id']}  {score:>9s}  {name} | {kind}{tag}")
    return 0
