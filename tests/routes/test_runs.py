"""The training-run API: POST /runs, GET /runs/{id}, GET /runs/{id}/events (SSE), DELETE.

The executor here is ThreadExecutor, a test double that runs ``run_training_job`` in a thread
of this process: the routes and the registry are what is under test. The real worker pool is
exercised by the last test, through the app's own LocalExecutor.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.errors import install_error_handlers
from app.executor.base import Capacity, Job, JobHandle, JobResult, QueueFullError, QueuePosition
from app.routes import runs
from app.training.job import run_training_job
from app.training.schemas import RunView

SMALL = {"dataset": {"name": "moons", "n_samples": 200}, "model": {"hidden": [8]},
         "epochs": 3, "batch_size": 16}
# Long enough to be caught running (thousands of steps), cancelled in tests well before.
LONG = {**SMALL, "epochs": 1000}


@dataclass
class ThreadJob:
    job: Job
    events: asyncio.Queue[dict[str, Any] | None]
    done: asyncio.Future[JobResult]
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None


class ThreadExecutor:
    """Executor protocol over a thread per job (no queue); ``queue_full`` makes submit
    refuse."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue_full = False
        self.jobs: list[Job] = []
        self._ids = itertools.count(1)
        self._running: dict[str, ThreadJob] = {}

    async def start(self) -> None: ...

    def ready(self) -> bool:
        return True

    async def submit(self, job: Job) -> JobHandle:
        if self.queue_full:
            raise QueueFullError(retry_after_s=7)
        self.jobs.append(job)
        loop = asyncio.get_running_loop()
        handle = JobHandle(f"t{next(self._ids)}")
        state = self._running[handle.id] = ThreadJob(job, asyncio.Queue(), loop.create_future())

        def emit(event: dict[str, Any]) -> None:
            # Like the worker's pipe: the event crosses as JSON text, strictly.
            text = json.dumps(event, allow_nan=False)
            loop.call_soon_threadsafe(state.events.put_nowait, json.loads(text))

        def work() -> dict[str, Any]:
            # One torch thread, as in a sandbox worker (and no OpenMP threads spinning against
            # the rest of the test session).
            torch.set_num_threads(1)
            return run_training_job(job.payload, emit, state.stop.is_set, self.settings)

        async def drive() -> None:
            summary = await asyncio.to_thread(work)
            state.events.put_nowait(None)
            state.done.set_result(JobResult(200, json.dumps(summary, allow_nan=False).encode()))

        state.task = loop.create_task(drive())  # keep a reference while it runs
        return handle

    async def result(self, handle: JobHandle) -> JobResult:
        return await asyncio.shield(self._running[handle.id].done)

    async def events(self, handle: JobHandle) -> AsyncIterator[dict[str, Any]]:
        while (event := await self._running[handle.id].events.get()) is not None:
            yield event

    def cancel(self, handle: JobHandle) -> None:
        self._running[handle.id].stop.set()

    def position(self, handle: JobHandle) -> QueuePosition | None:
        return None

    def capacity(self) -> Capacity:
        return Capacity(workers=1, busy=0, queued=0, max_queue=1)

    async def close(self) -> None: ...

    async def run(self, job: Job) -> JobResult:
        return await self.result(await self.submit(job))


def make_client(**limits: Any) -> tuple[TestClient, ThreadExecutor]:
    settings = Settings(**{"train_max_events_per_s": 1e9, **limits})
    executor = ThreadExecutor(settings)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(runs.router)
    app.state.executor = executor
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app), executor


@pytest.fixture
def runs_client() -> Iterator[TestClient]:
    test_client, _ = make_client()
    with test_client:  # one event loop for the whole test: the runs' tasks live on it
        yield test_client


def wait_for_end(client: TestClient, run_id: str, timeout_s: float = 20.0) -> dict[str, Any]:
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        view = client.get(f"/runs/{run_id}").json()
        if view["summary"] is not None:
            return view
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} did not end in {timeout_s} s")


