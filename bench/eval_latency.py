"""/eval latency and throughput of the real server, against a bare in-process baseline.

Both servers are started here, on free loopback ports, with the same uvicorn options the
Makefile uses (``--loop uvloop --http httptools``):

- ``product``: ``app.main:app`` — validation in the web process, a pre-warmed sandbox worker
  runs the program through the interpreter and builds the views (values, repr, stats,
  storage, steps, graph) of every variable; the web process sends the worker's JSON bytes.
  The rate limit is set so high that it never answers 429 (its code still runs).
- ``baseline``: a bare FastAPI app defined in this file (never part of the product). It
  parses the same request with pydantic, runs the same torch code as a plain Python function
  inside the event loop (no sandbox, no interpreter, one torch thread, like a worker) and
  answers ``{"ok": true, "result": {"shape", "dtype", "values"}}``.

Two programs: ``tiny`` (a 2x3 @ 3x2 ``torch.mm``) and ``autograd64`` (two 64x64 leaves, a
matmul, tanh, a mean-square loss, ``backward()``, the gradient as result).

Measured per program and server: latency (p50/p99) of sequential requests on one keep-alive
connection, then requests/s with 32 keep-alive connections. The load generator is a minimal
HTTP/1.1 client on asyncio streams (uvloop when installed), in this process; its own CPU time
per request is measured (getrusage) and printed, as is the CPU time per request of the
server's processes (from /proc: the web process, and its sandbox processes — the forkserver
and the workers, including replaced ones). Everything shares the machine's cores.

Run:  .venv/bin/python bench/eval_latency.py [--quick] [--before-root DIR]   (or: make bench)
      .venv/bin/python bench/eval_latency.py --fresh   every request's program text is new,
                                                       so no cache keyed by it answers
      .venv/bin/python bench/eval_latency.py --profile-worker   where a worker's time goes
      .venv/bin/python bench/eval_latency.py --without-replacement   also the product with
                                           its workers never replaced (worker_max_programs
                                           out of reach): what replacing them costs
      .venv/bin/python bench/eval_latency.py --same-bytes DIR   a perf change must not change
                                                                a byte: compare with DIR
      .venv/bin/python bench/eval_latency.py --same-data DIR    the same data once decoded
                                                                (shared values put back,
                                                                float32 values as float32)
Results and how to read them: docs/BENCHMARKS.md, section "/eval latency".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER_OPTIONS = ["--loop", "uvloop", "--http", "httptools"]
HOST = "127.0.0.1"
CONNECTIONS = 32
_ELAPSED = re.compile(rb'"elapsed_ms":([0-9.]+)')

TINY = """A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
B = torch.tensor([[1., 4.], [2., 5.], [3., 6.]])
torch.mm(A, B)"""

AUTOGRAD64 = """x = torch.randn(64, 64, requires_grad=True)
w = torch.randn(64, 64, requires_grad=True)
y = torch.tanh(x @ w)
loss = (y * y).mean()
loss.backward()
w.grad"""

PROGRAMS = {"tiny": TINY, "autograd64": AUTOGRAD64}
# --fresh: each request's program ends with a comment of its own, so that no cache keyed by
# the program's text (the web process's check, the worker's parse cache and view memo)
# answers it: what a program sent for the first time costs.
FRESH_MARK = "\n# request "
# The label of --without-replacement's server (the table's server column is 9 wide).
NO_REPLACEMENT = "noreplace"
# Issue 13's aims, against the baseline measured in the same round: p50 latency at one
# connection at most 1.5x (tiny and autograd64), requests/s at 32 connections at least 75%.
AIM_P50_RATIO = 1.5
AIM_THROUGHPUT_RATIO = 0.75


# ================================================================================ baseline
def _baseline_tiny(torch: Any) -> Any:
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    return torch.mm(a, b)


def _baseline_autograd64(torch: Any) -> Any:
    x = torch.randn(64, 64, requires_grad=True)
    w = torch.randn(64, 64, requires_grad=True)
    y = torch.tanh(x @ w)
    loss = (y * y).mean()
    loss.backward()
    return w.grad


_BASELINE_CODE = {TINY: _baseline_tiny, AUTOGRAD64: _baseline_autograd64}


def create_baseline_app() -> Any:
    """The bare app (``uvicorn bench.eval_latency:create_baseline_app --factory``)."""
    import gc
    from typing import Literal

    import torch
    from fastapi import FastAPI, HTTPException, Response
    from pydantic import BaseModel

    torch.set_num_threads(1)  # like a sandbox worker; no thread pool fighting the loop

    class EvalRequest(BaseModel):
        code: str
        seed: int = 0
        device: Literal["auto", "cpu", "cuda"] = "auto"

    app = FastAPI()

    async def evaluate(body: EvalRequest) -> Response:
        run = _BASELINE_CODE.get(body.code.partition(FRESH_MARK)[0])
        if run is None:
            raise HTTPException(404, "the baseline knows the benchmark's programs only")
        torch.manual_seed(body.seed)
        result = run(torch)
        payload = {"ok": True, "result": {"shape": list(result.shape),
                                          "dtype": str(result.dtype).replace("torch.", ""),
                                          "values": result.tolist()}}
        return Response(json.dumps(payload).encode(), media_type="application/json")

    # Real annotations (this module's are strings, and EvalRequest is local to this function).
    evaluate.__annotations__ = {"body": EvalRequest, "return": Response}
    app.post("/eval")(evaluate)

    # The same treatment as the product's processes: torch's objects out of the collector's
    # reach, so neither side pays a full collection over them in the middle of a run.
    gc.collect()
    gc.freeze()
    return app


# ================================================================================ servers
# uvicorn's script, as `make run` and the Dockerfile start the app: how the server is started
# matters to what replacing a worker costs (multiprocessing's children may run the parent's
# main script again; app/executor/prefork.py). `python -m uvicorn` where there is no script.
_SCRIPT = Path(sys.executable).with_name("uvicorn")
_UVICORN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "uvicorn"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    target: list[str]
    env: dict[str, str] = field(default_factory=dict)
    root: Path = ROOT  # the checkout it runs from
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.root), str(ROOT),
                                                          env.get("PYTHONPATH")]))
        command = [*_UVICORN, *self.target, *SERVER_OPTIONS,
                   "--host", HOST, "--port", str(self.port), "--log-level", "warning",
                   "--no-access-log"]
        self.process = subprocess.Popen(command, cwd=self.root, env=env,
                                        start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # uvicorn shuts down; the lifespan stops the workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)  # its own session: only what it started
            self.process.wait(timeout=5)

    def cpu_seconds(self) -> tuple[float, float]:
        """(web process, its descendants incl. reaped ones) CPU seconds so far."""
        assert self.process is not None
        return _process_tree_cpu(self.process.pid)


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU s, reaped children's CPU s) from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    own = (int(fields[11]) + int(fields[12])) / _TICK
    reaped = (int(fields[13]) + int(fields[14])) / _TICK
    return int(fields[1]), own, reaped


def _process_tree_cpu(root: int) -> tuple[float, float]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _proc_stat(int(entry))
            if found is not None:
                stats[int(entry)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    if root not in stats:
        return 0.0, 0.0
    web = stats[root][1]
    below = stats[root][2]  # descendants that exited and were reaped by the web process
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        _, own, reaped = stats[pid]
        below += own + reaped
        stack.extend(children.get(pid, []))
    return web, below


# ================================================================================ client
class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs prepared requests: as little client
    work per request as asyncio streams allow."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        start = head.lower().find(b"\r\ncontent-length:")
        if start < 0:
            raise RuntimeError(f"no content-length in {head[:200]!r}")
        end = head.index(b"\r\n", start + 2)
        body = await self.reader.readexactly(int(head[start + 17:end]))
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def build_request(port: int, program: str) -> bytes:
    body = json.dumps({"code": program, "seed": 0, "device": "auto"}).encode()
    head = (f"POST /eval HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _check(status: int, body: bytes, server: str) -> None:
    if status != 200 or not body.startswith((b'{"ok":true', b'{"ok": true')):
        raise RuntimeError(f"{server} answered {status}: {body[:300]!r}")


async def wait_ready(server: Server, timeout_s: float = 180.0) -> None:
    request = build_request(server.port, TINY)
    deadline = time.monotonic() + timeout_s
    while True:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.name} server exited ({server.process.returncode})")
        try:
            connection = await Connection(server.port).open()
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {server.name} server did not start") from None
            await asyncio.sleep(0.2)
            continue
        try:
            status, body = await connection.send(request)
            _check(status, body, server.name)
            return
        finally:
            connection.close()


@dataclass
class Sample:
    latencies_ms: list[float]
    elapsed_s: float
    client_cpu_s: float
    web_cpu_s: float
    sandbox_cpu_s: float
    response_bytes: int
    # What the sandbox itself reports (elapsed_ms: Sandbox.run, views included, JSON not).
    inside_ms: list[float]

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rps(self) -> float:
        return self.count / self.elapsed_s

    def per_request_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.count


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(server: Server, program: str, connections: int, max_requests: int,
                  max_seconds: float, warmup: int, fresh: bool = False) -> Sample:
    request = build_request(server.port, program)
    sent = itertools.count()

    def next_request() -> bytes:
        if not fresh:
            return request
        return build_request(server.port, f"{program}{FRESH_MARK}{next(sent)}")

    pool = [await Connection(server.port).open() for _ in range(connections)]
    try:
        for _ in range(warmup):
            await asyncio.gather(*(c.send(next_request()) for c in pool))
        latencies: list[float] = []
        inside: list[float] = []
        sizes: list[int] = []
        issued = 0
        clock = time.perf_counter
        end = clock() + max_seconds

        async def drive(connection: Connection) -> None:
            nonlocal issued
            while issued < max_requests and clock() < end:
                issued += 1
                start = clock()
                status, body = await connection.send(next_request())
                latencies.append((clock() - start) * 1000)
                # Near the end, before "figures" (when the body has no shared values).
                found = _ELAPSED.search(body, max(0, len(body) - 80))
                if found:
                    inside.append(float(found[1]))
                if len(sizes) < 4:
                    _check(status, body, server.name)
                    sizes.append(len(body))
                elif status != 200:
                    _check(status, body, server.name)

        web0, sandbox0 = server.cpu_seconds()
        cpu0 = _client_cpu()
        started = clock()
        await asyncio.gather(*(drive(c) for c in pool))
        elapsed = clock() - started
        cpu1 = _client_cpu()
        web1, sandbox1 = server.cpu_seconds()
        return Sample(latencies, elapsed, cpu1 - cpu0, web1 - web0, sandbox1 - sandbox0,
                      sizes[0], inside)
    finally:
        for connection in pool:
            connection.close()


# ================================================================================ report
@dataclass
class Plan:
    latency_requests: int
    latency_seconds: float
    load_requests: int
    load_seconds: float
    warmup: int
    rounds: int


Results = dict[tuple[str, str, str], list[Sample]]  # (program, server, phase) -> one per round


def _median(values: Iterator[float] | list[float]) -> float:
    return statistics.median(list(values))


def _table(results: Results, names: list[str]) -> Iterator[str]:
    """Each figure is the median over the rounds of that round's figure."""
    yield (f"1 connection     {'':9} {'p50 ms':>7} {'p99 ms':>7} {'n':>6}  {'sandbox p50':>11}"
           f"  {'body bytes':>10}  {'client CPU ms/req':>17}")
    for program in PROGRAMS:
        for server in names:
            ones = results[(program, server, "latency")]
            inside = ""
            if ones[0].inside_ms:
                inside = f"{_median(_median(o.inside_ms) for o in ones):8.2f} ms"
            yield (f"{program:<16} {server:<9} {_median(o.percentile(0.5) for o in ones):7.2f} "
                   f"{_median(o.percentile(0.99) for o in ones):7.2f} "
                   f"{sum(o.count for o in ones):6d}  {inside:>11}  "
                   f"{ones[0].response_bytes:10d}  "
                   f"{_median(o.per_request_ms(o.client_cpu_s) for o in ones):17.3f}")
    yield ""
    yield (f"{CONNECTIONS} connections   {'':9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
           f"{'n':>6}  CPU ms/req: {'client':>6} {'web':>6} {'sandbox':>7}")
    for program in PROGRAMS:
        for server in names:
            manys = results[(program, server, "load")]
            yield (f"{program:<16} {server:<9} {_median(m.rps for m in manys):7.0f} "
                   f"{_median(m.percentile(0.5) for m in manys):7.1f} "
                   f"{_median(m.percentile(0.99) for m in manys):7.1f} "
                   f"{sum(m.count for m in manys):6d}  {'':11} "
                   f"{_median(m.per_request_ms(m.client_cpu_s) for m in manys):6.2f} "
                   f"{_median(m.per_request_ms(m.web_cpu_s) for m in manys):6.2f} "
                   f"{_median(m.per_request_ms(m.sandbox_cpu_s) for m in manys):7.2f}")


