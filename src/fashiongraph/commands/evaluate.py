"""``fashiongraph evaluate``: every method on a temporal split of your own H&M-format data."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "fit each recommender before --test-start, score it on the test window, write a report"


def day(text: str) -> str:
    """An argparse type: a calendar day ``YYYY-MM-DD``, checked when the options are read."""
    import pandas as pd

    try:
        pd.Timestamp(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day YYYY-MM-DD (got {text!r})") from None
    return text


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``evaluate`` and ``demo``."""
    parser.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                        help="popularity repurchase random_walk fastrp_knn graphsage blend "
                             "(default: every available one)")
    parser.add_argument("--engine", choices=("embedded", "neo4j"), default="embedded",
                        help="where graph algorithms run (default: embedded)")
    neo4j = parser.add_argument_group(
        "neo4j engine", "the server (user and password come from NEO4J_USER and NEO4J_PASSWORD; "
        "see docs/neo4j.md)")
    neo4j.add_argument("--neo4j-uri", default=None,
                       help="Bolt URI (default: FASHIONGRAPH_NEO4J_URI, else the bundled server "
                            "at bolt://127.0.0.1:7697)")
    neo4j.add_argument("--neo4j-database", default=None,
                       help="database (default: FASHIONGRAPH_NEO4J_DATABASE, else neo4j)")
    neo4j.add_argument("--neo4j-load", choices=("online", "bulk", "existing"), default="online",
                       help="how the graph gets into the database: online through the driver "
                            "(default; a no-op when it is there already), bulk with neo4j-admin "
                            "(bundled server only; restarts it), existing (must be there)")

    from fashiongraph.gnn.params import GraphSAGEParams

    gnn = parser.add_argument_group("graphsage training budget and device")
    gnn.add_argument("--max-minutes", type=float, default=None, metavar="M",
                     help="stop GraphSAGE training after M minutes "
                          f"(default {GraphSAGEParams.max_minutes:g})")
    gnn.add_argument("--max-steps", type=int, default=None, metavar="N",
                     help="stop GraphSAGE training after N optimiser steps (default: no bound)")
    gnn.add_argument("--device", default=None,
                     help="auto (CUDA when present, the default), cpu, cuda or cuda:N")


def method_params(args: argparse.Namespace) -> dict:
    """``{method: {param: value}}`` from the options; GraphSAGE's are checked here, before any
    data is read, so that a bad budget or device fails at once."""
    options = {"max_minutes": args.max_minutes, "max_steps": args.max_steps,
               "device": args.device}
    graphsage = {k: v for k, v in options.items() if v is not None}
    if not graphsage:
        return {}
    from fashiongraph.gnn.params import GraphSAGEParams

    GraphSAGEParams(**graphsage)
    return {"graphsage": graphsage}


def engine_options(args: argparse.Namespace) -> dict:
    """The engine's keyword arguments from the ``--neo4j-*`` options (none for embedded)."""
    if args.engine != "neo4j":
        return {}
    options = {"uri": args.neo4j_uri, "database": args.neo4j_database, "load": args.neo4j_load}
    return {key: value for key, value in options.items() if value is not None}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", required=True, type=Path)
    parser.add_argument("--transactions", required=True, type=Path)
    parser.add_argument("--customers", type=Path, default=None, help="optional")
    parser.add_argument("--test-start", required=True, type=day, help="first test day, e.g. 2020-09-16")
    parser.add_argument("--test-days", type=int, default=7, help="test window length (7)")
    parser.add_argument("--k", type=int, default=12, help="list length (12)")
    add_method_options(parser)
    parser.add_argument("--out", required=True, type=Path,
                        help="report JSON path; report.md and plots are written beside it")
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="also save a run directory (dataset, graph, recommendations for "
                             "every customer, models) that `fashiongraph serve`/`app` can read")
    parser.add_argument("--name", default=None, help="task name in the report (default: the --out file stem)")


def run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from fashiongraph.evaluation.report import console_table, write_report
    from fashiongraph.pipeline import Task, run_task

    name = args.name or Path(args.out).stem
    task = Task(name, args.articles, args.transactions, args.test_start, args.test_days,
                args.customers)
    params = method_params(args)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="fashiongraph-run-"))
    try:
        result = run_task(task, run_dir, methods=args.methods, k=args.k, engine=args.engine,
                          engine_options=engine_options(args),
                          recommend_all=args.run_dir is not None, progress=args.progress,
                          method_params=params)
        out = Path(args.out)
        report_dir = out.parent if out.suffix == ".json" else out
        md = write_report([result], report_dir, title=f"fashiongraph evaluation: {name}")
        if out.suffix == ".json" and out.name != "report.json":
            (report_dir / "report.json").replace(out)
        print(console_table(result))
        print(f"\nreport: {md} and {out if out.suffix == '.json' else report_dir / 'report.json'}")
        for c in result.comparisons:
            if c["method"].split("[")[0] not in ("popularity", "repurchase"):
                print(f"  {c['method']} vs {c['baseline']}: {c['verdict']}")
    finally:
        if args.run_dir is None:
            shutil.rmtree(run_dir, ignore_errors=True)
    return 0
