"""LocalExecutor: a pool of pre-warmed sandbox worker processes on this machine.

Workers are forked from a forkserver that has already imported torch, so a replacement is
ready in a fraction of a second after a worker is killed (deadline), crashes (native fault,
memory limit) or reaches its program quota. Waiting for a worker's reply uses the event
loop's reader callbacks: no thread hop per request.

Jobs wait in two lanes (base.LANES), each a FairQueue (round-robin over classes, then
callers). Interactive jobs may take any idle worker and go first; batch jobs (training runs)
use at most ``train_workers`` workers at once, so the others stay free for programs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import math
import multiprocessing as mp
import signal
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from app import metrics
from app.config import Settings
from app.executor import oslayer
from app.executor import worker as worker_module
from app.executor.base import (
    LANES,
    Capacity,
    Job,
    JobHandle,
    JobResult,
    Lane,
    QueueFullError,
    QueuePosition,
    UnknownJobError,
)
from app.executor.channel import AsyncChannel, BlockingChannel
from app.executor.fairqueue import FairQueue
from app.executor.handlers import HandlerSpecs, load_handler
from app.message import Message, Text, error_body

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 120.0


class WorkerDiedError(Exception):
    pass


@dataclass(eq=False)  # identity semantics: workers live in a set
class _Worker:
    process: Any
    conn: AsyncChannel
    programs: int = 0

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(timeout=2)
        with contextlib.suppress(Exception):
            self.conn.close()

    def exit_reason(self) -> str:
        with contextlib.suppress(Exception):
            self.process.join(timeout=0.5)
        code = self.process.exitcode
        if code is None:
            return "it stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return {"SIGXCPU": "it used more CPU time than its deadline allows (SIGXCPU)",
                    "SIGKILL": "it was killed (out of memory or over time)",
                    "SIGSEGV": "native code crashed (SIGSEGV)",
                    "SIGXFSZ": "it tried to write a file (SIGXFSZ)",
                    "SIGSYS": "it made a system call of another architecture, which the "
                              "sandbox forbids (SIGSYS)"}.get(name, f"it got {name}")
        return f"it exited with status {code}"


@dataclass(eq=False)  # identity semantics: jobs live in queues and sets
class _LocalJob:
    id: str
    job: Job
    done: asyncio.Future[JobResult]
    events: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    queued_at: float = 0.0
    started_at: float | None = None
    cancelled: bool = False
    worker: _Worker | None = None
    # Control commands that came before the job's message reached its worker: sent right
    # after it, so a worker never sees a control before its job.
    pending_controls: list[str] = field(default_factory=list)
    sent: bool = False
    controls_sent: int = 0  # numbers the commands, for a backend that may reorder them


def _error_result(type_: str, message: Text, hint: Text | None) -> JobResult:
    return JobResult(200, json.dumps(error_body(type_, message, None, hint, notices=[])).encode())


# Weight of the newest duration in a lane's running average (for start estimates).
_AVERAGE_WEIGHT = 0.3


class LocalExecutor:
    def __init__(self, settings: Settings, handlers: HandlerSpecs, *,
                 preload: Sequence[str] = ()) -> None:
        """``handlers`` maps each job kind to the "module:function" a worker runs for it
        (app/jobs.py has the app's table); ``preload`` names modules the forkserver imports
        once, so every worker forks with them loaded."""
        for spec in handlers.values():
            load_handler(spec)  # a wrong name fails here, not in every worker
        self.settings = settings
        self._handler_specs = dict(handlers)
        self._context = mp.get_context("forkserver")
        # The forkserver imports these once; every worker forks from it with torch loaded
        # (and, via a prewarm module, already warm: a replacement is ready in ~0.06 s of CPU).
        self._context.set_forkserver_preload(["app.executor.worker", *preload,
                                              "app.executor.prefork"])
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._queues: dict[Lane, FairQueue[_LocalJob]] = {lane: FairQueue() for lane in LANES}
        self._running: dict[Lane, set[_LocalJob]] = {lane: set() for lane in LANES}
        self._average_s: dict[Lane, float | None] = {lane: None for lane in LANES}
        self._ids = itertools.count(1)
        self._jobs: dict[str, _LocalJob] = {}
        self._started = False
        self._closed = False
        self._settings_json = settings.model_dump_json()
        self._tasks: set[asyncio.Task[None]] = set()
        # Each lane's metric children, looked up once: labels() validates and locks, and the
        # gauges are published twice per job (~14 us of a small program's request).
        self._depth = {lane: metrics.QUEUE_DEPTH.labels(lane) for lane in LANES}
        self._running_gauge = {lane: metrics.RUNNING.labels(lane) for lane in LANES}
        self._queue_wait = {lane: metrics.QUEUE_WAIT.labels(lane) for lane in LANES}

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.worker_os_layer:
            oslayer.protect_parent()
        workers = await asyncio.gather(*(self._new_worker() for _ in range(self.settings.workers)))
        for worker in workers:
            self._workers.add(worker)
            self._idle.append(worker)
        self._started = True
        self._dispatch()

    def ready(self) -> bool:
        return self._started and not self._closed and bool(self._workers)

    async def _new_worker(self) -> _Worker:
        process, sock = await asyncio.to_thread(self._spawn)
        return _Worker(process, await AsyncChannel.open(sock))

    def _spawn(self) -> tuple[Any, socket.socket]:
        """Start a worker and wait (blocking, in a thread) until torch is loaded and warm."""
        parent_sock, child_sock = socket.socketpair()
        process = self._context.Process(target=worker_module.worker_main,
                                        args=(child_sock, self._settings_json,
                                              self._handler_specs),
                                        name="sandbox-worker", daemon=True)
        process.start()
        child_sock.close()
        channel = BlockingChannel(parent_sock)
        parent_sock.settimeout(_START_TIMEOUT_S)
        try:
            ready = channel.recv()
        except (OSError, EOFError):
            ready = b""
        if ready != worker_module.READY:
            process.kill()
            parent_sock.close()
            raise RuntimeError("a sandbox worker did not start")
        return process, parent_sock

    def _replace(self, worker: _Worker, reason: str) -> None:
        metrics.WORKER_RESTARTS.labels(reason).inc()
        worker.kill()
        self._workers.discard(worker)
        if not self._closed:
            self._spawn_task(self._respawn())

    def _spawn_task(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respawn(self) -> None:
        try:
            worker = await self._new_worker()
        except Exception:
            log.exception("could not replace a sandbox worker")
            return
        if self._closed:
            worker.kill()
            return
        self._workers.add(worker)
        self._idle.append(worker)
        self._dispatch()

    async def close(self) -> None:
        self._closed = True
        for lane in LANES:
            while (waiting := self._queues[lane].pop()) is not None:
                self._finish(waiting, _error_result(
                    "CancelledError", Message("the server shut down before the job started"),
                    None))
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._workers):
            worker.kill()
        self._workers.clear()
        self._idle.clear()

    # --- the Executor protocol ----------------------------------------------------------
    def batch_slots(self) -> int:
        """Workers that batch jobs may hold at once (the rest stay free for programs)."""
        return self.settings.effective_train_workers

    def capacity(self) -> Capacity:
        busy = sum(len(running) for running in self._running.values())
        queued = sum(len(queue) for queue in self._queues.values())
        return Capacity(
            workers=len(self._workers), busy=busy, queued=queued,
            max_queue=self.settings.max_queue,
            extra={"lanes": {lane: {"queued": len(self._queues[lane]),
                                    "running": len(self._running[lane]),
                                    "max_queue": self._max_queue(lane)} for lane in LANES},
                   "batch_slots": self.batch_slots()})

    def _max_queue(self, lane: Lane) -> int:
        return self.settings.max_queue if lane == "interactive" else self.settings.train_max_queued

    async def submit(self, job: Job) -> JobHandle:
        if self._closed:
            raise QueueFullError(retry_after_s=5,
                                 message=Message("the server is shutting down"))
        queue = self._queues[job.lane]
        if len(queue) >= self._max_queue(job.lane):
            setting = "max_queue" if job.lane == "interactive" else "train_max_queued"
            metrics.REFUSALS.labels(setting).inc()
            raise QueueFullError(
                retry_after_s=max(1, math.ceil(self._expected_s(job))),
                message=Message("{n} jobs are already waiting, the most this server queues "
                                "(setting {setting}); try again shortly", n=len(queue),
                                setting=setting))
        local = _LocalJob(id=f"j{next(self._ids)}", job=job,
                          done=asyncio.get_running_loop().create_future(),
                          queued_at=time.monotonic())
        self._jobs[local.id] = local
        queue.push(local, job.owner, job.group)
        self._dispatch()
        return JobHandle(local.id)

    def _get(self, handle: JobHandle) -> _LocalJob:
        try:
            return self._jobs[handle.id]
        except KeyError:
            raise UnknownJobError(f"no job {handle.id!r} on this executor") from None

    async def result(self, handle: JobHandle) -> JobResult:
        local = self._get(handle)
        result = await asyncio.shield(local.done)
        if local.job.lane == "interactive":
            # A program's one reader has its result: at hundreds of programs a second, keeping
            # them for job_result_kept_s would add up.
            self._jobs.pop(handle.id, None)
        return result

    async def events(self, handle: JobHandle) -> AsyncIterator[dict[str, Any]]:
        local = self._get(handle)
        while True:
            event = await local.events.get()
            if event is None:
                return
            yield event

    def cancel(self, handle: JobHandle) -> None:
        local = self._jobs.get(handle.id)
        if local is None or local.done.done() or local.cancelled:
            return
        local.cancelled = True
        if self._queues[local.job.lane].remove(local):
            self._finish(local, _error_result(
                "CancelledError", Message("the job was cancelled before it started"), None))
            return
        worker = local.worker
        if worker is not None:
            # Handlers that check should_stop end cleanly (a training run keeps its metrics);
            # a job still running after the grace period loses its worker.
            with contextlib.suppress(OSError):
                worker.conn.send(worker_module.CANCEL)
            asyncio.get_running_loop().call_later(
                self.settings.cancel_grace_s, self._kill_if_still_running, local, worker)

    def _kill_if_still_running(self, local: _LocalJob, worker: _Worker) -> None:
        if local.worker is worker and not local.done.done():
            with contextlib.suppress(Exception):
                worker.process.kill()

    def control(self, handle: JobHandle, command: str) -> bool:
        if not command.isascii() or len(command) > worker_module.MAX_CONTROL_CHARS:
            raise ValueError(f"a control command is a short ASCII word, not {command!r}")
        local = self._jobs.get(handle.id)
        if local is None or local.done.done() or local.cancelled:
            return False
        if local.worker is None or not local.sent:
            local.pending_controls.append(command)
            return True
        self._send_control(local, local.worker, command)
        return True

    def _flush_controls(self, local: _LocalJob, worker: _Worker) -> None:
        """Once the job's message is on its way: the commands that waited for it."""
        local.sent = True
        for command in local.pending_controls:
            self._send_control(local, worker, command)
        local.pending_controls.clear()

    def _send_control(self, local: _LocalJob, worker: _Worker, command: str) -> None:
        with contextlib.suppress(OSError):
            worker.conn.send(worker_module.CONTROL + command.encode("ascii"))

    def position(self, handle: JobHandle) -> QueuePosition | None:
        local = self._jobs.get(handle.id)
        if local is None or local not in self._queues[local.job.lane]:
            return None
        lane = local.job.lane
        now = time.monotonic()
        slots = self.batch_slots() if lane == "batch" else max(1, len(self._workers))
        # When each slot frees up: running jobs by their expected end, then the jobs ahead
        # of this one, each taking the slot that frees first.
        free_at = sorted(max(0.0, (r.started_at or now) + self._expected_s(r.job) - now)
                         for r in self._running[lane])
        free_at = sorted([0.0] * max(0, slots - len(free_at)) + free_at)[:slots]
        order = self._queues[lane].order()
        index = order.index(local)
        for ahead in order[:index]:
            free_at[0] += self._expected_s(ahead.job)
            free_at.sort()
        return QueuePosition(position=index + 1, estimated_start_s=round(free_at[0], 1))

    def _expected_s(self, job: Job) -> float:
        """The lane's running average once a job ended, else the job's own guess."""
        expected = self._average_s[job.lane]
        if expected is None:
            expected = job.expected_s if job.expected_s is not None else job.deadline_s
        return min(expected, job.deadline_s)

    async def run(self, job: Job) -> JobResult:
        if job.lane == "interactive" and self._idle and self._started and not self._closed:
            return await self._run_now(job, self._idle.pop())
        return await self.result(await self.submit(job))

    async def _run_now(self, job: Job, worker: _Worker) -> JobResult:
        """A program that finds a worker idle, exchanged in the caller's own task. An idle
        worker means no interactive job waits (_dispatch gives waiting jobs every idle
        worker), so none is passed over; and nobody holds a handle to this job. The queue,
        the driving task and the result future cost ~40 us of a small program's request."""
        local = _LocalJob(id=f"j{next(self._ids)}", job=job,
                          done=asyncio.get_running_loop().create_future(),
                          queued_at=time.monotonic())
        self._begin(local, worker)
        self._publish_gauges()
        try:
            result = await self._exchange(worker, local)
        except asyncio.CancelledError:
            # The caller was cancelled mid-exchange (a server shutting down): the worker may
            # still answer, and a half-read message cannot be resumed, so it is replaced.
            self._replace(worker, "cancelled")
            raise
        finally:
            self._end(local)
        self._dispatch()
        return result

    # --- scheduling ---------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Give idle workers to waiting jobs: interactive first, batch within its slots."""
        while self._idle and self._started and not self._closed:
            local = self._queues["interactive"].pop()
            if local is None and len(self._running["batch"]) < self.batch_slots():
                local = self._queues["batch"].pop()
            if local is None:
                break
            worker = self._idle.pop()
            self._start(local, worker)
        self._publish_gauges()

    def _publish_gauges(self) -> None:
        for lane in LANES:
            self._depth[lane].set(len(self._queues[lane]))
            self._running_gauge[lane].set(len(self._running[lane]))

    def _start(self, local: _LocalJob, worker: _Worker) -> None:
        self._begin(local, worker)
        self._spawn_task(self._drive(local, worker))

    def _begin(self, local: _LocalJob, worker: _Worker) -> None:
        lane = local.job.lane
        local.started_at = time.monotonic()
        local.worker = worker
        self._queue_wait[lane].observe(local.started_at - local.queued_at)
        self._running[lane].add(local)

    def _end(self, local: _LocalJob) -> None:
        lane = local.job.lane
        self._running[lane].discard(local)
        local.worker = None
        if local.started_at is not None:
            took = time.monotonic() - local.started_at
            average = self._average_s[lane]
            self._average_s[lane] = took if average is None else (
                (1 - _AVERAGE_WEIGHT) * average + _AVERAGE_WEIGHT * took)

    async def _drive(self, local: _LocalJob, worker: _Worker) -> None:
        try:
            result = await self._exchange(worker, local)
        finally:
            self._end(local)
        self._finish(local, result)
        self._dispatch()

    def _finish(self, local: _LocalJob, result: JobResult) -> None:
        local.job = dataclasses.replace(local.job, payload={})  # a program can be 20 kB
        local.events.put_nowait(None)
        if not local.done.done():
            local.done.set_result(result)
        # Forgotten once its result has been read (or soon after, if nobody reads it).
        local.done.add_done_callback(lambda _f: self._forget_later(local.id))

    def _forget_later(self, job_id: str) -> None:
        if not self._closed:
            asyncio.get_running_loop().call_later(
                self.settings.job_result_kept_s, self._jobs.pop, job_id, None)

    def _release(self, worker: _Worker) -> None:
        worker.programs += 1
        if worker.programs >= self.settings.worker_max_programs:
            self._replace(worker, "recycled")
        else:
            self._idle.append(worker)

    async def _exchange(self, worker: _Worker, local: _LocalJob) -> JobResult:
        job = local.job
        message = json.dumps({"kind": job.kind, "payload": job.payload,
                              "deadline_s": job.deadline_s}).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + job.deadline_s + self.settings.kill_grace_s
        try:
            worker.conn.send(message)
            self._flush_controls(local, worker)
            # One timer for the whole exchange: wait_for wrapped each read in a task of its
            # own, two more turns of the event loop per message.
            async with asyncio.timeout_at(deadline):
                while True:
                    reply = await worker.conn.recv()
                    if reply[:1] == worker_module.EVENT:
                        local.events.put_nowait(json.loads(reply[1:]))
                        continue
                    if reply[:1] != worker_module.RESULT:
                        raise WorkerDiedError("it sent an unexpected message")
                    status = int(reply[1:4])
                    self._release(worker)
                    return JobResult(status, reply[4:])
        except TimeoutError:
            self._replace(worker, "deadline")
            return _error_result(
                "TimeoutError",
                Message("the program ran longer than {limit:g} s and was stopped; its sandbox "
                        "process was replaced (setting deadline_s)", limit=job.deadline_s),
                Message("A single huge operation or an endless loop can do this: use smaller "
                        "tensors or fewer iterations."))
        except (WorkerDiedError, EOFError, OSError) as died:
            reason = worker.exit_reason() if not isinstance(died, WorkerDiedError) \
                else str(died)
            self._replace(worker, "cancelled" if local.cancelled else "crash")
            if local.cancelled:
                return _error_result("CancelledError", Message("the job was cancelled"), None)
            log.warning("sandbox worker failed: %r", died)
            return _error_result(
                "WorkerCrash",
                Message("the sandbox process stopped while running the program: {reason}. It "
                        "has been replaced; other requests were not affected.", reason=reason),
                Message("Native crashes and memory exhaustion end the process: use smaller "
                        "tensors, and avoid operations that resize storage under a live view."))