def _ratios(results: Results, program: str, a: str, b: str) -> list[tuple[float, float, float]]:
    """Per round: (p50 latency, p99 latency) ratio at 1 connection and requests/s ratio at 32
    connections, of server a over server b (measured back to back in that round)."""
    rounds = []
    for a_one, b_one, a_many, b_many in zip(
            results[(program, a, "latency")], results[(program, b, "latency")],
            results[(program, a, "load")], results[(program, b, "load")], strict=True):
        rounds.append((a_one.percentile(0.5) / b_one.percentile(0.5),
                       a_one.percentile(0.99) / b_one.percentile(0.99), a_many.rps / b_many.rps))
    return rounds


def _spread(values: list[float], fmt: str) -> str:
    text = format(_median(values), fmt)
    if len(values) > 1:
        text += f" [{format(min(values), fmt)} .. {format(max(values), fmt)}]"
    return text


def report(results: Results, names: list[str]) -> bool:
    rounds = len(results[("tiny", "product", "latency")])
    print()
    for line in _table(results, names):
        print(line)
    print()
    note = f" (median of {rounds} rounds [min .. max])" if rounds > 1 else ""
    print(f"ratios, product / baseline{note}:")
    aims_met = True
    for program in PROGRAMS:
        per_round = _ratios(results, program, "product", "baseline")
        p50s, p99s, loads = (list(column) for column in zip(*per_round, strict=True))
        print(f"  {program:<11} p50 latency x{_spread(p50s, '.2f')}   p99 latency "
              f"x{_spread(p99s, '.2f')}   requests/s {_spread(loads, '.0%')} of baseline")
        ok_latency = _median(p50s) <= AIM_P50_RATIO
        ok_rps = _median(loads) >= AIM_THROUGHPUT_RATIO
        aims_met = aims_met and ok_latency and ok_rps
        print(f"  aims ({program}): p50 x{_median(p50s):.2f} <= x{AIM_P50_RATIO}: "
              f"{'met' if ok_latency else 'MISSED'}; requests/s {_median(loads):.0%} >= "
              f"{AIM_THROUGHPUT_RATIO:.0%} of baseline: {'met' if ok_rps else 'MISSED'}")
    for other, said in (("before", "before (--before-root)"),
                        (NO_REPLACEMENT, f"{NO_REPLACEMENT} (--without-replacement)")):
        if other not in names:
            continue
        print(f"product (this checkout) / {said}{note}:")
        for program in PROGRAMS:
            per_round = _ratios(results, program, "product", other)
            p50s, p99s, loads = (list(column) for column in zip(*per_round, strict=True))
            print(f"  {program:<11} p50 latency x{_spread(p50s, '.2f')}   p99 latency "
                  f"x{_spread(p99s, '.2f')}   requests/s x{_spread(loads, '.2f')}")
    ones = results[("tiny", "baseline", "latency")]
    print(f"client overhead: {_median(o.per_request_ms(o.client_cpu_s) for o in ones):.3f} ms "
          "CPU per request at 1 connection (tiny, baseline), included in every latency above; "
          "at 32 connections see the client column (it runs on the same cores as the servers)")
    return aims_met