def read_sse(client: TestClient, url: str, headers: dict[str, str] | None = None
             ) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, event, data) of every event of an SSE stream, read until the server closes it."""
    events = []
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frame: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in frame:
                    events.append((int(frame["id"]), frame["event"], json.loads(frame["data"])))
                frame = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                frame[key] = value
    return events


def test_create_then_read_a_finished_run(runs_client: TestClient) -> None:
    response = runs_client.post("/runs", json=SMALL)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == created["url"] == f"/runs/{created['id']}"
    assert created["status"] == "queued"

    view = wait_for_end(runs_client, created["id"])
    assert view["status"] == "finished" == view["summary"]["status"]
    assert view["device"] == "cpu"
    steps, epochs = view["metrics"]["steps"], view["metrics"]["epochs"]
    assert steps["total_iteration"] == list(range(1, 31))  # 160 / 16 = 10 steps x 3 epochs
    assert len(steps["loss"]) == 30 and epochs["epoch"] == [1, 2, 3]
    assert view["progress"] == {"epoch": 3, "epochs": 3, "total_iteration": 30,
                                "total_iterations": 30, "iterations_per_epoch": 10}
    assert view["latest_snapshot"]["type"] == "boundary"
    assert view["summary"]["final"]["val_accuracy"] is not None
    assert view["spec"]["optimizer"]["name"] == "adam"  # defaults filled in
    RunView.model_validate(view)  # the documented response shape is the real one


def test_sse_replays_history_and_ends_with_the_summary(runs_client: TestClient) -> None:
    run_id = runs_client.post("/runs", json=SMALL).json()["id"]
    live = read_sse(runs_client, f"/runs/{run_id}/events")  # opened while the run is going
    kinds = [kind for _, kind, _ in live]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("step") == 30 and kinds.count("epoch") == 3
    assert [i for i, _, _ in live] == list(range(len(live)))
    assert live[-1][2]["status"] == "finished"
    assert all(data["type"] == kind for _, kind, data in live)

    replay = read_sse(runs_client, f"/runs/{run_id}/events")  # after the end: the same history
    assert replay == live
    resumed = read_sse(runs_client, f"/runs/{run_id}/events", {"Last-Event-ID": "5"})
    assert resumed == live[6:]
    everything_seen = runs_client.get(f"/runs/{run_id}/events",
                                 headers={"Last-Event-ID": str(len(live) - 1)})
    assert everything_seen.status_code == 204  # tells EventSource not to reconnect


def test_unknown_run_is_404(runs_client: TestClient) -> None:
    for method, url in [("GET", "/runs/nope"), ("DELETE", "/runs/nope"),
                        ("GET", "/runs/nope/events")]:
        response = runs_client.request(method, url)
        assert response.status_code == 404, url
        assert response.json()["error"]["type"] == "NotFoundError"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({**SMALL, "loss": "mse"}, "use 'cross_entropy'"),
        ({**SMALL, "optimizer": {"name": "nadam"}}, "optimizer"),
        ({**SMALL, "epochs": 0}, "epochs"),
        ({**SMALL, "colour": "red"}, "colour"),
        # 401 digits: a valid JSON integer that overflowed float arithmetic (a 500)
        ({**SMALL, "dataset": {"name": "moons", "n_samples": 10**400}}, "less than or equal"),
        ({**SMALL, "epochs": 10**400}, "epochs"),
    ],
)
def test_bad_spec_is_422(runs_client: TestClient, spec: dict, words: str) -> None:
    response = runs_client.post("/runs", json=spec)
    assert response.status_code == 422
    assert words in json.dumps(response.json())


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_non_finite_numbers_are_422(runs_client: TestClient, value: str) -> None:
    # Python's JSON parser accepts these literals; the spec must not.
    body = json.dumps({**SMALL, "grad_clip": 1.0}).replace("1.0", value)
    response = runs_client.post("/runs", content=body,
                                headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_odd_last_event_id_replays_everything(runs_client: TestClient) -> None:
    run_id = runs_client.post("/runs", json=SMALL).json()["id"]
    everything = read_sse(runs_client, f"/runs/{run_id}/events")
    for odd in ("-3", "abc", "1e3"):  # not a plain number: start from the beginning
        assert read_sse(runs_client, f"/runs/{run_id}/events", {"Last-Event-ID": odd}) == everything


@pytest.mark.parametrize(("header", "index"),
                         [(None, -1), ("0", 0), ("42", 42), ("²", -1), ("٣", -1), ("", -1),
                          ("999999999", 999_999_999), ("1" * 10, -1), ("9" * 5000, -1)])
def test_last_event_id_parsing(header: str | None, index: int) -> None:
    # "²" and "٣" pass str.isdigit(); the first would crash int(). Neither reaches int(), and
    # nor does a 5,000-digit id (int() refuses over 4,300 digits).
    assert runs.last_seen(header) == index


def test_over_a_limit_is_413_and_queues_nothing() -> None:
    test_client, executor = make_client(train_max_epochs=10)
    with test_client:
        response = test_client.post("/runs", json={**SMALL, "epochs": 11})
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "LimitError"
    assert "epochs is 11, the limit is 10" in response.json()["error"]["message"]
    assert executor.jobs == []


def test_per_caller_quota_is_429_until_a_run_ends() -> None:
    test_client, _ = make_client(train_max_runs_per_client=1, train_deadline_s=30)
    with test_client:
        first = test_client.post("/runs", json=LONG).json()["id"]
        refused = test_client.post("/runs", json=SMALL)
        assert refused.status_code == 429
        assert refused.json()["error"]["type"] == "TooManyRunsError"
        assert "train_max_runs_per_client" in refused.json()["error"]["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 33  # deadline + wrap-up

        cancel = test_client.post(f"/runs/{first}/cancel")
        assert cancel.status_code == 202 and cancel.json()["cancel_requested"] is True
        view = wait_for_end(test_client, first)
        assert view["status"] == "cancelled"
        assert view["summary"]["reason"].startswith("Cancelled during epoch")
        assert test_client.post(f"/runs/{first}/cancel").status_code == 200  # already ended
        assert test_client.post("/runs", json=SMALL).status_code == 201


def test_a_class_quota_counts_the_runs_of_every_caller_of_the_class() -> None:
    from app.callers import Caller
    from app.training.runs import RunRegistry, TooManyRunsError
    from app.training.spec import TrainSpec

    settings = Settings(train_max_runs_per_class=2, train_max_runs_per_client=5)

    async def scenario() -> None:
        registry = RunRegistry(ThreadExecutor(settings), settings)
        spec = TrainSpec.model_validate(LONG)
        first = await registry.create(spec, Caller("student", "ann", class_id="7b"))
        second = await registry.create(spec, Caller("student", "ben", class_id="7b"))
        with pytest.raises(TooManyRunsError, match="train_max_runs_per_class"):
            await registry.create(spec, Caller("student", "cid", class_id="7b"))
        # Another class, and callers without one, are not counted against it.
        other = await registry.create(spec, Caller("student", "dan", class_id="8a"))
        for run in (first, second, other):
            registry.cancel(run.id)
        await registry.close()

    asyncio.run(scenario())


def test_full_executor_queue_is_503_with_retry_after() -> None:
    test_client, executor = make_client()
    executor.queue_full = True
    with test_client:
        response = test_client.post("/runs", json=SMALL)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"
        executor.queue_full = False
        # The refused run left nothing behind: it counts against no cap.
        assert test_client.post("/runs", json=SMALL).status_code == 201


def test_cancel_ends_the_sse_stream_with_cancelled(runs_client: TestClient) -> None:
    run_id = runs_client.post("/runs", json=LONG).json()["id"]
    while runs_client.get(f"/runs/{run_id}").json()["progress"]["total_iteration"] < 5:
        time.sleep(0.01)
    runs_client.post(f"/runs/{run_id}/cancel")
    events = read_sse(runs_client, f"/runs/{run_id}/events")
    assert events[-1][1] == "end" and events[-1][2]["status"] == "cancelled"


def test_job_carries_the_spec_and_a_deadline_past_the_runs_own() -> None:
    test_client, executor = make_client(train_deadline_s=20, train_wrapup_s=3,
                                        train_max_pause_s=30)
    with test_client:
        run_id = test_client.post("/runs", json=SMALL).json()["id"]
        wait_for_end(test_client, run_id)
    (job,) = executor.jobs
    # The run's own limit, its wrap-up, and the most it may spend paused (holding its worker).
    assert job.kind == "train" and job.deadline_s == 53
    assert job.payload["dataset"]["name"] == "moons" and job.payload["epochs"] == 3


def test_openapi_documents_the_spec_with_examples(runs_client: TestClient) -> None:
    schema = runs_client.get("/openapi.json").json()
    assert {"/runs", "/runs/{run_id}", "/runs/{run_id}/events"} <= set(schema["paths"])
    train_spec = schema["components"]["schemas"]["TrainSpec"]
    assert train_spec["examples"][0]["dataset"]["name"] == "moons"


def test_the_app_trains_and_cancels_on_its_real_worker_pool(client: TestClient) -> None:
    """app.main includes this router; runs cross into a sandbox worker (LocalExecutor) as
    JSON, events stream back, and a cancel reaches the worker's loop between steps."""
    response = client.post("/runs", json=SMALL)
    assert response.status_code == 201, response.text
    view = wait_for_end(client, response.json()["id"], timeout_s=60)
    assert view["status"] == "finished", view["summary"]
    assert view["metrics"]["epochs"]["epoch"] == [1, 2, 3]
    assert view["summary"]["iterations"] == 30
    assert view["latest_snapshot"]["type"] == "boundary"

    run_id = client.post("/runs", json=LONG).json()["id"]
    until = time.monotonic() + 60
    while client.get(f"/runs/{run_id}").json()["progress"]["total_iteration"] < 1:
        assert time.monotonic() < until, "the run never reported a step"
        time.sleep(0.02)
    assert client.post(f"/runs/{run_id}/cancel").status_code == 202
    view = wait_for_end(client, run_id, timeout_s=30)
    # Ended by the loop itself (not by killing the worker): its reason and metrics are there.
    assert view["status"] == "cancelled"
    assert view["summary"]["reason"].startswith("Cancelled during epoch")
    assert view["summary"]["final"]["train_loss"] is not None


