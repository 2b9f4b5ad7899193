"""Load benchmark of ``fashiongraph serve`` from loopback: requests/s and p50/p99 latency.

Starts the API as its own process (uvicorn, one worker) on a free loopback port, then for each
endpoint under test sends requests at a fixed rate (open loop: request ``i`` is due at
``start + i / rate``, and its latency is measured from that due time, so a slow server cannot
hide its queueing delay), for a bounded time and count. Customers are drawn uniformly (seeded)
from the run's customers table. A short closed-loop phase (``--concurrency`` requests in flight)
gives the saturation throughput.

Run on the demo run::

    make demo
    .venv/bin/python benchmarks/bench_api.py --run runs/demo --rate 200 --duration 10

Results print as a markdown table; the raw numbers go to ``benchmarks/out/`` (git-ignored).
This is a benchmark, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(run: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "fashiongraph.cli", "serve", "--run", str(run), "--port",
         str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
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
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("serve did not become ready in 120 s")


async def open_loop(client: httpx.AsyncClient, paths: list[str], rate: float,
                    duration: float) -> dict:
    """Send ``paths`` at ``rate`` per second for ``duration`` seconds (at most len(paths))."""
    count = min(len(paths), int(rate * duration))
    latencies = np.full(count, np.nan)
    errors = 0
    start = time.perf_counter() + 0.1

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            response = await client.get(paths[i])
            if response.status_code != 200:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        latencies[i] = time.perf_counter() - due

    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.perf_counter() - start
    return summary(latencies, errors, elapsed)


async def closed_loop(client: httpx.AsyncClient, paths: list[str], concurrency: int,
                      duration: float) -> dict:
    """``concurrency`` workers, each sending the next request when its last one returns."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    cursor = iter(range(len(paths)))

    async def worker() -> None:
        nonlocal errors
        for i in cursor:
            if time.perf_counter() > stop:
                return
            sent = time.perf_counter()
            try:
                if (await client.get(paths[i])).status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - sent)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summary(np.array(latencies), errors, time.perf_counter() - start)


def summary(latencies: np.ndarray, errors: int, elapsed: float) -> dict:
    done = latencies[~np.isnan(latencies)] * 1000
    return {"requests": int(len(done)), "errors": int(errors),
            "rps": round(len(done) / elapsed, 1),
            "p50_ms": round(float(np.percentile(done, 50)), 2),
            "p99_ms": round(float(np.percentile(done, 99)), 2),
            "max_ms": round(float(done.max()), 2)}


def endpoints(run: Path, methods: list[str], k: int, count: int, seed: int) -> dict:
    """Request paths per endpoint under test, customers and articles drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    customers = pd.read_parquet(run / "dataset" / "customers.parquet",
                                columns=["customer_id"])["customer_id"].to_numpy()
    picks = customers[rng.integers(len(customers), size=count)]
    tx = pd.read_parquet(run / "dataset" / "transactions.parquet", columns=["article_idx"])
    articles = pd.read_parquet(run / "dataset" / "articles.parquet",
                               columns=["article_id"])["article_id"].to_numpy()
    sold = articles[tx["article_idx"].unique()]
    article_picks = sold[rng.integers(len(sold), size=count)]
    paths = {f"recommendations {m}": [f"/customers/{c}/recommendations?method={m}&k={k}"
                                      for c in picks] for m in methods}
    paths["customer profile"] = [f"/customers/{c}" for c in picks]
    paths["article + also bought"] = [f"/articles/{a}" for a in article_picks]
    return paths


async def bench(args) -> list[dict]:
    port = free_port()
    out_dir = ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    server = start_server(args.run, port, out_dir / "serve.log")
    rows = []
    try:
        limits = httpx.Limits(max_connections=args.connections,
                              max_keepalive_connections=args.connections)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                     timeout=10) as client:
            methods = (await client.get("/health")).json()["methods"]
            count = int(args.rate * args.duration) + int(args.saturation * 5000)
            for name, paths in endpoints(args.run, methods, args.k, count, args.seed).items():
                # Warm up (first requests build caches, open connections).
                await asyncio.gather(*(client.get(p) for p in paths[:50]))
                fixed = await open_loop(client, paths, args.rate, args.duration)
                saturated = await closed_loop(client, paths, args.concurrency, args.saturation)
                rows.append({"endpoint": name, "rate": args.rate, **fixed,
                             "max_rps": saturated["rps"], "sat_p50_ms": saturated["p50_ms"],
                             "sat_p99_ms": saturated["p99_ms"]})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "demo")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (open loop)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--saturation", type=float, default=3.0,
                        help="seconds of the closed-loop phase per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.run / "manifest.json").exists():
        raise SystemExit(f"{args.run}: not a run directory; create it with `make demo`")

    rows = asyncio.run(bench(args))
    table = pd.DataFrame(rows)
    meta = {"run": str(args.run), "rate": args.rate, "duration_s": args.duration,
            "concurrency": args.concurrency, "k": args.k, "python": platform.python_version(),
            "cpus": os.cpu_count(), "machine": platform.machine(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    (ROOT / "benchmarks" / "out" / "bench_api.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2))
    print()
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