def _machine() -> str:
    import platform
    model = platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                      if line.startswith("model name")), model)
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f} (1 min)")


async def run_all(plan: Plan, before_root: Path | None, fresh: bool = False,
                  without_replacement: bool = False) -> Results:
    unlimited = {"PLAYGROUND_RATE_LIMIT_PER_MINUTE": str(10**9)}
    servers = [Server("product", ["app.main:app"], env=unlimited),
               Server("baseline", ["bench.eval_latency:create_baseline_app", "--factory"])]
    if before_root is not None:
        servers.append(Server("before", ["app.main:app"], env=unlimited, root=before_root))
    if without_replacement:
        # The same checkout, its workers never replaced: worker_max_programs (a security
        # bound, 500 by default) out of reach of any run.
        servers.append(Server(NO_REPLACEMENT, ["app.main:app"], env={
            **unlimited, "PLAYGROUND_WORKER_MAX_PROGRAMS": str(10**9)}))
    results: Results = {}
    try:
        for server in servers:
            server.start()
        for server in servers:
            started = time.perf_counter()
            await wait_ready(server)
            print(f"{server.name} ready on port {server.port} after "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        for round_index in range(plan.rounds):
            # Alternate the order round by round, so a drift in the machine's speed does not
            # always favour the same server.
            order = servers if round_index % 2 == 0 else servers[::-1]
            for program_name, program in PROGRAMS.items():
                for kind, connections, count, seconds in (
                        ("latency", 1, plan.latency_requests, plan.latency_seconds),
                        ("load", CONNECTIONS, plan.load_requests, plan.load_seconds)):
                    for server in order:
                        warmup = plan.warmup if connections == 1 else max(2, plan.warmup // 16)
                        sample = await measure(server, program, connections, count, seconds,
                                               warmup, fresh)
                        results.setdefault((program_name, server.name, kind), []).append(sample)
                        print(f"  round {round_index + 1}  {program_name:<11} {server.name:<9} "
                              f"{kind:<7} {sample.count:6d} requests in "
                              f"{sample.elapsed_s:5.1f} s", flush=True)
    finally:
        for server in servers:
            server.stop()
    return results


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# ================================================================================ worker profile
def profile_worker(repeats: int) -> None:
    """Where a worker's time goes: ``Sandbox.run`` + JSON encoding in this process, set up
    like a worker (one torch thread, the warm-up program, gc.freeze)."""
    import cProfile
    import gc
    import pstats

    import torch

    from app.config import Settings
    from app.engine.job import WARM_UP_PROGRAM
    from app.engine.program import Sandbox, to_json

    torch.set_num_threads(1)  # like a worker
    sandbox = Sandbox(Settings())
    sandbox.run(WARM_UP_PROGRAM)
    gc.collect()
    gc.freeze()

    def once(program: str) -> bytes:
        return to_json(sandbox.run(program).body)

    def timed(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1000

    components(sandbox)
    between_jobs(repeats)
    groups = {
        "tensor views (app/inspect/tensors.py ViewBuilder.tensor)": "tensors.py:tensor",
        "  of which the printed form (repr)": "_tensor_str.py:_str tensor_repr.py:fast_repr",
        "  of which values (tolist)": "tensors.py:_values",
        "    of which the shortest float32 text": "floats.py:shortest_float32",
        "  of which stats": "tensors.py:_stats",
        "interpreter (Interpreter.run, views of steps excluded)": "interpreter.py:run",
        "  of which the meta dry run (Budget.predict)": "budget.py:predict",
        "  of which LiveTensors.track": "budget.py:track",
        "autograd graph (build_graph)": "graph.py:build_graph",
        "JSON encoding (to_json)": "program.py:to_json",
        "fresh state per program (Sandbox._fresh_state: seeds)": "program.py:_fresh_state",
        "parsing and validation (parse_program; cached by source text)":
            "parser.py:parse_program",
    }
    for name, program in PROGRAMS.items():
        for _ in range(20):
            once(program)
        times = sorted(timed(lambda p=program: once(p)) for _ in range(repeats))
        body = sandbox.run(program).body
        lists = list(_values_lists(body))
        encode = min(timed(lambda b=body: to_json(b)) for _ in range(50))
        print(f"{name}: Sandbox.run + to_json  min {times[0]:.3f}  p50 "
              f"{statistics.median(times):.3f}  p90 {times[int(0.9 * len(times))]:.3f} ms  "
              f"({len(to_json(body)):,} bytes of JSON, to_json alone {encode:.3f} ms best; "
              f"{len(lists)} tensor values lists, {len({id(v) for v in lists})} distinct)")
        # A worker sleeps between requests: its caches are cold when the next one comes.
        paused = []
        for _ in range(repeats):
            time.sleep(0.002)
            paused.append(timed(lambda p=program: once(p)))
        print(f"{name}: the same with a 2 ms pause before each run  min {min(paused):.3f}  "
              f"p50 {statistics.median(paused):.3f} ms")
        # CPU time, not wall time: on a shared machine, time spent preempted would land on
        # whichever function happened to be running.
        profiler = cProfile.Profile(time.thread_time_ns, 1e-9)
        profiler.enable()
        for _ in range(repeats):
            once(program)
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(tt for (_, _, _), (_, _, tt, _, _) in stats.items())
        print(f"  share of the profiled CPU time (cProfile, {repeats} runs; cumulative):")
        step_views = 0.0
        for label, key in groups.items():
            cumulative = 0.0
            for part in key.split():
                file_part, func = part.split(":")
                cumulative += sum(ct for (path, _, fn), (_, _, _, ct, _) in stats.items()
                                  if path.endswith("/" + file_part) and fn == func)
            if key == "interpreter.py:run":
                step_views = sum(ct for (path, _, fn), (_, _, _, ct, _) in stats.items()
                                 if path.endswith("/program.py") and fn == "on_step")
                cumulative -= step_views
            print(f"    {label:<58} {cumulative / total:6.1%}")
        print(f"    {'(views of steps, inside the interpreter run)':<58} "
              f"{step_views / total:6.1%}")


def between_jobs(repeats: int) -> None:
    """The full collection a worker makes after each answer (app/executor/worker.py,
    release_job_garbage), in a fresh Sandbox: collecting only (the baseline, first), then
    collecting and freezing what survives. For new program texts (each fills the parse cache
    and its view memo) and reruns. The freezes are undone at the end, back to start-up's."""
    import gc

    from app.config import Settings
    from app.engine.job import WARM_UP_PROGRAM
    from app.engine.program import Sandbox, to_json

    for mode in ("new texts", "reruns"):
        for name, program in PROGRAMS.items():
            sandbox = Sandbox(Settings())
            sandbox.run(WARM_UP_PROGRAM)
            gc.collect()
            gc.freeze()  # as a worker starts (app/executor/worker.py)
            frozen_at_start = gc.get_freeze_count()
            medians = []
            for freeze in (False, True):
                times = []
                for n in range(repeats + 50):
                    code = f"{program}\n# {freeze} {n}" if mode == "new texts" else program
                    to_json(sandbox.run(code).body)
                    start = time.perf_counter()
                    gc.collect()
                    times.append((time.perf_counter() - start) * 1e6)
                    if freeze:
                        gc.freeze()
                medians.append(statistics.median(times[50:]))
            print(f"collection after a job, {mode}, {name}: {medians[0]:.0f} us collecting "
                  f"only, {medians[1]:.0f} us with what survives frozen "
                  f"(x{medians[1] / medians[0]:.2f}; {gc.get_freeze_count() - frozen_at_start:,}"
                  " objects frozen)")
            del sandbox
            gc.unfreeze()
            gc.collect()
    gc.freeze()  # as profile_worker left it


def _values_lists(value: Any) -> Iterator[Any]:
    """The ``values`` of every tensor view in a response body."""
    from app.inspect.floats import Float32Values

    if isinstance(value, dict):
        if value.get("kind") == "tensor" and isinstance(value.get("values"),
                                                        (list, Float32Values)):
            yield value["values"]
        for item in value.values():
            yield from _values_lists(item)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for item in value:
            yield from _values_lists(item)


def replacement_cost(replacements: int = 5) -> None:
    """CPU and wall time to replace a worker (what happens every worker_max_programs
    programs, and after a kill): one worker, replaced after every program."""
    from app.config import Settings
    from app.executor.base import Job
    from app.jobs import make_executor

    async def scenario() -> tuple[float, float]:
        executor = make_executor(Settings(workers=1, worker_max_programs=1))
        await executor.start()
        try:
            job = Job("eval", {"code": "1 + 1", "seed": 0, "device": "auto"}, 5.0)
            await executor.run(job)  # its worker is then replaced

            async def settled() -> None:  # the replacement is ready
                while executor.capacity().workers < 1 or len(executor._idle) < 1:
                    await asyncio.sleep(0.01)

            await settled()
            before = _process_tree_cpu(os.getpid())[1]
            started = time.perf_counter()
            for _ in range(replacements):
                await executor.run(job)
                await settled()
            wall = time.perf_counter() - started
            return _process_tree_cpu(os.getpid())[1] - before, wall
        finally:
            await executor.close()

    cpu, wall = asyncio.run(scenario())
    print(f"worker replacement (fork from the forkserver, warm-up, ready): "
          f"{cpu / replacements:.2f} s CPU of the sandbox processes, "
          f"{wall / replacements:.2f} s wall each ({replacements} in a row)")


def components(sandbox: Any) -> None:
    """CPU time of single pieces of a worker's work (best of many calls: robust on a shared
    machine): what the budget adds to an op, what a tensor view costs."""
    import ast

    import torch

    from app.engine.budget import Budget
    from app.engine.interpreter import _call_on_meta
    from app.engine.parser import parse_program
    from app.inspect.tensor_repr import fast_repr
    from app.inspect.tensors import StorageLabels, ViewBuilder

    def best_us(fn: Callable[[], Any], calls: int = 2000) -> float:
        times = []
        for _ in range(calls):
            start = time.thread_time_ns()
            fn()
            times.append(time.thread_time_ns() - start)
        return min(times) / 1000

    settings = sandbox.settings
    budget = Budget(settings, time.monotonic() + 3600)
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    x = torch.randn(64, 64, requires_grad=True)
    data = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]

    def predict(function: Any, args: tuple[Any, ...]) -> None:
        label, rule = sandbox.vetted[id(function)]  # the rule the interpreter applies
        budget.predict(label, rule, lambda: _call_on_meta(function, args, {}), args, {},
                       label.rsplit(".", 1)[-1])

    def view(t: torch.Tensor) -> None:
        ViewBuilder(settings.max_view_values, settings.max_repr_chars, StorageLabels()).tensor(t)

    rows = [
        ("torch.mm(2x3, 3x2): the op itself", lambda: torch.mm(a, b)),
        ("  its budget check (Budget.predict: meta dry run)", lambda: predict(torch.mm, (a, b))),
        ("torch.tensor(2x3 list): the op itself", lambda: torch.tensor(data)),
        ("  its budget check", lambda: predict(torch.tensor, (data,))),
        ("torch.tanh(64x64, requires_grad): the op itself", lambda: torch.tanh(x)),
        ("  its budget check", lambda: predict(torch.tanh, (x,))),
        ("x @ w (64x64 each): the op itself", lambda: x @ x),
        ("  its budget check", lambda: predict(torch.matmul, (x, x))),
        ("LiveTensors.track of a result (weakref.finalize)", lambda: budget.live.track(a)),
        ("torch.manual_seed(0) (CPU-only host)", lambda: torch.manual_seed(0)),
        ("torch.default_generator.manual_seed(0)",
         lambda: torch.default_generator.manual_seed(0)),
        ("parse + validate the tiny program", lambda: parse_program(TINY, settings)),
        ("  of which ast.parse", lambda: ast.parse(TINY)),
        ("parse + validate the autograd64 program", lambda: parse_program(AUTOGRAD64, settings)),
        ("  of which ast.parse", lambda: ast.parse(AUTOGRAD64)),
        ("view of a 2x3 tensor (first time in a request)", lambda: view(a)),
        ("  torch's repr of it", lambda: repr(a)),
        ("  fast_repr of it (same text)", lambda: fast_repr(a)),
        ("view of a 64x64 tensor (first time in a request)", lambda: view(x)),
        ("  torch's repr of it", lambda: repr(x)),
        ("  fast_repr of it (same text)", lambda: fast_repr(x)),
    ]
    print("single pieces, CPU time, best of 2,000 calls:")
    for label, fn in rows:
        try:
            print(f"  {label:<52} {best_us(fn):8.1f} us")
        except Exception as err:  # an engine internal changed: say so, keep the rest
            print(f"  {label:<52} n/a ({type(err).__name__}: {err})")


# ================================================================================ same bytes
_CORPUS_SOURCES = ("tests/engine/*.py", "tests/routes/test_api.py", "tests/playground/*.py",
                   "app/playground/presets.py", "app/executor/worker.py")
_EDGE_CASES = (
    "a = np.zeros(3)\nt = torch.from_numpy(a)\nu = t * 1\na[0] = 5.0\nt",
    "t = torch.ones(3)\nn = t.numpy()\nt\nn[1] = 7\nt",
    "x = torch.ones(2, requires_grad=True)\ny = x * 2\ny\ny.sum().backward()\nx.grad\nx",
    "p = nn.Parameter(torch.ones(2))\nq = torch.ones(2)\np\nq",
    "x = torch.arange(6.).reshape(2, 3)\ny = x.t()\nz = y.contiguous()\nz",
    "torch.set_default_dtype(torch.float64)\na = torch.ones(2, dtype=torch.float32)\na",
    "a = -torch.zeros(2)\nb = torch.zeros(2)\nb",
    "x = torch.ones(1).expand(5)\ny = torch.arange(10.)[::2]\nz = torch.ones(3, 1).expand(3, 4)"
    "\nz",
    "x = torch.randn(64, 64)\nv = x[:, ::2]\nw = x.t()\nv",
)


def response_corpus() -> list[str]:
    """Programs to compare two checkouts' responses on: the string constants that look like
    programs in the engine, API and playground tests, the presets and the warm-up program,
    plus this benchmark's programs and some edge cases of the view code."""
    import ast
    import glob

    programs: list[str] = []
    for pattern in _CORPUS_SOURCES:
        for path in sorted(glob.glob(str(ROOT / pattern))):
            with open(path) as source:
                tree = ast.parse(source.read())
            programs.extend(node.value for node in ast.walk(tree)
                            if isinstance(node, ast.Constant) and isinstance(node.value, str)
                            and ("torch" in node.value or "=" in node.value)
                            and len(node.value) > 8 and "def test" not in node.value)
    programs.extend([*PROGRAMS.values(), *_EDGE_CASES])
    return list(dict.fromkeys(programs))


SEEDS = (0, 3, 0)  # per program of --same-bytes / --same-data


def dump_responses(corpus_path: str, out_path: str) -> None:
    """Run the corpus with seeds 0, 3 and 0 again (a rerun: what the worker's caches keyed
    by the program's text give) through Sandbox.run + to_json of the checkout first on
    sys.path; write [status, body] per run (elapsed_ms removed)."""
    import torch

    import app
    from app.config import Settings
    from app.engine.program import Sandbox, to_json

    torch.set_num_threads(1)
    sandbox = Sandbox(Settings(deadline_s=10.0))  # far from the deadline: no timing races
    with open(corpus_path) as corpus:
        programs = json.load(corpus)
    out = []
    for code in programs:
        for seed in SEEDS:
            outcome = sandbox.run(code, seed)
            body = dict(outcome.body)
            body.pop("elapsed_ms", None)
            out.append([outcome.status, to_json(body).decode()])
    with open(out_path, "w") as dump:
        json.dump({"app": app.__file__, "responses": out}, dump)


def _dump_both(other_root: Path, programs: list[str]) -> tuple[list[Any], list[Any]]:
    """[status, body] per program and seed, from this checkout and from ``other_root``."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.json")
        with open(corpus, "w") as out:
            json.dump(programs, out)
        runs = []
        for index, root in enumerate((ROOT, other_root)):
            dump = os.path.join(work, f"responses{index}.json")
            env = {**os.environ, "PYTHONPATH": str(root)}
            runs.append((subprocess.Popen([sys.executable, __file__, "--dump-responses", corpus,
                                           dump], cwd=root, env=env), dump))
        results = []
        for process, dump in runs:
            if process.wait() != 0:
                raise RuntimeError(f"dumping responses failed ({process.returncode})")
            with open(dump) as responses:
                results.append(json.load(responses))
    for root, result in zip((ROOT, other_root), results, strict=True):
        if not Path(result["app"]).resolve().is_relative_to(Path(root).resolve()):
            raise RuntimeError(f"{result['app']} was imported instead of {root}'s app")
    mine, theirs = (result["responses"] for result in results)
    return mine, theirs


def same_bytes(other_root: Path) -> int:
    programs = response_corpus()
    mine, theirs = _dump_both(other_root, programs)
    differing = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
    print(f"{len(programs)} programs x {len(SEEDS)} runs (seeds {SEEDS}): "
          f"{len(mine) - len(differing)} of {len(mine)} "
          f"responses byte-identical between {ROOT} and {other_root}")
    for index in differing[:5]:
        print(f"  differs: {programs[index // len(SEEDS)]!r:.120}")
    return 1 if differing else 0


def _expanded(body: Any) -> Any:
    """A body with ``values_ref`` replaced by its ``shared_values`` entry (the format since
    values are shared once; a body without them is returned as it is)."""
    if not isinstance(body, dict) or "shared_values" not in body:
        return body
    shared = body.pop("shared_values")

    def expand(value: Any) -> Any:
        if isinstance(value, dict):
            return {("values" if key == "values_ref" else key):
                    (shared[item] if key == "values_ref" else expand(item))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item) for item in value]
        return value

    return expand(body)


_FLOAT32_SHOWN = ("float32", "float16", "bfloat16")  # values sent as float32 (docs/API.md)


def data_difference(a: Any, b: Any, path: str = "", as_float32: bool = False) -> str | None:
    """Where two decoded bodies differ in what a page can show, or None. Values of float32
    (float16, bfloat16) tensors are compared as float32: the same elements, whatever the
    decimal text; everything else (reprs, stats, shapes, storage, steps, notices) exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))}"
        shown32 = a.get("kind") in ("tensor", "ndarray") and a.get("dtype") in _FLOAT32_SHOWN
        for key in a:
            found = data_difference(a[key], b[key], f"{path}/{key}",
                                    shown32 and key == "values")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = data_difference(x, y, f"{path}[{index}]", as_float32)
            if found:
                return found
        return None
    if as_float32 and type(a) is float and type(b) is float:
        import numpy as np
        same = np.float32(a) == np.float32(b) and np.signbit(a) == np.signbit(b)
        return None if same else f"{path}: {a!r} vs {b!r} as float32"
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r:.60} vs {b!r:.60}"
    return None


