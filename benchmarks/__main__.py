"""``python -m benchmarks``: the kernel benchmark, the scale benchmark, and their reports.

    python -m benchmarks kernels --scale 0.1
    python -m benchmarks kernels --scale 1 --drawn-graph   # full-size graph, no synth data
    python -m benchmarks scale --scales 0.01,0.1      # resumes: measured stages are kept
    python -m benchmarks scale --scales 1             # full H&M scale: a quiet machine, ~24 GB
    python -m benchmarks report                       # rewrite the reports from saved results
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys

from benchmarks.measure import REPO


def _scales(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scales takes numbers like 0.01,0.1,1 (got {text!r})")
    if not values or any(not 0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"each scale must be in (0, 1] (got {text!r})")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kernels", help="walk, FastRP and KNN kernels vs simple references")
    k.add_argument("--scale", type=float, default=0.1, help="data scale of the graph (0.1)")
    k.add_argument("--drawn-graph", action="store_true",
                   help="draw an H&M-shaped graph at --scale directly (seconds, even at 1) "
                        "instead of generating and ingesting synth data")
    s = sub.add_parser("scale", help="the pipeline at fractions of H&M scale (resumable)")
    s.add_argument("--scales", type=_scales, default=[0.01, 0.1, 1.0],
                   help="comma-separated fractions of H&M scale (default 0.01,0.1,1)")
    s.add_argument("--force", action="store_true", help="measure again what was measured")
    s.add_argument("--drop-data", action="store_true",
                   help="delete the generated tables after ingest succeeded (saves disk)")
    sub.add_parser("report", help="rewrite benchmarks/results/*.md from the saved results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    from benchmarks import scale as S
    from benchmarks.report import write_scale_report

    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)

    def saved_kernels() -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(S.RESULTS.glob("kernels*.json"))]

    if args.command == "kernels":
        from benchmarks.kernels import main_kernels, write_kernels_report

        if args.drawn_graph:
            result = main_kernels(args.scale)
        else:
            S.run_scale(args.scale, stages_to_run=("synth", "ingest"))
            result = main_kernels(args.scale, scale_dir=S.scale_dir(args.scale))
        name = f"kernels-drawn-{args.scale:g}" if args.drawn_graph else "kernels"
        print(f"wrote {write_kernels_report(result, S.RESULTS, command, name=name)}")
    elif args.command == "scale":
        measured = [S.run_scale(x, force=args.force, keep_data=not args.drop_data)
                    for x in args.scales]
        for r in measured:
            r["run_command"] = command
        scales = S.merge_results(measured)
        print(f"wrote {write_scale_report(scales, S.RESULTS, kernels=saved_kernels())}")
    saved = S.RESULTS / "scale.json"
    if args.command in ("kernels", "report") and saved.exists():
        scales = json.loads(saved.read_text())["scales"]
        print(f"wrote {write_scale_report(scales, S.RESULTS, kernels=saved_kernels())}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
