"""Cases that need the real app and its worker pool (the session ``client``): the parent kills
a worker stuck in one long C call, a worker that dies (native crash, memory) is replaced and
the server keeps serving, the web process refuses malformed requests with a 4xx, the status
codes of the corpus hold over HTTP, and every worker runs under its own OS limits. Every test
checks that the canary is untouched."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import MiB, Settings
from app.engine.program import from_json
from app.executor.base import Job
from app.executor.local import LocalExecutor
from app.jobs import make_executor
from tests.security.conftest import Canary
from tests.security.corpus import CASES

# One C call that never returns to the interpreter: list.sort compares a million tensors from
# C (5 to 12 s on one core, by machine), so the cooperative deadline never runs and only the
# parent's kill stops it. Any single long call would do here.
LONG_SINGLE_CALL = "x = [torch.ones(1), torch.zeros(1)] * 500000\nx.sort()"
QUICK = "torch.arange(6).reshape(2, 3).sum()"


def post(client: TestClient, code: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/eval", json={"code": code, **extra})
    assert response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json()


def assert_quick_result(view: dict[str, Any]) -> None:
    """QUICK's answer is what torch itself computes: a 0-d int64 tensor holding 15."""
    expected = torch.arange(6).reshape(2, 3).sum()
    assert (view["kind"], view["dtype"], view["shape"]) == (
        "tensor", str(expected.dtype).removeprefix("torch."), list(expected.shape))
    assert view["values"] == expected.item() == 15


def assert_serving(client: TestClient) -> None:
    """The next request succeeds, and the pool gets back to full strength."""
    status, body = post(client, QUICK)
    assert (status, body["ok"]) == (200, True), body
    assert_quick_result(body["result"])
    executor = client.app.state.executor  # type: ignore[attr-defined]
    settings: Settings = executor.settings
    deadline = time.monotonic() + 60
    while executor.capacity().workers < settings.workers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert executor.capacity().workers == settings.workers


# One case of each kind, answered by the web process (parser) or by a worker (run time).
HTTP_CASES = [case for case in CASES if case.id in {
    "subclasses", "open-read", "torch-os", "torch-load", "tensor-apply", "percent-format-variable",
    "nested-brackets", "deep-unary", "huge-source", "bidi-in-comment", "zeros-huge",
    "collate-fn-torch-ones", "float-in-range", "len-huge-shuffle", "numpy-object-array",
}]


def test_http_cases_cover_each_kind() -> None:
    assert len(HTTP_CASES) == 15
    assert {(case.status, case.type) for case in HTTP_CASES} >= {
        (400, "ForbiddenError"), (400, "SyntaxError"), (413, "LimitError"), (200, "LimitError")}


@pytest.mark.parametrize("case", HTTP_CASES, ids=[case.id for case in HTTP_CASES])
def test_corpus_over_http(case: Any, client: TestClient, intact: Canary) -> None:
    status, body = post(client, intact.program(case.code))
    assert body["ok"] is False
    assert (status, body["error"]["type"]) == (case.status, case.type), body["error"]
    assert case.says in body["error"]["message"]
    assert intact.token not in json.dumps(body)


def test_a_single_long_c_call_is_killed_at_the_deadline(intact: Canary) -> None:
    """A pool of its own with a short deadline: the sort takes 5 to 12 s depending on the
    machine, so against the default 5 s deadline a fast machine finished it in time."""
    deadline_s, kill_grace_s = 0.5, 0.5

    async def scenario(executor: LocalExecutor) -> None:
        started = time.monotonic()
        status, body = await run_in_pool(executor, LONG_SINGLE_CALL, deadline_s)
        elapsed = time.monotonic() - started
        assert status == 200 and body["ok"] is False, body
        assert body["error"]["type"] == "TimeoutError"
        assert "was stopped; its sandbox process was replaced" in body["error"]["message"]
        assert elapsed < deadline_s + kill_grace_s + 3
        status, body = await run_in_pool(executor, QUICK, deadline_s=30)
        assert (status, body["ok"]) == (200, True), body
        assert_quick_result(body["result"])

    run_pool(scenario, deadline_s=deadline_s, kill_grace_s=kill_grace_s)


def test_a_worker_that_crashes_natively_is_replaced(client: TestClient, intact: Canary) -> None:
    """A native crash (simulated: SIGSEGV sent to the worker mid-program; the storage tricks
    that crash torch for real are refused by the policy) ends that worker only."""
    executor = client.app.state.executor  # type: ignore[attr-defined]
    replies: list[tuple[int, dict[str, Any]]] = []
    sender = threading.Thread(target=lambda: replies.append(post(client, LONG_SINGLE_CALL)))
    sender.start()
    pid = None
    deadline = time.monotonic() + 10
    while pid is None and time.monotonic() < deadline:
        running = [j.worker for j in list(executor._running["interactive"])
                   if j.worker is not None]
        pid = running[0].process.pid if running else None
        time.sleep(0.02)
    assert pid is not None, "the program never reached a worker"
    time.sleep(0.3)  # inside the long call
    os.kill(pid, signal.SIGSEGV)
    sender.join(30)
    (status, body), = replies
    assert status == 200 and body["ok"] is False
    assert body["error"]["type"] == "WorkerCrash"
    assert "native code crashed (SIGSEGV)" in body["error"]["message"]
    assert_serving(client)


def run_pool(scenario: Callable[[LocalExecutor], Coroutine[Any, Any, None]],
             **overrides: Any) -> None:
    """Runs ``scenario`` against a pool of its own (one worker, the given settings)."""
    async def main() -> None:
        executor = make_executor(Settings(workers=1, **overrides))
        await executor.start()
        try:
            await scenario(executor)
        finally:
            await executor.close()

    # A thread of its own: browser tests (Playwright's sync API) may leave an event loop
    # running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, main()).result()


