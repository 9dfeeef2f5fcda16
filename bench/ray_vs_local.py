"""/eval through the Ray backend against the local worker pool, in one run.

Starts the app twice with uvicorn on free loopback ports (the Makefile's options), with
``executor_backend=local`` and ``ray`` (a local Ray instance the server starts, one actor per
worker), each with the same number of workers, both up at once. Then rounds that alternate
which backend goes first, so that load from elsewhere on the machine falls on both alike; in
each: p50/p99 latency of sequential requests on one keep-alive connection, then requests/s
with several connections. The medians over the rounds are compared.
The program is the 2x3 @ 3x2 ``torch.mm`` of bench/eval_latency.py ("tiny"): the executor's
own cost is what differs between the two.

Run:  .venv/bin/python bench/ray_vs_local.py [--workers 2] [--requests 300] [--connections 8]
                                             [--rounds 4]
Results: docs/BENCHMARKS.md, section "Ray backend".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TINY = ("A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])\n"
        "B = torch.tensor([[1., 4.], [2., 5.], [3., 6.]])\ntorch.mm(A, B)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(backend: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PLAYGROUND_EXECUTOR_BACKEND": backend,
           "PLAYGROUND_WORKERS": str(workers), "PLAYGROUND_RATE_LIMIT_PER_MINUTE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
         str(port), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 300
    while time.monotonic() < until:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"the {backend} server did not become ready")


def latency_ms(url: str, requests: int) -> tuple[float, float]:
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(20):  # warm: connection, caches of the workers
            client.post("/eval", json={"code": TINY}).raise_for_status()
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.post("/eval", json={"code": TINY}).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def throughput(url: str, requests: int, connections: int) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(
            max_connections=connections)) as client:
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                (await client.post("/eval", json={"code": TINY})).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(f"workers={args.workers} requests={args.requests} connections={args.connections} "
          f"rounds={args.rounds}")
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for backend in ("local", "ray"):
            started = time.monotonic()
            servers[backend] = start_server(backend, args.workers)
            print(f"{backend:5s} ready in {time.monotonic() - started:5.1f} s")
        results: dict[str, list[tuple[float, float, float]]] = {"local": [], "ray": []}
        for round_ in range(args.rounds):
            for backend in ("local", "ray") if round_ % 2 == 0 else ("ray", "local"):
                url = servers[backend][1]
                p50, p99 = latency_ms(url, args.requests)
                rate = asyncio.run(throughput(url, args.requests, args.connections))
                results[backend].append((p50, p99, rate))
                print(f"round {round_ + 1} {backend:5s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                      f"{rate:6.0f} req/s")
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=60)
    median = {backend: tuple(statistics.median(r[i] for r in rounds) for i in range(3))
              for backend, rounds in results.items()}
    for backend, (p50, p99, rate) in median.items():
        print(f"median {backend:5s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  {rate:6.0f} req/s")
    local, ray = median["local"], median["ray"]
    print(f"ray - local: p50 {ray[0] - local[0]:+.2f} ms (aim: at most +2 ms), "
          f"req/s {ray[2] / local[2]:.0%} of local; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
