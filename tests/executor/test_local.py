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