def test_a_worker_killed_mid_run_fails_the_run_and_the_server_keeps_serving(
        client: TestClient) -> None:
    import os
    import signal

    executor = client.app.state.executor  # type: ignore[attr-defined]
    before = {worker.process.pid for worker in executor._workers}
    run_id = client.post("/runs", json=LONG).json()["id"]
    until = time.monotonic() + 60
    while client.get(f"/runs/{run_id}").json()["progress"]["total_iteration"] < 1:
        assert time.monotonic() < until, "the run never reported a step"
        time.sleep(0.02)
    local = next(j for j in executor._jobs.values()
                 if j.job.kind == "train" and j.worker is not None)
    assert local.worker.process.pid in before
    os.kill(local.worker.process.pid, signal.SIGKILL)
    view = wait_for_end(client, run_id, timeout_s=30)
    assert view["status"] == "failed"
    assert "killed" in view["summary"]["reason"]
    assert client.post("/eval", json={"code": "1 + 1"}).json()["result"]["value"] == 2


def test_delete_cancels_and_forgets_a_run_while_cancel_keeps_it(runs_client: TestClient
                                                                 ) -> None:
    kept = runs_client.post("/runs", json=LONG).json()["id"]
    assert runs_client.post(f"/runs/{kept}/cancel").status_code == 202
    assert wait_for_end(runs_client, kept)["status"] == "cancelled"
    deleted = runs_client.post("/runs", json=LONG).json()["id"]
    assert runs_client.delete(f"/runs/{deleted}").status_code == 204
    assert runs_client.get(f"/runs/{deleted}").status_code == 404
    assert runs_client.delete(f"/runs/{deleted}").status_code == 404
    assert runs_client.post(f"/runs/{deleted}/cancel").status_code == 404
    assert runs_client.get(f"/runs/{kept}").status_code == 200


