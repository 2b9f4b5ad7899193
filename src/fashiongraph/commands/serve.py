"""``fashiongraph serve``: the REST API over a run directory (loopback by default)."""

from __future__ import annotations

import logging

HELP = "serve a run's recommendations over HTTP (FastAPI; docs at /docs)"

log = logging.getLogger(__name__)


def configure(parser) -> None:
    add_server_options(parser, port=8000)


def add_server_options(parser, *, port: int) -> None:
    """Options shared by ``serve`` and ``app``: the run, where to listen, the images."""
    parser.add_argument("--run", default="runs/demo",
                        help="run directory written by `fashiongraph demo` (default: runs/demo)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=port, help=f"port (default: {port})")
    parser.add_argument("--images", default=None,
                        help="image folder in the H&M layout or a URL template with "
                             "{article_id} and {prefix} (default: from the run, else "
                             "data/hm_sample/images)")
    parser.add_argument("--rebuild-db", action="store_true",
                        help="rebuild the run's application database even if up to date")


def check_listen(args, what: str) -> None:
    """Refuse a port outside 1..65535; warn when listening beyond loopback."""
    from fashiongraph.errors import ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be in 1..65535 (got {args.port})")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: the %s has no authentication", args.host, what)


def run(args) -> int:
    # Imported here so that `fashiongraph --help` stays fast.
    import uvicorn

    from fashiongraph.serving.api import create_app_from_run

    check_listen(args, "API")
    app = create_app_from_run(args.run, images=args.images, rebuild_db=args.rebuild_db)
    print(f"fashiongraph serve: run {args.run} on http://{args.host}:{args.port} "
          f"(docs: http://{args.host}:{args.port}/docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
