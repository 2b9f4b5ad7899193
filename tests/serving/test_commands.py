"""``fashiongraph serve`` and ``fashiongraph app`` as commands: start, answer, refuse bad input."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from servers import fashiongraph_process, free_port

from fashiongraph.cli import main


@pytest.mark.slow
def test_serve_answers_on_loopback(run_dir, tmp_path, customer_with_history):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with fashiongraph_process(["serve", "--run", str(run_dir), "--port", str(port)],
                              f"{base}/health", tmp_path / "serve.log"):
        health = httpx.get(f"{base}/health").json()
        body = httpx.get(f"{base}/customers/{customer_with_history}/recommendations",
                         params={"k": 3}).json()
    assert body["method"] == health["default_method"]
    assert len(body["items"]) == 3
    assert "on http://127.0.0.1:" in (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize("command", ["serve", "app"])
def test_commands_refuse_a_directory_that_is_not_a_run(tmp_path, capsys, command):
    assert main([command, "--run", str(tmp_path / "missing")]) == 2
    assert "no manifest.json; is this a fashiongraph run directory?" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "app"])
def test_commands_refuse_a_bad_port(run_dir, capsys, command):
    assert main([command, "--run", str(run_dir), "--port", "70000"]) == 2
    assert "--port must be in 1..65535 (got 70000)" in capsys.readouterr().err


def test_help_lists_both_commands():
    out = subprocess.run([sys.executable, "-m", "fashiongraph.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "serve" in out and "app" in out


def test_stopping_the_app_stops_its_streamlit_server(run_dir, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/_stcore/health"
    with fashiongraph_process(["app", "--run", str(run_dir), "--port", str(port)], url,
                              tmp_path / "app.log") as process:
        # SIGTERM to the command alone, as `kill PID` does: not to its process group.
        process.terminate()
        process.wait(timeout=20)
        deadline = time.monotonic() + 20
        while _port_open(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _port_open(port), "the Streamlit child outlived `fashiongraph app`"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
