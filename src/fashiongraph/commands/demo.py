"""``fashiongraph demo``: the whole pipeline on the real samples that ship with the project."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashiongraph.commands.evaluate import add_method_options, engine_options, method_params

HELP = "run every recommender on the bundled real H&M samples and write the comparison report"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("runs/demo"),
                        help="run directory (default runs/demo; the one-week task goes to "
                             "<out>-lastweek)")
    add_method_options(parser)


def run(args: argparse.Namespace) -> int:
    from fashiongraph.artifacts import RunDirectory
    from fashiongraph.evaluation.report import console_table, verdicts
    from fashiongraph.pipeline import run_demo

    results = run_demo(args.out, methods=args.methods, engine=args.engine,
                       engine_options=engine_options(args), progress=args.progress,
                       method_params=method_params(args))
    for res in results:
        print(console_table(res))
        for line in verdicts(res):
            print(line.replace("**", ""))
        print()
    report = RunDirectory(args.out).report_dir
    print(f"report: {report / 'report.md'} (plots and report.json beside it)")
    print(f"serve it: fashiongraph serve --run {args.out}   |   fashiongraph app --run {args.out}")
    return 0
