"""The run registry against a scripted executor: the test decides which events arrive and
when, so live streaming, result mapping and eviction are checked step by step."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.callers import Caller
from app.config import Settings
from app.executor.base import Capacity, Job, JobResult
from app.training.runs import RunNotFoundError, RunRegistry, summary_from_result
from app.training.spec import TrainSpec

SPEC = TrainSpec.model_validate({"dataset": {"name": "moons", "n_samples": 200}, "epochs": 2})
FINISHED = {"status": "finished", "reason": None, "hint": None}


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


@dataclass
class ScriptedHandle:
    id: str
    events: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    done: asyncio.Future[JobResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    cancelled: bool = False

    def send(self, event: dict[str, Any]) -> None:
        self.events.put_nowait(event)

    def end(self, body: dict[str, Any] | bytes) -> None:
        self.events.put_nowait(None)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.done.set_result(JobResult(200, data))


class ScriptedExecutor:
    def __init__(self) -> None:
        self.handles: list[ScriptedHandle] = []
        self.broken = False

    async def submit(self, job: Job) -> ScriptedHandle:
        handle = ScriptedHandle(f"s{len(self.handles)}")
        self.handles.append(handle)
        return handle

    async def result(self, handle: ScriptedHandle) -> JobResult:
        return await handle.done

    async def events(self, handle: ScriptedHandle) -> AsyncIterator[dict[str, Any]]:
        while (event := await handle.events.get()) is not None:
            if self.broken:
                raise ConnectionResetError("worker channel closed")
            yield event

    def cancel(self, handle: ScriptedHandle) -> None:
        handle.cancelled = True

    def position(self, handle: ScriptedHandle) -> None:
        return None

    def capacity(self) -> Capacity:
        return Capacity(workers=1, busy=0, queued=0, max_queue=1)

    async def close(self) -> None: ...

    async def run(self, job: Job) -> JobResult:
        return await self.result(await self.submit(job))


def registry(**limits: Any) -> tuple[RunRegistry, ScriptedExecutor]:
    executor = ScriptedExecutor()
    settings = Settings(**{"train_max_runs_per_client": 10,
                           **limits})
    return RunRegistry(executor, settings), executor


async def settle() -> None:
    for _ in range(5):  # let the driver task and readers run
        await asyncio.sleep(0)


def test_stream_replays_then_follows_live_events() -> None:
    async def scenario() -> None:
        reg, ex = registry()
        run = await reg.create(SPEC, Caller("anonymous", "c1"))
        handle = ex.handles[0]
        handle.send({"type": "start", "device": "cpu", "notices": []})
        await settle()
        assert run.status == "running"

        seen: list[tuple[int, str]] = []

        async def read() -> None:
            async for item in reg.stream(run.id):
                assert item is not None
                seen.append(item[:2])

        reader = asyncio.create_task(read())
        await settle()
        assert seen == [(0, "start")]  # the history
        handle.send({"type": "step", "total_iteration": 1, "loss": 0.5})
        await settle()
        assert seen[-1] == (1, "step")  # live, before the run ends
        assert not reader.done()
        handle.end(FINISHED)
        await asyncio.wait_for(reader, 1)
        assert seen[-1] == (2, "end")
        assert run.view()["metrics"]["steps"]["loss"] == [0.5]

    run_async(scenario())


def test_stream_sends_heartbeats_while_idle() -> None:
    async def scenario() -> None:
        reg, ex = registry()
        run = await reg.create(SPEC, Caller("anonymous", "c1"))
        stream = reg.stream(run.id, heartbeat_s=0.01)
        assert await anext(stream) is None
        ex.handles[0].end(FINISHED)
        assert (await anext(stream))[1] == "end"

    run_async(scenario())


@pytest.mark.parametrize(
    ("body", "cancel_requested", "status", "words"),
    [
        ({"status": "diverged", "reason": "loss nan"}, False, "diverged", "loss nan"),
        ({"ok": False, "error": {"type": "TimeoutError", "message": "ran longer than 63 s"}},
         False, "timed_out", "ran longer than 63 s"),
        ({"ok": False, "error": {"type": "CancelledError", "message": "the job was cancelled "
                                 "before it started"}}, False, "cancelled", "before it started"),
        ({"ok": False, "error": {"type": "WorkerCrash", "message": "it was killed",
                                 "hint": "use smaller tensors"}}, False, "failed", "it was killed"),
        ({"ok": False, "error": {"type": "WorkerCrash", "message": "it was killed"}},
         True, "cancelled", "it was killed"),
        (b"not json", False, "failed", "no summary"),
    ],
)
def test_results_map_to_a_run_status(body: Any, cancel_requested: bool, status: str,
                                     words: str) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    summary = summary_from_result(JobResult(200, data), cancel_requested)
    assert summary["status"] == status
    assert words in summary["reason"]


def test_cancel_reaches_the_executor_once() -> None:
    async def scenario() -> None:
        reg, ex = registry()
        run = await reg.create(SPEC, Caller("anonymous", "c1"))
        assert reg.cancel(run.id) is run and run.cancel_requested
        assert ex.handles[0].cancelled
        ex.handles[0].end({"ok": False, "error": {"type": "WorkerCrash", "message": "gone"}})
        await settle()
        assert run.status == "cancelled"

    run_async(scenario())


def test_finished_runs_beyond_the_kept_number_are_dropped_oldest_first() -> None:
    async def scenario() -> None:
        reg, ex = registry(train_runs_kept=2)
        runs = [await reg.create(SPEC, Caller("anonymous", "c1")) for _ in range(4)]
        for handle in ex.handles:
            handle.end(FINISHED)
        await settle()
        for old in runs[:2]:
            with pytest.raises(RunNotFoundError):
                reg.get(old.id)
        assert [reg.get(r.id).status for r in runs[2:]] == ["finished", "finished"]

    run_async(scenario())


def test_an_executor_failure_fails_the_run_not_the_server() -> None:
    async def scenario() -> None:
        reg, ex = registry()
        run = await reg.create(SPEC, Caller("anonymous", "c1"))
        ex.broken = True
        ex.handles[0].send({"type": "start"})
        await settle()
        assert run.status == "failed"
        assert "worker channel closed" in run.summary["reason"]

    run_async(scenario())


def test_close_cancels_what_is_running() -> None:
    async def scenario() -> None:
        reg, ex = registry()
        run = await reg.create(SPEC, Caller("anonymous", "c1"))
        await settle()
        await reg.close()
        assert ex.handles[0].cancelled
        assert run.status == "cancelled" and run.history[-1][0] == "end"

    run_async(scenario())