def test_runs_wait_in_the_queue_with_a_position_and_can_leave_it(client: TestClient) -> None:
    """On the app's real pool: runs beyond the training workers queue instead of being
    refused, say where they stand, and a queued run can be cancelled before it starts."""
    executor = client.app.state.executor  # type: ignore[attr-defined]
    slots = executor.capacity().extra["batch_slots"]
    running = [client.post("/runs", json=LONG).json()["id"] for _ in range(slots)]
    response = client.post("/runs", json=SMALL)
    assert response.status_code == 201, response.text
    queued = response.json()
    assert queued["status"] == "queued" and queued["queue"]["position"] == 1
    assert queued["queue"]["estimated_start_s"] >= 0
    view = client.get(f"/runs/{queued['id']}").json()
    assert view["queue"]["position"] == 1
    page = client.get(f"/train/runs/{queued['id']}").text  # the run's page says so too
    assert 'data-queue-position="1"' in page and "Number 1 in the queue" in page
    cancelled = client.post(f"/runs/{queued['id']}/cancel")
    assert cancelled.status_code in (200, 202)
    view = wait_for_end(client, queued["id"], timeout_s=10)
    assert view["status"] == "cancelled" and view["queue"] is None
    assert "before it started" in view["summary"]["reason"]
    assert view["progress"]["total_iteration"] == 0
    for run_id in running:
        client.post(f"/runs/{run_id}/cancel")
    for run_id in running:
        wait_for_end(client, run_id, timeout_s=30)


