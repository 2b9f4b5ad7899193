"""Start ``fashiongraph serve`` / ``fashiongraph app`` as real processes on loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fashiongraph_process(args: list[str], ready_url: str, log_path: Path, *,
                         timeout: float = 90.0):
    """Run ``python -m fashiongraph.cli ARGS`` until ``ready_url`` answers 200; stop it after.

    The process gets its own process group, so that Streamlit's children stop with it.
    """
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "fashiongraph.cli", *args],
                                   stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {process.returncode}:\n"
                                   f"{log_path.read_text()}")
            try:
                if httpx.get(ready_url, timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} not ready after {timeout}s:\n"
                                   f"{log_path.read_text()}")
            time.sleep(0.3)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
