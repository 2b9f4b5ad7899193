"""``fashiongraph synth``: write realistic synthetic H&M tables (and their ground truth)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

HELP = "generate synthetic articles, customers and transactions_train in the exact H&M format"

FULL_SCALE = {"customers": 1_371_980, "articles": 105_542, "transactions": 31_788_324}
"""The size of the real H&M data."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=FULL_SCALE["customers"],
                        help="number of customers (default: H&M's 1,371,980)")
    parser.add_argument("--articles", type=int, default=FULL_SCALE["articles"],
                        help="number of articles (default: H&M's 105,542)")
    parser.add_argument("--transactions", type=int, default=FULL_SCALE["transactions"],
                        help="number of transaction rows, exact (default: H&M's 31,788,324)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--start", default="2018-09-20", help="first day (default 2018-09-20)")
    parser.add_argument("--end", default="2020-09-22", help="last day (default 2020-09-22)")
    parser.add_argument("--archetypes", type=int, default=32,
                        help="latent taste archetypes (default 32)")
    parser.add_argument("--format", choices=("parquet", "csv", "both"), default="parquet",
                        help="table format (default parquet; CSV is slower)")
    parser.add_argument("--out", type=Path, help="directory to write")
    parser.add_argument("--derive-statistics", type=Path, metavar="REAL_DIR", default=None,
                        help="instead of generating: re-derive the shipped statistics from a "
                             "folder with articles.parquet, transactions_train_sample.csv and "
                             "customers_sample.csv (e.g. data/hm_sample)")


def run(args: argparse.Namespace) -> int:
    from fashiongraph.errors import ConfigError

    if args.derive_statistics is not None:
        from fashiongraph.data.synth_stats import derive_statistics, write_statistics

        real = args.derive_statistics
        stats = derive_statistics(real / "articles.parquet",
                                  real / "transactions_train_sample.csv",
                                  real / "customers_sample.csv")
        print(f"wrote {write_statistics(stats)}")
        return 0
    if args.out is None:
        raise ConfigError("synth: --out is required to generate (got none)")

    from fashiongraph.data.synth import SynthParams, generate

    params = SynthParams(customers=args.customers, articles=args.articles,
                         transactions=args.transactions, seed=args.seed, start=args.start,
                         end=args.end, archetypes=args.archetypes)
    summary = generate(params, args.out, formats=args.format, progress=args.progress)
    print(f"wrote {summary.out}")
    print(f"  articles:     {summary.num_articles:,}")
    print(f"  customers:    {summary.num_customers:,}")
    print(f"  transactions: {summary.num_transactions:,} ({params.start} .. {params.end})")
    print(f"  files: {', '.join(summary.files)}")
    print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in summary.seconds.items()))
    return 0