# --- the shared run store (run_store = "redis") -----------------------------------------
@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")
    from tests.services import ServiceMissingError, redis_server

    try:
        with redis_server() as url:
            yield url
    except ServiceMissingError as missing:
        pytest.skip(str(missing))


def test_a_run_of_one_app_is_read_and_replayed_by_another_sharing_the_store(
        redis_url: str) -> None:
    client_a, _ = make_client(run_store="redis", run_store_url=redis_url)
    client_b, _ = make_client(run_store="redis", run_store_url=redis_url)
    with client_a, client_b:
        run_id = client_a.post("/runs", json=SMALL).json()["id"]
        on_a = wait_for_end(client_a, run_id)
        on_b = client_b.get(f"/runs/{run_id}").json()
        assert on_b == on_a
        assert read_sse(client_b, f"/runs/{run_id}/events") == read_sse(
            client_a, f"/runs/{run_id}/events")
        assert client_b.delete(f"/runs/{run_id}").status_code == 204
        assert client_b.get(f"/runs/{run_id}").status_code == 404
        assert client_a.get(f"/runs/{run_id}").status_code == 200  # A still holds its own


def test_an_unreachable_run_store_is_a_503_that_names_the_fix() -> None:
    pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")
    from tests.services import free_port

    client, executor = make_client(run_store="redis",
                                   run_store_url=f"redis://127.0.0.1:{free_port()}/0")
    with client:
        for response in (client.post("/runs", json=SMALL), client.get("/runs/AAAAAAAAAAAA"),
                         client.get("/runs/AAAAAAAAAAAA/events")):  # an id of the right form
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            error = response.json()["error"]
            assert error["type"] == "StoreError" and "run_store_url" in error["hint"]
        assert not executor._running  # the refused run never reached the executor
