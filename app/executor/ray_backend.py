"""RayExecutor: sandbox workers as Ray actors (the optional extra ``[ray]``).

Each actor is a long-lived sandbox worker like a local one: it imports torch and the job
handlers, warms them up, then applies the same OS limits (worker.apply_os_limits and
oslayer.lock_down) before it runs any job. Ray places the actors (``ray_cpus_per_actor``,
and ``ray_gpus_per_actor`` fractions on GPU nodes); the lanes, the fair queue, positions and
start estimates are the local pool's (this class extends LocalExecutor), so only how a job
reaches a worker differs.

Only the web process calls an actor, never the other way round: a job is one ``run`` call,
its progress events are fetched by ``events`` calls while it runs, and a cancel is a
``cancel`` call. The actor's gRPC connection to the web process is made by the ``lock`` call
that ends its start, before seccomp forbids new sockets; payloads and results are plain
JSON bytes. An actor past its deadline is killed (``ray.kill``) and a fresh one takes its
place; an actor that dies (a native crash) is replaced the same way, and its job gets an
error result that says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import ray
import ray.exceptions

from app import metrics
from app.config import Settings
from app.executor import answers, oslayer
from app.executor import worker as worker_module
from app.executor.base import Capacity, JobHandle, JobResult
from app.executor.channel import AsyncChannel
from app.executor.handlers import HandlerSpecs, JobContext, load_handlers, warm_up_all
from app.executor.local import LocalExecutor, WorkerDiedError, _error_result, _LocalJob, _Worker

log = logging.getLogger(__name__)

# ray's own type hints do not cover max_concurrency and leave some calls untyped.
_ray_untyped: Any = ray

# How long a job runs before the web process starts fetching its events while it runs;
# events of a shorter job come back with its result, so a program costs one call, not two.
_STREAM_AFTER_S = 0.05
# How long one ``events`` call waits in the actor for the next event, checking this often.
_EVENT_WAIT_S = 0.5
_EVENT_POLL_S = 0.01


def _cuda_fraction(settings: Settings) -> float:
    """An actor's share of its GPU's memory: the one Ray placed it with (less a tenth for the
    CUDA contexts), unless cuda_memory_fraction sets it."""
    if settings.cuda_memory_fraction or not settings.ray_gpus_per_actor:
        return settings.worker_cuda_memory_fraction
    return round(0.9 * settings.ray_gpus_per_actor, 3)


class SandboxActor:
    """One sandbox worker process, run by Ray. Calls come only from the web process."""

    def __init__(self, settings_json: str, handler_specs: dict[str, str],
                 import_path: list[str]) -> None:
        # The handlers are imported from where the server imports them (a local cluster's
        # actors start in another directory; a remote node must have the same paths).
        sys.path[:0] = [path for path in import_path if path not in sys.path]
        import torch

        self._settings = Settings.model_validate_json(settings_json)
        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):  # only settable before parallel work
            torch.set_num_interop_threads(1)
        self._cuda = torch.cuda.is_available()
        if self._cuda:
            torch.cuda.set_per_process_memory_fraction(_cuda_fraction(self._settings))
            ones = torch.ones(8, 8, device="cuda")  # CUDA context before the lock-down
            (ones @ ones).sum().item()
        self._handlers = load_handlers(handler_specs)
        warm_up_all(handler_specs, self._settings)
        gc.collect()
        gc.freeze()
        self._events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        # One drain at a time, so the events of one job leave in the order they were emitted.
        self._draining = threading.Lock()
        self._cancelled: str | None = None
        # Commands sent by control(), by job and number, taken in order by the job's
        # JobContext.controls: the actor's threads may run two control() calls out of order.
        self._controls: dict[str, dict[int, str]] = {}
        self._next_control: dict[str, int] = {}
        self._controls_lock = threading.Lock()
        self._running: str | None = None
        self._locked = False

    def lock(self) -> int:
        """The one-way lock-down, after the warm-up and after the web process has connected
        (this call is that connection). Returns the actor's process id."""
        if not self._locked:
            worker_module.apply_os_limits(self._settings, self._cuda)
            if self._settings.worker_os_layer:
                oslayer.lock_down(self._settings, self._cuda)
            self._locked = True
        return os.getpid()

    def run(self, job_id: str, kind: str, payload: dict[str, Any], deadline_s: float
            ) -> tuple[int, bytes, list[dict[str, Any]]]:
        """The job's (status, body) and the events that nobody fetched yet."""
        worker_module._limit_cpu_time(self._settings, deadline_s)
        self._running = job_id
        try:
            status, body = self._run(job_id, kind, payload, deadline_s)
        finally:
            self._running = None
        status, body = answers.within_size(status, body, self._settings.max_response_bytes)
        return status, body, self._drain()

    def _run(self, job_id: str, kind: str, payload: dict[str, Any], deadline_s: float
             ) -> tuple[int, bytes]:
        handler = self._handlers.get(kind)
        if handler is None:
            return answers.unknown_kind(kind)

        def emit(event: dict[str, Any]) -> None:
            json.dumps(event, allow_nan=False)  # the same check as a local worker's
            self._events.put(event)

        def controls(wait_s: float) -> list[str]:
            taken: list[str] = []
            waited = 0.0
            while True:
                with self._controls_lock:
                    arrived = self._controls.get(job_id, {})
                    number = self._next_control.get(job_id, 0)
                    while number in arrived:
                        taken.append(arrived.pop(number))
                        number += 1
                    self._next_control[job_id] = number
                if taken or waited >= wait_s or self._cancelled == job_id:
                    return taken
                time.sleep(_EVENT_POLL_S)
                waited += _EVENT_POLL_S

        context = JobContext(settings=self._settings, deadline_s=deadline_s, emit=emit,
                             should_stop=lambda: self._cancelled == job_id,
                             controls=controls)
        # The previous job's reference cycles (see app/executor/worker.py) go before this
        # one runs: an actor answers by returning, so there is no "after the answer" here.
        gc.collect()
        try:
            return handler(payload, context)
        except Exception as failure:  # a handler's bug must not cost the worker
            return answers.handler_failed(kind, failure)

    def _drain(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        with self._draining, contextlib.suppress(queue.Empty):
            while True:
                events.append(self._events.get_nowait())
        return events

    def events(self, job_id: str, wait_s: float) -> list[dict[str, Any]]:
        """The events emitted since the last call, waiting up to ``wait_s`` for one while the
        job runs (its last events come back with its result)."""
        waited = 0.0
        while self._events.empty() and self._running == job_id and waited < wait_s:
            time.sleep(_EVENT_POLL_S)
            waited += _EVENT_POLL_S
        return self._drain()

    def cancel(self, job_id: str) -> None:
        self._cancelled = job_id

    def control(self, job_id: str, number: int, command: str) -> None:
        with self._controls_lock:
            # One job runs at a time: what is left of earlier jobs' commands is dropped.
            for other in [k for k in self._controls if k != job_id]:
                del self._controls[other]
                self._next_control.pop(other, None)
            self._controls.setdefault(job_id, {})[number] = command


# run, events, cancel and control arrive concurrently: each gets a thread of the actor.
_ACTOR_CONCURRENCY = 4


class _NoChannel(AsyncChannel):
    """An actor is called through Ray, never through a socket."""

    def __init__(self) -> None:  # no reader or writer
        pass

    def send(self, data: bytes) -> None:
        raise OSError("a Ray actor has no socket channel")

    def close(self) -> None:
        pass


@dataclass(eq=False)
class _ActorWorker(_Worker):
    actor: Any = None
    # Past worker_max_programs: a successor is starting; this one serves until it is ready.
    succeeded: bool = False
    # The successor is ready: retire at the end of the current job.
    retired: bool = False

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            ray.kill(self.actor, no_restart=True)


def _await(ref: Any) -> asyncio.Future[Any]:
    return asyncio.wrap_future(ref.future())


def _death_reason(error: BaseException) -> str:
    """Ray reports a dead actor's exit, not the signal that ended it."""
    return ("its process ended without a result: native code crashed (a fault such as "
            "SIGSEGV) or it ran out of memory; Ray does not report which")


class RayExecutor(LocalExecutor):
    def __init__(self, settings: Settings, handlers: HandlerSpecs) -> None:
        super().__init__(settings, handlers)
        self._actor_class: Any = None
        self._started_ray = False

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self._connect)
        await super().start()

    def _connect(self) -> None:
        if not ray.is_initialized():
            address = self.settings.ray_address or None
            # A local instance gets one CPU per worker; a cluster's own resources are its own.
            num_cpus = None if address else math.ceil(
                self.settings.workers * self.settings.ray_cpus_per_actor)
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
            self._started_ray = True
        self._check_room()
        resources: dict[str, float] = {"num_cpus": self.settings.ray_cpus_per_actor}
        if self.settings.ray_gpus_per_actor:
            resources["num_gpus"] = self.settings.ray_gpus_per_actor
        # Ray never restarts an actor by itself: the executor replaces it, and the job it
        # was running gets its result (a restart would rerun nothing and hide the death).
        self._actor_class = _ray_untyped.remote(
            max_restarts=0, max_concurrency=_ACTOR_CONCURRENCY, **resources)(SandboxActor)

    def _check_room(self) -> None:
        """Refuse to start, naming the settings, when the cluster cannot hold the actors:
        otherwise they would wait for resources that never come."""
        cluster = _ray_untyped.cluster_resources()
        for resource, per_actor, setting in (
                ("CPU", self.settings.ray_cpus_per_actor, "ray_cpus_per_actor"),
                ("GPU", self.settings.ray_gpus_per_actor, "ray_gpus_per_actor")):
            needed = self.settings.workers * per_actor
            if needed > cluster.get(resource, 0.0) + 1e-9:
                raise RuntimeError(
                    f"the Ray cluster has {cluster.get(resource, 0.0):g} {resource}s; "
                    f"{self.settings.workers} actors (setting workers) of {per_actor:g} each "
                    f"(setting {setting}) need {needed:g}: lower one of them, or add nodes")

    async def _new_worker(self) -> _Worker:
        actor = self._actor_class.remote(self._settings_json, self._handler_specs,
                                         [os.path.abspath(p) for p in sys.path if p])
        try:
            await asyncio.wait_for(_await(actor.lock.remote()), self.settings.ray_actor_start_s)
        except BaseException:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
            raise
        return _ActorWorker(process=None, conn=_NoChannel(), actor=actor)

    async def close(self) -> None:
        await super().close()
        if self._started_ray:
            await asyncio.to_thread(ray.shutdown)

    def capacity(self) -> Capacity:
        capacity = super().capacity()
        if ray.is_initialized():
            # Ray's view: what the cluster has and what is still free for more actors.
            capacity.extra["ray"] = {"cluster": _ray_untyped.cluster_resources(),
                                     "available": _ray_untyped.available_resources()}
        return capacity

    def _release(self, worker: _Worker) -> None:
        """Recycling after worker_max_programs: a fresh actor takes seconds to start (a new
        process importing torch), not the 0.1 s of a forked local worker, so the old actor
        keeps serving until its successor is ready; actors that reach their quota together
        never leave the pool empty."""
        assert isinstance(worker, _ActorWorker)
        worker.programs += 1
        if worker.retired:
            self._retire(worker)
            return
        if worker.programs >= self.settings.worker_max_programs and not worker.succeeded:
            worker.succeeded = True
            self._spawn_task(self._succeed(worker))
        self._idle.append(worker)

    async def _succeed(self, old: _ActorWorker) -> None:
        try:
            new = await self._new_worker()
        except Exception:
            log.exception("could not start the successor of a sandbox actor")
            old.succeeded = False
            return
        if self._closed or old not in self._workers:  # closed, or old was replaced already
            new.kill()
            return
        self._workers.add(new)
        self._idle.append(new)
        if old in self._idle:
            self._idle.remove(old)
            self._retire(old)
        else:
            old.retired = True  # at the end of its job
        self._dispatch()

    def _replace(self, worker: _Worker, reason: str) -> None:
        if isinstance(worker, _ActorWorker) and worker.retired:  # its successor serves already
            metrics.WORKER_RESTARTS.labels(reason).inc()
            worker.kill()
            self._workers.discard(worker)
            return
        super()._replace(worker, reason)

    def _retire(self, worker: _ActorWorker) -> None:
        metrics.WORKER_RESTARTS.labels("recycled").inc()
        worker.kill()
        self._workers.discard(worker)

    # --- a job on an actor --------------------------------------------------------------
    def cancel(self, handle: JobHandle) -> None:
        local = self._jobs.get(handle.id)
        worker = local.worker if local is not None else None
        super().cancel(handle)  # a queued job leaves its queue; a running one: the kill timer
        if local is not None and isinstance(worker, _ActorWorker) and local.worker is worker:
            worker.actor.cancel.remote(local.id)

    def _kill_if_still_running(self, local: _LocalJob, worker: _Worker) -> None:
        if local.worker is worker and not local.done.done():
            worker.kill()

    def _send_control(self, local: _LocalJob, worker: _Worker, command: str) -> None:
        if isinstance(worker, _ActorWorker):
            worker.actor.control.remote(local.id, local.controls_sent, command)
            local.controls_sent += 1

    async def _exchange(self, worker: _Worker, local: _LocalJob) -> JobResult:
        assert isinstance(worker, _ActorWorker)
        job = local.job
        loop = asyncio.get_running_loop()
        deadline = loop.time() + job.deadline_s + self.settings.kill_grace_s
        result = _await(worker.actor.run.remote(local.id, job.kind, job.payload, job.deadline_s))
        self._flush_controls(local, worker)
        streaming = loop.time() + _STREAM_AFTER_S
        fetch: asyncio.Future[Any] | None = None
        try:
            while not result.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                if fetch is None and loop.time() >= streaming:
                    fetch = _await(worker.actor.events.remote(local.id, _EVENT_WAIT_S))
                waiting: set[asyncio.Future[Any]] = {result} | ({fetch} if fetch else set())
                until_streaming = streaming - loop.time()
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED,
                                   timeout=min(remaining, until_streaming)
                                   if until_streaming > 0 else remaining)
                if fetch is not None and fetch.done():
                    events = fetch.result()
                    for event in events:
                        local.events.put_nowait(event)
                    fetch = None
                    if not events:  # the job ended, or emits rarely: ask again a bit later
                        streaming = loop.time() + _STREAM_AFTER_S
            if fetch is not None:  # its events were emitted before the ones run returns
                for event in await fetch:
                    local.events.put_nowait(event)
            status, body, last_events = result.result()
            for event in last_events:
                local.events.put_nowait(event)
            self._release(worker)
            return JobResult(int(status), bytes(body))
        except TimeoutError:
            self._replace(worker, "deadline")
            return _error_result(
                "TimeoutError",
                f"the program ran longer than {job.deadline_s:g} s and was stopped; its "
                "sandbox process was replaced (setting deadline_s)",
                "A single huge operation or an endless loop can do this: use smaller "
                "tensors or fewer iterations.")
        except (ray.exceptions.RayActorError, WorkerDiedError) as died:
            self._replace(worker, "cancelled" if local.cancelled else "crash")
            if local.cancelled:
                return _error_result("CancelledError", "the job was cancelled", None)
            log.warning("sandbox actor failed: %s", died)
            return _error_result(
                "WorkerCrash",
                f"the sandbox process stopped while running the program: "
                f"{_death_reason(died)}. It has been replaced; other requests were not "
                "affected.",
                "Native crashes and memory exhaustion end the process: use smaller tensors, "
                "and avoid operations that resize storage under a live view.")
        finally:
            result.cancel()
            if fetch is not None:
                fetch.cancel()

