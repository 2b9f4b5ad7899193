"""``fashiongraph app``: the Streamlit app comparing the methods of a run (loopback by default)."""

from __future__ import annotations

HELP = "open the web app comparing a run's recommenders side by side (Streamlit)"


def configure(parser) -> None:
    from fashiongraph.commands.serve import add_server_options

    add_server_options(parser, port=8501)


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
        # No "magic": a bare string in the app module must not appear on the page.
        "--runner.magicEnabled", "false",
        "--", "--run", str(Path(args.run).resolve()),
    ]
    if args.images:
        command += ["--images", args.images]
    return command


def run(args) -> int:
    from fashiongraph.commands.serve import check_listen
    from fashiongraph.serving.appdb import ensure_app_database

    check_listen(args, "app")

    # Build the application database here, so that a bad run directory fails with a clear
    # message before Streamlit starts, and the first page view does not wait for it.
    ensure_app_database(args.run, rebuild=args.rebuild_db)
    print(f"fashiongraph app: run {args.run} on http://{args.host}:{args.port}", flush=True)
    return run_until_stopped(streamlit_command(args))


def run_until_stopped(command: list[str]) -> int:
    """Run the Streamlit server as a child and stop it with this process.

    SIGTERM (``kill``) is passed on to the child, so that stopping ``fashiongraph app`` never
    leaves a Streamlit server behind on its port; Ctrl-C reaches both through the terminal.
    """
    import signal
    import subprocess

    child = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        child.wait()
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
