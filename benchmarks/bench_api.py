"""Load benchmark of ``fashiongraph serve`` from loopback: requests/s and p50/p99 latency.

Starts the API as its own process (uvicorn, one worker) on a free 127.0.0.1 port, then for each
endpoint under test:

1. warm-up: ``--warmup`` requests (connections open, caches fill);
2. fixed rate, open loop: request ``i`` is due at ``start + i / rate`` and its latency counts
   from that due time, so a server that falls behind cannot hide its queueing delay (no
   coordinated omission). Recommendation endpoints (precomputed lists in memory) run at
   ``--rate``; the profile and article endpoints, which query DuckDB, at ``--page-rate``;
3. saturation, closed loop: ``--concurrency`` requests in flight, each sent when the last one
   returned; its requests/s is the most this server and this client reach together.

Each phase is bounded in time (``--duration``, ``--saturation``) and in count
(``--max-requests``). Customers and articles are drawn uniformly with ``--seed`` from the run.

Run on the demo run (``make demo`` writes ``runs/demo``), from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_api.py --run runs/demo

It prints a markdown table and writes the raw rows to ``benchmarks/out/bench_api.json``
(git-ignored); ``benchmarks/results/api.md`` records a run. A benchmark, not a test: nothing
here asserts a speed.

The load generator is a minimal HTTP/1.1 client on asyncio streams (keep-alive connections,
``GET`` only, ``Content-Length`` bodies): it costs a few tens of microseconds per request, where
httpx's async client cost more than the server itself on 2 cores and capped the rate below 200/s.

Limits: the load generator runs on the same machine as the server and shares its cores; on a
2-core machine the saturation numbers measure the pair, not the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(run: Path, port: int, log_path: Path) -> subprocess.Popen:
    """``fashiongraph serve`` on 127.0.0.1:``port``, once ``/health`` answers."""
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fashiongraph.cli", "serve", "--run", str(run),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit("serve did not become ready in 120 s")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection to the server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, path: str) -> int:
        """Send ``GET path``, read the whole answer, return its status code."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _CONTENT_LENGTH.search(head)
        if length is None:
            raise ConnectionError(f"GET {path}: answer without Content-Length")
        await self.reader.readexactly(int(length.group(1)))
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


class Pool:
    """``size`` connections opened up front; a request waits for a free one (and that wait
    counts in its latency)."""

    def __init__(self, port: int, size: int):
        self.port = port
        self.size = size
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await Connection.open(self.port))

    async def get(self, path: str) -> bool:
        """Whether ``GET path`` answered 200; a broken connection is replaced."""
        connection = await self.idle.get()
        try:
            ok = await connection.get(path) == 200
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            connection = await Connection.open(self.port)
            ok = False
        self.idle.put_nowait(connection)
        return ok

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


async def open_loop(pool: Pool, paths: list[str], rate: float, duration: float,
                    max_requests: int) -> dict:
    """Send ``paths`` at ``rate`` per second for ``duration`` s (at most ``max_requests``)."""
    count = min(len(paths), max_requests, int(rate * duration))
    latencies = np.full(count, np.nan)
    errors = 0
    start = time.perf_counter() + 0.1

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if not await pool.get(paths[i]):
            errors += 1
        latencies[i] = time.perf_counter() - due

    await asyncio.gather(*(one(i) for i in range(count)))
    return summary(latencies, errors, time.perf_counter() - start)


