"""The local worker pool running real programs (the "eval" handler): a long C call is killed
at the deadline, a crash mid-program is contained, the interpreter's own deadline names the
line, programs share no state. The protocol itself is tests/executor/test_conformance.py.
Each test uses its own small pool (one worker) with tight settings."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from app.config import Settings
from app.executor.base import Job, UnknownJobError
from app.executor.local import LocalExecutor
from app.jobs import make_executor

SLOW_SINGLE_CALL = "x = torch.randn(3000, 3000)\ny = x @ x @ x @ x"


def run(coroutine_factory: Callable[[LocalExecutor], Coroutine[Any, Any, Any]],
        **overrides: Any) -> Any:
    settings = Settings(workers=1, **overrides)

    async def main() -> Any:
        executor = make_executor(settings)
        await executor.start()
        try:
            return await coroutine_factory(executor)
        finally:
            await executor.close()

    # A thread of its own: browser tests (Playwright's sync API) may leave an event loop
    # running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def eval_job(code: str, deadline_s: float = 5.0) -> Job:
    return Job("eval", {"code": code, "seed": 0, "device": "auto"}, deadline_s)


async def body_of(executor: LocalExecutor, code: str, deadline_s: float = 5.0
                  ) -> tuple[int, dict[str, Any]]:
    result = await executor.run(eval_job(code, deadline_s))
    return result.status, json.loads(result.body)


def test_a_single_long_c_call_is_killed_at_the_deadline_and_the_worker_replaced() -> None:
    async def scenario(executor: LocalExecutor) -> None:
        first_pid = next(iter(executor._workers)).process.pid
        started = time.monotonic()
        status, body = await body_of(executor, SLOW_SINGLE_CALL, deadline_s=0.3)
        waited = time.monotonic() - started
        assert status == 200 and body["ok"] is False
        assert body["error"]["type"] == "TimeoutError"
        assert "deadline_s" in body["error"]["message"]
        assert waited < 3.0
        status, body = await body_of(executor, "torch.ones(2).sum()")
        assert status == 200 and body["result"]["values"] == 2.0
        assert next(iter(executor._workers)).process.pid != first_pid

    run(scenario, kill_grace_s=0.2, max_call_flops=10**13)


def test_a_crashed_worker_gives_a_clear_error_and_is_replaced() -> None:
    async def scenario(executor: LocalExecutor) -> None:
        worker = next(iter(executor._workers))
        # One long C call, so the program is still running when the signal arrives.
        task = asyncio.create_task(body_of(executor, SLOW_SINGLE_CALL, deadline_s=30))
        await asyncio.sleep(0.5)
        os.kill(worker.process.pid, signal.SIGSEGV)  # what a native fault looks like
        status, body = await task
        assert status == 200 and body["error"]["type"] == "WorkerCrash"
        assert "SIGSEGV" in body["error"]["message"]
        status, body = await body_of(executor, "1 + 1")
        assert body["result"]["value"] == 2

    run(scenario, max_call_flops=10**13)


def test_the_cooperative_deadline_reports_the_running_line() -> None:
    """max_steps is out of reach, so the interpreter's own deadline check is the only thing
    that can stop the loop: a TimeoutError with the line (the parent's kill has none)."""
    async def scenario(executor: LocalExecutor) -> None:
        status, body = await body_of(executor, "x = 0\nwhile True:\n    x = x + 1", 0.5)
        assert status == 200
        assert body["error"]["type"] == "TimeoutError", body["error"]
        assert "was stopped" not in body["error"]["message"]  # the kill path's wording
        assert "setting deadline_s" in body["error"]["message"]
        assert body["error"]["line"] in (2, 3)

    run(scenario, deadline_s=0.5, max_steps=10**9)


def test_state_does_not_leak_between_programs() -> None:
    async def scenario(executor: LocalExecutor) -> None:
        await body_of(executor, "torch.set_default_dtype(torch.float64)\nsecret = 42")
        _, body = await body_of(executor, "torch.ones(1).dtype")
        assert body["result"]["value"] == "float32"
        _, body = await body_of(executor, "secret")
        assert body["error"]["type"] == "NameError"
        _, first = await body_of(executor, "torch.randn(3)")
        _, second = await body_of(executor, "torch.randn(3)")
        assert first["result"]["values"] == second["result"]["values"]

    run(scenario)


def test_a_programs_job_is_forgotten_once_its_result_is_read() -> None:
    """Hundreds of programs a second must not pile up in the job table (each up to 20 kB)."""
    async def scenario(executor: Any) -> None:
        handle = await executor.submit(eval_job("1 + 1"))
        assert json.loads((await executor.result(handle)).body)["result"]["value"] == 2
        assert handle.id not in executor._jobs
        with pytest.raises(UnknownJobError):
            await executor.result(handle)

    run(scenario)


def test_a_program_that_finds_a_worker_idle_runs_without_a_queue_or_a_task() -> None:
    """The fast path: nothing is left behind (no job entry, no driving task), the worker is
    idle again and the lane's numbers are kept."""
    async def scenario(executor: LocalExecutor) -> None:
        tasks_before = len(asyncio.all_tasks())
        status, body = await body_of(executor, "torch.ones(2) * 2")
        assert status == 200 and body["result"]["values"] == [2.0, 2.0]
        assert executor._jobs == {} and not executor._tasks
        assert len(asyncio.all_tasks()) == tasks_before
        assert len(executor._idle) == 1 and not executor._running["interactive"]
        assert executor._average_s["interactive"] is not None

    run(scenario)


def test_when_every_worker_is_busy_programs_wait_their_turn_in_order() -> None:
    async def scenario(executor: LocalExecutor) -> None:
        finished: list[int] = []

        async def one(n: int) -> None:
            status, body = await body_of(executor, f"x = torch.randn(600, 600)\n"
                                                   f"y = x @ x @ x\n{n}")
            assert status == 200 and body["result"]["value"] == n
            finished.append(n)

        first = asyncio.create_task(one(0))
        await asyncio.sleep(0)  # the first takes the only worker
        assert not executor._idle
        waiting = [asyncio.create_task(one(n)) for n in (1, 2, 3)]
        await asyncio.sleep(0)
        assert len(executor._queues["interactive"]) == 3
        await asyncio.gather(first, *waiting)
        assert finished == [0, 1, 2, 3]

    run(scenario)


def test_a_caller_cancelled_mid_program_costs_its_worker_not_the_pool() -> None:
    async def scenario(executor: LocalExecutor) -> None:
        first_pid = next(iter(executor._workers)).process.pid
        task = asyncio.create_task(body_of(executor, SLOW_SINGLE_CALL, deadline_s=30))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not executor._running["interactive"]
        for _ in range(100):  # the replacement starts in the background
            if executor._idle:
                break
            await asyncio.sleep(0.1)
        status, body = await body_of(executor, "1 + 1")
        assert status == 200 and body["result"]["value"] == 2
        assert next(iter(executor._workers)).process.pid != first_pid

    run(scenario, max_call_flops=10**13)
