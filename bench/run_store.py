"""Append+follow latency of a run's events in the two candidate shared stores, measured with
their plain async clients on throwaway local servers (tests/services.py), and in the default
SQLite store (app/training/store/sqlite.py, a file in a temporary directory): one writer appends
events as a training run's driver does (awaiting each append), one reader follows them as a
second web process serving the SSE stream does. Latency is from the start of the append to
the follower holding the event.

    .venv/bin/python bench/run_store.py --events 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.training.store.sqlite import SqliteRunStore
from tests.services import postgres_server, redis_server

STEP = json.dumps({"type": "step", "epoch": 1, "iteration": 3, "total_iteration": 3,
                   "loss": 0.6931471805599453, "lr": 0.01, "grad_norm": 1.2345,
                   "grad_norm_clipped": False})
BOUNDARY = json.dumps({"type": "boundary", "grid": [[0.5] * 40] * 40})  # ~10 kB, as a real one


def _payload(i: int) -> str:
    return BOUNDARY if i % 50 == 49 else STEP


async def _write(n: int, sent: dict[int, float],
                 append: Callable[[int], Awaitable[None]]) -> None:
    """Appends n events as a run's driver does, noting when each append started."""
    await asyncio.sleep(0.1)  # the follower is waiting
    for i in range(n):
        sent[i] = time.perf_counter()
        await append(i)
        await asyncio.sleep(0.001)  # a run emits events over time, not in one burst


async def bench_redis(url: str, n: int) -> list[float]:
    import redis.asyncio as redis

    writer, reader = redis.from_url(url), redis.from_url(url)
    sent: dict[int, float] = {}
    got: list[float] = []

    async def follow() -> None:
        last = "0-0"
        while len(got) < n:
            answer = await reader.xread({"bench": last}, block=5000, count=100)
            for _, entries in answer:
                for entry_id, fields in entries:
                    got.append(time.perf_counter() - sent[int(fields[b"i"])])
                    last = entry_id

    follower = asyncio.create_task(follow())

    async def append(i: int) -> None:
        await writer.xadd("bench", {"i": i, "kind": "step", "data": _payload(i)})

    await _write(n, sent, append)
    await follower
    await writer.aclose()
    await reader.aclose()
    return got


async def bench_postgres(url: str, n: int) -> list[float]:
    import psycopg

    writer = await psycopg.AsyncConnection.connect(url, autocommit=True)
    listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
    reader = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await writer.execute("CREATE TABLE bench (run text, idx int, kind text, data text, "
                         "PRIMARY KEY (run, idx))")
    await listener.execute("LISTEN bench")
    sent: dict[int, float] = {}
    got: list[float] = []

    async def follow() -> None:
        last = -1
        async for _ in listener.notifies():
            async with reader.cursor() as cursor:
                await cursor.execute("SELECT idx FROM bench WHERE run = 'r' AND idx > %s "
                                     "ORDER BY idx", (last,))
                for (idx,) in await cursor.fetchall():
                    got.append(time.perf_counter() - sent[idx])
                    last = idx
            if len(got) >= n:
                return

    follower = asyncio.create_task(follow())

    async def append(i: int) -> None:
        await writer.execute("WITH row AS (INSERT INTO bench VALUES ('r', %s, 'step', %s)) "
                             "SELECT pg_notify('bench', 'r')", (i, _payload(i)))

    await _write(n, sent, append)
    await follower
    await writer.close()
    await listener.close()
    await reader.close()
    return got


async def bench_sqlite(path: Path, n: int, poll_s: float) -> list[float]:
    writer = SqliteRunStore(path, keep_s=3600, poll_s=poll_s)
    reader = SqliteRunStore(path, keep_s=3600, poll_s=poll_s)  # another process's view
    await writer.create("r", {"id": "r", "created_at": 0.0, "spec": {}})
    sent: dict[int, float] = {}
    got: list[float] = []

    async def follow() -> None:
        async for item in reader.follow("r", -1, heartbeat_s=5):
            if item is not None:
                got.append(time.perf_counter() - sent[item[0]])
                if len(got) >= n:
                    return

    follower = asyncio.create_task(follow())
    await _write(n, sent, lambda i: writer.append("r", "step", _payload(i)))
    await follower
    await writer.close()
    await reader.close()
    return got


def report(name: str, latencies: list[float], append_wall: float) -> None:
    ms = sorted(x * 1000 for x in latencies)
    print(f"{name:10s} events={len(ms)} append+follow latency: median {statistics.median(ms):.2f}"
          f" ms, p95 {ms[int(0.95 * len(ms))]:.2f} ms, max {ms[-1]:.2f} ms; "
          f"writer wall {append_wall:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--poll-s", type=float, default=0.2,
                        help="the SQLite follower's poll interval (setting run_store_poll_s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        latencies = asyncio.run(bench_sqlite(Path(directory) / "runs.sqlite3", args.events,
                                             args.poll_s))
        report("sqlite", latencies, time.perf_counter() - start)
    with redis_server() as url:
        start = time.perf_counter()
        latencies = asyncio.run(bench_redis(url, args.events))
        report("redis", latencies, time.perf_counter() - start)
    with postgres_server() as url:
        start = time.perf_counter()
        latencies = asyncio.run(bench_postgres(url, args.events))
        report("postgresql", latencies, time.perf_counter() - start)


if __name__ == "__main__":
    main()