async def closed_loop(pool: Pool, paths: list[str], concurrency: int, duration: float,
                      max_requests: int) -> dict:
    """``concurrency`` workers, each sending its next request when its last one returned."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    cursor = iter(range(min(len(paths), max_requests)))

    async def worker() -> None:
        nonlocal errors
        for i in cursor:
            if time.perf_counter() > stop:
                return
            sent = time.perf_counter()
            if not await pool.get(paths[i]):
                errors += 1
            latencies.append(time.perf_counter() - sent)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summary(np.array(latencies), errors, time.perf_counter() - start)


def summary(latencies: np.ndarray, errors: int, elapsed: float) -> dict:
    """Count, errors, requests/s and latency percentiles (ms) of one phase."""
    done = latencies[~np.isnan(latencies)] * 1000
    return {"requests": int(len(done)), "errors": int(errors),
            "rps": round(len(done) / elapsed, 1),
            "p50_ms": round(float(np.percentile(done, 50)), 2),
            "p99_ms": round(float(np.percentile(done, 99)), 2),
            "max_ms": round(float(done.max()), 2)}


def endpoints(run: Path, methods: list[str], k: int, count: int, seed: int) -> dict:
    """Request paths per endpoint under test; customers and sold articles drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    customers = pd.read_parquet(run / "dataset" / "customers.parquet",
                                columns=["customer_id"])["customer_id"].to_numpy()
    picks = customers[rng.integers(len(customers), size=count)]
    sold_idx = pd.read_parquet(run / "dataset" / "transactions.parquet",
                               columns=["article_idx"])["article_idx"].unique()
    articles = pd.read_parquet(run / "dataset" / "articles.parquet",
                               columns=["article_id"])["article_id"].to_numpy()
    article_picks = articles[sold_idx][rng.integers(len(sold_idx), size=count)]
    paths = {f"recommendations {m}": [f"/customers/{c}/recommendations?method={m}&k={k}"
                                      for c in picks] for m in methods}
    paths["customer profile"] = [f"/customers/{c}" for c in picks]
    paths["article + also bought"] = [f"/articles/{a}" for a in article_picks]
    return paths


async def bench(args: argparse.Namespace) -> list[dict]:
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    server = start_server(args.run, port, OUT / "serve.log")
    pool = Pool(port, args.connections)
    rows = []
    try:
        methods = httpx.get(f"http://127.0.0.1:{port}/health").json()["methods"]
        await pool.open()
        count = args.warmup + 2 * args.max_requests
        for name, paths in endpoints(args.run, methods, args.k, count, args.seed).items():
            # Warm-up requests are not counted.
            await closed_loop(pool, paths[:args.warmup], args.concurrency, 60.0, args.warmup)
            measured = paths[args.warmup:]
            rate = args.rate if name.startswith("recommendations") else args.page_rate
            fixed = await open_loop(pool, measured, rate, args.duration, args.max_requests)
            saturated = await closed_loop(pool, measured[args.max_requests:], args.concurrency,
                                          args.saturation, args.max_requests)
            rows.append({"endpoint": name, "rate": rate, **fixed,
                         "max_rps": saturated["rps"], "sat_p50_ms": saturated["p50_ms"],
                         "sat_p99_ms": saturated["p99_ms"], "sat_errors": saturated["errors"]})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        pool.close()
        stop_server(server)
    return rows


def markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "demo")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="requests/s of the open-loop phase, recommendations (default 200)")
    parser.add_argument("--page-rate", type=float, default=50.0,
                        help="requests/s of the open-loop phase, profile and article pages "
                             "(default 50)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of the open-loop phase per endpoint (default 10)")
    parser.add_argument("--saturation", type=float, default=3.0,
                        help="seconds of the closed-loop phase per endpoint (default 3)")
    parser.add_argument("--max-requests", type=int, default=5000,
                        help="most requests per phase and endpoint (default 5000)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16,
                        help="requests in flight in the closed-loop phase (default 16)")
    parser.add_argument("--connections", type=int, default=32,
                        help="keep-alive connections to the server (default 32)")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.run / "manifest.json").exists():
        raise SystemExit(f"{args.run}: not a run directory; create it with `make demo`")

    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    rows = asyncio.run(bench(args))
    meta = {"run": str(args.run), "rate": args.rate, "page_rate": args.page_rate,
            "duration_s": args.duration,
            "saturation_s": args.saturation, "concurrency": args.concurrency, "k": args.k,
            "max_requests": args.max_requests, "python": platform.python_version(),
            "cpus": os.cpu_count(), "machine": platform.machine(), "started": started,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}
    (OUT / "bench_api.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print()
    print(json.dumps(meta))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
