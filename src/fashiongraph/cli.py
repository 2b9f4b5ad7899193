"""The ``fashiongraph`` command line: one subcommand per step, and one for the whole pipeline.

Each subcommand lives in its own module of ``fashiongraph.commands`` and exposes
``HELP`` (one line), ``configure(parser)`` and ``run(args) -> int``. Modules are imported only
when their command runs, so ``fashiongraph --help`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from fashiongraph.errors import FashionGraphError

log = logging.getLogger("fashiongraph")


def _command_modules() -> list[str]:
    import fashiongraph.commands as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fashiongraph",
        description="Graph-learning recommendations for fashion retail (H&M format).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output: each step logs what it did by default, -v adds "
                             "debug detail (timings)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars (they are off anyway when not on a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _command_modules():
        module = importlib.import_module(f"fashiongraph.commands.{name}")
        p = sub.add_parser(name.replace("_", "-"), help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    args.progress = (not args.no_progress) and sys.stderr.isatty()
    try:
        return int(args._module.run(args) or 0)
    except FashionGraphError as exc:
        print(f"fashiongraph {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