def same_data(other_root: Path) -> int:
    """The responses of this checkout and DIR carry the same information: decoded, shared
    values put back, float32 values compared as float32; and how many bytes each wrote."""
    programs = response_corpus()
    mine, theirs = _dump_both(other_root, programs)
    differing = []
    sizes = [0, 0]
    for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        sizes[0] += len(a[1])
        sizes[1] += len(b[1])
        found = None if a[0] == b[0] else f"status {a[0]} vs {b[0]}"
        found = found or data_difference(_expanded(json.loads(a[1])),
                                         _expanded(json.loads(b[1])))
        if found:
            differing.append((index, found))
    print(f"{len(programs)} programs x {len(SEEDS)} runs (seeds {SEEDS}): "
          f"{len(mine) - len(differing)} of {len(mine)} "
          f"responses carry the same data in {ROOT} and {other_root} (float32 values as "
          f"float32); {sizes[0]:,} vs {sizes[1]:,} bytes of JSON in all")
    for index, found in differing[:5]:
        print(f"  differs: {programs[index // len(SEEDS)]!r:.100}\n    at {found}")
    return 1 if differing else 0


# ================================================================================ main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (~1 minute)")
    parser.add_argument("--seconds", type=float, help="time bound of each phase")
    parser.add_argument("--rounds", type=int,
                        help="repeat the whole matrix, alternating the order (default 3; "
                        "1 with --quick); figures are medians over the rounds")
    parser.add_argument("--before-root", type=Path,
                        help="also measure the product as found in this other checkout "
                        "(before/after a change, in the same run)")
    parser.add_argument("--same-bytes", type=Path, metavar="DIR",
                        help="check that this checkout and DIR give byte-identical responses "
                        "(status and body, elapsed_ms aside) on a corpus of programs")
    parser.add_argument("--same-data", type=Path, metavar="DIR",
                        help="check that this checkout and DIR give responses with the same "
                        "data once decoded (shared values put back, float32 values compared "
                        "as float32) on a corpus of programs")
    parser.add_argument("--dump-responses", nargs=2, metavar=("CORPUS", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--without-replacement", action="store_true",
                        help="also measure the product with its workers never replaced")
    parser.add_argument("--fresh", action="store_true",
                        help="make every request's program text new (a numbered comment), so "
                        "no cache keyed by the text answers it")
    parser.add_argument("--profile-worker", action="store_true",
                        help="profile Sandbox.run in this process instead of the servers")
    args = parser.parse_args()
    if args.dump_responses:
        dump_responses(*args.dump_responses)
        return 0
    if args.same_bytes:
        return same_bytes(args.same_bytes)
    if args.same_data:
        return same_data(args.same_data)
    if args.profile_worker:
        sys.path.insert(0, str(args.before_root or ROOT))
        replacement_cost()
        profile_worker(100 if args.quick else 300)
        return 0
    if args.quick:
        plan = Plan(latency_requests=300, latency_seconds=3, load_requests=20_000,
                    load_seconds=4, warmup=30, rounds=1)
    else:
        plan = Plan(latency_requests=1_000, latency_seconds=6, load_requests=100_000,
                    load_seconds=6, warmup=100, rounds=3)
    if args.seconds:
        plan.latency_seconds = plan.load_seconds = args.seconds
    if args.rounds:
        plan.rounds = args.rounds
    print(_machine())
    if args.fresh:
        print("--fresh: every request's program text is new (nothing cached by text)")
    print(f"servers: uvicorn {' '.join(SERVER_OPTIONS)}; {plan.rounds} round(s) of: latency, "
          f"1 connection, up to {plan.latency_requests} requests / {plan.latency_seconds:g} s; "
          f"load, {CONNECTIONS} connections, up to {plan.load_seconds:g} s", flush=True)
    loop = _new_loop()
    try:
        results = loop.run_until_complete(run_all(plan, args.before_root, args.fresh,
                                                  args.without_replacement))
    finally:
        loop.close()
    names = ["product", "baseline"] + (["before"] if args.before_root else []) \
        + ([NO_REPLACEMENT] if args.without_replacement else [])
    report(results, names)
    print(f"after the run: {_machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
