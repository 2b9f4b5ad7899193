"""``fashiongraph app``: the Streamlit app comparing the methods of a run (loopback by default)."""

from __future__ import annotations

import logging

HELP = "open the web app comparing a run's recommenders side by side (Streamlit)"

log = logging.getLogger(__name__)


def configure(parser) -> None:
    parser.add_argument("--run", default="runs/demo",
                        help="run directory written by `fashiongraph demo` (default: runs/demo)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    parser.add_argument("--images", default=None,
                        help="image folder in the H&M layout or a URL template with "
                             "{article_id} and {prefix} (default: from the run, else "
                             "data/hm_sample/images)")
    parser.add_argument("--rebuild-db", action="store_true",
                        help="rebuild the run's application database even if up to date")


def streamlit_command(args) -> list[str]:
    """The ``python -m streamlit run ...`` command line for ``args``."""
    import sys
    from pathlib import Path

    import fashiongraph.serving

    command = [
        sys.executable, "-m", "streamlit", "run",
        str(Path(fashiongraph.serving.__file__).with_name("streamlit_app.py")),
        "--server.address", args.host, "--server.port", str(args.port),
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal", "--theme.base", "light",
        "--", "--run", str(Path(args.run).resolve()),
    ]
    if args.images:
        command += ["--images", args.images]
    return command


def run(args) -> int:
    import subprocess

    from fashiongraph.errors import ConfigError
    from fashiongraph.serving.appdb import ensure_app_database

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be in 1..65535 (got {args.port})")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: the app has no authentication", args.host)

    # Build the application database here, so that a bad run directory fails with a clear
    # message before Streamlit starts, and the first page view does not wait for it.
    ensure_app_database(args.run, rebuild=args.rebuild_db)
    print(f"fashiongraph app: run {args.run} on http://{args.host}:{args.port}", flush=True)
    try:
        return subprocess.call(streamlit_command(args))
    except KeyboardInterrupt:
        return 130