async def run_in_pool(executor: LocalExecutor, code: str, deadline_s: float
                      ) -> tuple[int, dict[str, Any]]:
    result = await executor.run(Job("eval", {"code": code, "seed": 0, "device": "auto"},
                                    deadline_s))
    return result.status, from_json(result.body)  # shared values put back (docs/API.md)


# Python lists are not tensors: the budget does not count them, only RLIMIT_AS stops them.
# 250 lists of 8 MB are 2 GB: far past the small headroom the pool below grants, yet small
# enough that a worker WITHOUT its OS limits finishes the program (and so fails the test)
# instead of taking the machine down.
PYTHON_MEMORY_HOG = "ys = [[0] * 10**6 for i in range(250)]\nlen(ys)"


def test_python_memory_exhaustion_stops_the_program_not_the_server(intact: Canary) -> None:
    """The address-space limit, and nothing else, stops the program: a worker gets 256 MB of
    headroom and 60 s, so only RLIMIT_AS can end a 2 GB program in time. (With the default
    4 GB headroom, faulting 4 GB in takes longer than the 5 s deadline on a small machine, so
    the deadline would win and hide a missing limit.) MemoryError inside the program becomes
    a clean LimitError; the same worker then answers the next program."""
    async def scenario(executor: LocalExecutor) -> None:
        worker = next(iter(executor._workers))
        status, body = await run_in_pool(executor, PYTHON_MEMORY_HOG, deadline_s=60)
        assert (status, body["ok"]) == (200, False), body
        assert body["error"]["type"] == "LimitError", body["error"]
        assert body["error"]["message"] == "the program ran out of memory"
        assert body["error"]["line"] == 1
        status, body = await run_in_pool(executor, QUICK, deadline_s=60)
        assert (status, body["ok"]) == (200, True), body
        assert_quick_result(body["result"])
        assert executor._workers == {worker} and worker.process.is_alive()

    run_pool(scenario, worker_memory_bytes=256 * MiB, deadline_s=60)


def read_limits(pid: int) -> dict[str, tuple[str, str]]:
    """``/proc/<pid>/limits`` as {name: (soft, hard)}."""
    limits = {}
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]:
        # "Max open files            42                   42                   files"
        name, soft, hard = line[:26].strip(), *line[26:].split()[:2]
        limits[name] = (soft, hard)
    return limits


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="needs Linux /proc")
def test_every_worker_runs_under_its_own_os_limits(client: TestClient, intact: Canary) -> None:
    """What apply_os_limits sets, read back from the kernel for each live worker: no core
    dumps, no file writes, a few descriptors, and an address space of what torch used at
    start-up plus worker_memory_bytes, soft and hard alike (a limit inherited from the test
    runner would be soft only)."""
    executor = client.app.state.executor  # type: ignore[attr-defined]
    settings: Settings = executor.settings
    assert_serving(client)  # also waits until the pool is at full strength
    workers = list(executor._workers)
    assert len(workers) == settings.workers
    for worker in workers:
        pid = worker.process.pid
        limits = read_limits(pid)
        assert limits["Max core file size"] == ("0", "0")
        assert limits["Max file size"] == ("0", "0")
        soft_files, hard_files = limits["Max open files"]
        open_now = len(os.listdir(f"/proc/{pid}/fd"))
        assert soft_files == hard_files and open_now <= int(hard_files) <= open_now + 64
        soft_as, hard_as = limits["Max address space"]
        assert soft_as == hard_as != "unlimited"
        status = Path(f"/proc/{pid}/status").read_text()
        peak = int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("VmPeak:"))) * 1024
        # The cap is the address space at start-up (no more than the peak since) plus the
        # configured headroom.
        assert settings.worker_memory_bytes < int(hard_as) <= settings.worker_memory_bytes + peak


def test_a_refused_program_never_reaches_a_worker(client: TestClient, intact: Canary) -> None:
    executor = client.app.state.executor  # type: ignore[attr-defined]
    programs = sum(worker.programs for worker in executor._workers)
    status, body = post(client, intact.program("open('{canary}').read()"))
    assert status == 400 and body["error"]["type"] == "ForbiddenError"
    assert sum(worker.programs for worker in executor._workers) == programs


@pytest.mark.parametrize(("name", "content", "statuses"), [
    ("deeply-nested-json", b'{"code": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {400, 422}),
    ("deeply-nested-object", b'{"code": "1", "x": ' + b'{"a":' * 30_000 + b"1" + b"}" * 30_000
     + b"}", {400, 422}),
    ("body-too-large", json.dumps({"code": "#" * 300_000}).encode(), {413}),
    ("not-json", b"code=torch.os", {422}),
    ("invalid-utf8", b'{"code": "\xff\xfe"}', {400, 422}),
    ("code-not-a-string", b'{"code": ["torch.os"]}', {422}),
    ("unknown-field", b'{"code": "1", "repeat": 1000}', {422}),
    ("seed-out-of-range", b'{"code": "1", "seed": -1}', {422}),
    ("device-unknown", b'{"code": "1", "device": "meta"}', {422}),
    ("no-code", b"{}", {422}),
    ("nul-in-code", b'{"code": "x = 1\\u0000"}', {400}),
])
def test_malformed_requests_are_4xx(name: str, content: bytes, statuses: set[int],
                                    client: TestClient, intact: Canary) -> None:
    response = client.post("/eval", content=content,
                           headers={"content-type": "application/json"})
    assert response.status_code in statuses, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    response.json()
