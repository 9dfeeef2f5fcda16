"""The Executor conformance suite: every backend in app.jobs.BACKENDS must pass it.

It uses only the protocol (app/executor/base.py) and job handlers of its own
(jobs_for_tests.py): submit/result/events, cancelling queued and running jobs, capacity,
the deadline kill, recovery from a native crash, a full queue, a clean replacement worker,
and the fair queue (lanes, round-robin between owners, start estimates, the class of 30).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

import jobs_for_tests
import pytest
from prometheus_client import REGISTRY

from app.config import Settings
from app.executor.base import Executor, Job, JobHandle, QueueFullError
from app.jobs import BACKENDS

TEST = jobs_for_tests.__name__
HANDLERS = {kind: f"{TEST}:{kind}_job"
            for kind in ("sleep", "stubborn", "crash", "mark", "failing", "controls")}


# Settings a backend needs on the test machine: the Ray tests share one local cluster of two
# CPUs (ray.init(num_cpus=2)), where up to three actors must fit at once.
BACKEND_SETTINGS: dict[str, dict[str, Any]] = {"ray": {"ray_cpus_per_actor": 0.5}}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")  # tests/executor/conftest.py
    return str(request.param)


def run(backend: str, scenario: Callable[[Executor], Coroutine[Any, Any, Any]],
        **overrides: Any) -> Any:
    settings = Settings(**{"workers": 1, **BACKEND_SETTINGS.get(backend, {}), **overrides})

    async def main() -> Any:
        executor = BACKENDS[backend](settings, HANDLERS)
        await executor.start()
        try:
            return await scenario(executor)
        finally:
            await executor.close()

    # A thread of its own: browser tests (Playwright's sync API) may leave an event loop
    # running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def job(kind: str, deadline_s: float = 10.0, lane: str = "interactive", owner: str = "",
        expected_s: float | None = None, **payload: Any) -> Job:
    return Job(kind, payload, deadline_s, lane=lane,  # type: ignore[arg-type]
               owner=owner, expected_s=expected_s)


async def body(executor: Executor, handle: JobHandle) -> dict[str, Any]:
    result = await executor.result(handle)
    assert result.status == 200
    return dict(json.loads(result.body))


def test_submit_result_and_events_in_order(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        assert executor.ready()
        handle = await executor.submit(job("sleep", s=0, ticks=3, tag="a"))
        events = [event async for event in executor.events(handle)]
        assert events == [{"type": "tick", "n": 0}, {"type": "tick", "n": 1},
                          {"type": "tick", "n": 2}]
        assert (await body(executor, handle))["tag"] == "a"
        assert executor.position(handle) is None

    run(backend, scenario)


def test_a_queued_job_is_cancelled_without_running(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        running = await executor.submit(job("sleep", s=5, lane="batch", owner="a"))
        queued = await executor.submit(job("sleep", s=0, lane="batch", owner="b"))
        await asyncio.sleep(0.1)
        where = executor.position(queued)
        assert where is not None and where.position == 1
        executor.cancel(queued)
        started = time.monotonic()
        cancelled = await body(executor, queued)
        assert time.monotonic() - started < 0.5
        assert cancelled["error"]["type"] == "CancelledError"
        assert "before it started" in cancelled["error"]["message"]
        # A running job whose handler checks should_stop ends by itself, cleanly.
        executor.cancel(running)
        stopped = await asyncio.wait_for(body(executor, running), 2)
        assert stopped["stopped"] is True
        assert executor.capacity().queued == 0

    run(backend, scenario, workers=2, train_workers=1)


def test_a_running_job_that_ignores_cancel_loses_its_worker(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        first = await body(executor, await executor.submit(job("mark", mark="x")))
        handle = await executor.submit(job("stubborn", s=30))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        executor.cancel(handle)
        result = await asyncio.wait_for(body(executor, handle), 5)
        assert result["error"]["type"] == "CancelledError"
        assert time.monotonic() - started < 0.2 + 2.0  # cancel_grace_s, then the kill
        after = await body(executor, await executor.submit(job("mark", mark="y")))
        assert after["pid"] != first["pid"] and after["found"] == []

    run(backend, scenario, cancel_grace_s=0.2)


def test_capacity_counts_workers_busy_and_queued(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        idle = executor.capacity()
        assert (idle.workers, idle.busy, idle.queued) == (2, 0, 0)
        handles = [await executor.submit(job("sleep", s=5, lane="batch", owner=str(i)))
                   for i in range(3)]
        await asyncio.sleep(0.2)
        busy = executor.capacity()
        # One batch slot (train_workers=1): one runs, two wait, one worker stays free.
        assert (busy.busy, busy.queued) == (1, 2)
        for handle in handles:
            executor.cancel(handle)
        for handle in handles:
            await executor.result(handle)

    run(backend, scenario, workers=2, train_workers=1)


def test_the_deadline_kills_and_replaces_the_worker(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        before = await body(executor, await executor.submit(job("mark", mark="x")))
        started = time.monotonic()
        timed_out = await body(executor, await executor.submit(
            job("stubborn", deadline_s=0.3, s=30)))
        assert timed_out["error"]["type"] == "TimeoutError"
        assert "deadline_s" in timed_out["error"]["message"]
        assert time.monotonic() - started < 3.0
        after = await body(executor, await executor.submit(job("mark", mark="y")))
        assert after["pid"] != before["pid"]

    run(backend, scenario, kill_grace_s=0.2)


def test_a_native_crash_is_a_result_and_the_worker_is_replaced(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        restarts = REGISTRY.get_sample_value("playground_worker_restarts_total",
                                             {"reason": "crash"}) or 0.0
        crashed = await body(executor, await executor.submit(job("crash")))
        assert REGISTRY.get_sample_value("playground_worker_restarts_total",
                                         {"reason": "crash"}) == restarts + 1
        assert crashed["error"]["type"] == "WorkerCrash"
        assert "SIGSEGV" in crashed["error"]["message"]
        again = await body(executor, await executor.submit(job("sleep", s=0, tag="ok")))
        assert again["tag"] == "ok"
        # A handler's Python bug costs neither the worker nor the caller an exception.
        failed = await body(executor, await executor.submit(job("failing")))
        assert failed["error"]["type"] == "InternalError"
        assert not executor.capacity().busy

    run(backend, scenario)


def test_a_replaced_worker_is_clean(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        first = await body(executor, await executor.submit(job("mark", mark="secret")))
        second = await body(executor, await executor.submit(job("mark", mark="two")))
        assert second["pid"] == first["pid"] and second["found"] == ["secret"]
        await executor.result(await executor.submit(job("crash")))
        fresh = await body(executor, await executor.submit(job("mark", mark="three")))
        assert fresh["pid"] != first["pid"] and fresh["found"] == []

    run(backend, scenario)


@pytest.mark.parametrize(("lane", "setting"), [("interactive", "max_queue"),
                                               ("batch", "train_max_queued")])
def test_a_full_queue_is_refused_with_retry_after(backend: str, lane: str, setting: str
                                                  ) -> None:
    async def scenario(executor: Executor) -> None:
        busy = await executor.submit(job("sleep", s=5, lane=lane))
        await asyncio.sleep(0.1)
        waiting = await executor.submit(job("sleep", s=0, lane=lane, tag="w"))
        with pytest.raises(QueueFullError) as refused:
            await executor.submit(job("sleep", s=0, lane=lane))
        assert refused.value.retry_after_s >= 1
        assert setting in str(refused.value)
        executor.cancel(busy)
        assert (await body(executor, waiting))["tag"] == "w"

    run(backend, scenario, max_queue=1, train_max_queued=1)


def test_programs_never_wait_behind_training_runs(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        runs = [await executor.submit(job("sleep", s=3, lane="batch", owner=f"s{i}"))
                for i in range(5)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        program = await body(executor, await executor.submit(job("sleep", s=0, tag="p")))
        assert program["tag"] == "p"
        assert time.monotonic() - started < 0.5
        for handle in runs:
            executor.cancel(handle)
        for handle in runs:
            await executor.result(handle)

    run(backend, scenario, workers=2, train_workers=1)


def test_one_owner_with_five_runs_does_not_starve_the_others(backend: str) -> None:
    async def scenario(executor: Executor) -> list[str]:
        handles = [await executor.submit(job("sleep", s=0.05, lane="batch", owner="alice",
                                             tag=f"alice{i}")) for i in range(5)]
        handles += [await executor.submit(job("sleep", s=0.05, lane="batch", owner=name,
                                              tag=name)) for name in ("bob", "carol")]
        results = [await body(executor, handle) for handle in handles]
        return [r["tag"] for r in sorted(results, key=lambda r: r["started"])]

    order = run(backend, scenario, workers=2, train_workers=1)
    # alice0 started at once; then owners take turns: alice, bob, carol, alice, ...
    assert order == ["alice0", "alice1", "bob", "carol", "alice2", "alice3", "alice4"]


def test_queued_runs_get_positions_and_honest_start_estimates(backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        handles = [await executor.submit(job("sleep", s=1, lane="batch", owner=f"s{i}",
                                             expected_s=1.0)) for i in range(4)]
        await asyncio.sleep(0.1)
        positions = [executor.position(h) for h in handles]
        assert positions[0] is None  # running
        assert [p.position for p in positions[1:] if p] == [1, 2, 3]
        estimates = [p.estimated_start_s for p in positions[1:] if p]
        # One slot, 1 s per run: the first waiting run starts when the running one ends.
        assert estimates == pytest.approx([0.9, 1.9, 2.9], abs=0.15)
        first_queued = time.monotonic()
        await executor.result(handles[1])
        # It really started about when estimated (then ran 1 s).
        assert time.monotonic() - first_queued == pytest.approx(1.9, abs=0.4)
        for handle in handles[2:]:
            executor.cancel(handle)
            await executor.result(handle)

    run(backend, scenario, workers=2, train_workers=1)


def test_a_class_of_30_finishes_when_the_queue_math_says(backend: str) -> None:
    """30 students each start one run of d seconds; with T training workers the last one ends
    after ceil(30 / T) * d (plus dispatch overhead); meanwhile programs answer at once."""
    d, students, workers, slots = 0.1, 30, 3, 2

    async def scenario(executor: Executor) -> tuple[float, float]:
        started = time.monotonic()
        runs = [await executor.submit(job("sleep", s=d, lane="batch", owner=f"student{i}"))
                for i in range(students)]
        program_started = time.monotonic()
        await executor.result(await executor.submit(job("sleep", s=0)))
        program_s = time.monotonic() - program_started
        for handle in runs:
            await executor.result(handle)
        return time.monotonic() - started, program_s

    total_s, program_s = run(backend, scenario, workers=workers, train_workers=slots)
    bound = math.ceil(students / slots) * d
    assert bound <= total_s < bound * 1.5 + 0.5
    assert program_s < 0.5


def test_controls_reach_the_job_in_order_even_when_sent_while_it_was_queued(
        backend: str) -> None:
    async def scenario(executor: Executor) -> None:
        busy = await executor.submit(job("sleep", s=0.5))  # holds the only worker
        handle = await executor.submit(job("controls", s=10))
        assert executor.control(handle, "pause") and executor.control(handle, "step")
        events = executor.events(handle)
        assert await anext(events) == {"type": "waiting"}  # it runs and listens now
        # A burst, as a student's clicks make: Ray runs an actor's calls on several threads,
        # and two of these once arrived swapped.
        burst = [f"c{i}" for i in range(30)]
        for command in ["resume", *burst, "done"]:
            assert executor.control(handle, command)
        assert (await body(executor, handle))["controls"] == [
            "pause", "step", "resume", *burst, "done"]
        assert not executor.control(handle, "pause")  # ended: nothing is sent
        await body(executor, busy)

    run(backend, scenario)
