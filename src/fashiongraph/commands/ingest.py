"""``fashiongraph ingest``: validate H&M tables and write the canonical dataset directory."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

HELP = "validate H&M tables (CSV or parquet) and write them as a canonical dataset directory"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", required=True, type=Path, help="articles table")
    parser.add_argument("--transactions", required=True, type=Path,
                        help="transactions table (transactions_train)")
    parser.add_argument("--customers", type=Path, default=None,
                        help="customers table (optional: customers then have no attributes)")
    parser.add_argument("--on-unknown-article", choices=("exclude", "error"), default="exclude",
                        help="what to do with transactions of articles not in the articles "
                             "table (default: exclude them, counted)")
    parser.add_argument("--out", required=True, type=Path, help="dataset directory to write")


def run(args: argparse.Namespace) -> int:
    import warnings

    from fashiongraph.data.ingest import load_dataset
    from fashiongraph.errors import DataFixWarning

    # Every fix is printed below as a note; the warnings would only repeat them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFixWarning)
        dataset = load_dataset(args.articles, args.transactions, args.customers,
                               on_unknown_article=args.on_unknown_article)
    out = dataset.save(args.out)
    tx = dataset.transactions
    print(f"wrote {out}")
    print(f"  articles:     {dataset.num_articles:,}")
    print(f"  customers:    {dataset.num_customers:,}")
    print(f"  transactions: {len(tx):,} ({int(tx['quantity'].sum()):,} units), "
          f"{dataset.first_date.date()} .. {dataset.last_date.date()}")
    print(f"  notes ({len(dataset.notes)}):")
    for note in dataset.notes:
        print(f"  - {note}")
    if not dataset.notes:
        print("  - none: the input needed no fix")
    return 0
