"""LocalExecutor: a pool of pre-warmed sandbox worker processes on this machine.

Workers are forked from a forkserver that has already imported torch, so a replacement is
ready in a fraction of a second after a worker is killed (deadline), crashes (native fault,
memory limit) or reaches its program quota. Waiting for a worker's reply uses the event
loop's reader callbacks: no thread hop per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import multiprocessing as mp
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.executor import oslayer
from app.executor import worker as worker_module
from app.executor.base import Capacity, Job, JobResult, QueueFullError
from app.executor.channel import AsyncChannel, BlockingChannel

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


@dataclass
class LocalJobHandle:
    id: str
    job: Job
    done: asyncio.Future[JobResult]
    events: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    cancelled: bool = False
    worker: _Worker | None = None


def _error_result(type_: str, message: str, hint: str | None) -> JobResult:
    body = {"ok": False, "error": {"type": type_, "message": message, "line": None,
                                   "hint": hint}, "steps": [], "stdout": "", "notices": []}
    return JobResult(200, json.dumps(body).encode())


class LocalExecutor:
    def __init__(self, settings: Settings, *, self_test: bool = False) -> None:
        """``self_test`` is for tests only: the workers also accept the "selftest" job kind,
        which reports what the OS layer stops (app/executor/oslayer.py). The app never sets
        it, and a request cannot choose a job's kind."""
        self.settings = settings
        self._self_test = self_test
        self._context = mp.get_context("forkserver")
        # The forkserver imports these once; every worker forks from it with torch loaded
        # (and, via prewarm, already warm: a replacement worker is ready in ~0.1 s of CPU).
        self._context.set_forkserver_preload(["app.executor.worker", "app.engine.program",
                                              "app.executor.prewarm"])
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._waiting = 0
        self._busy = 0
        self._ids = itertools.count(1)
        self._handles: dict[str, LocalJobHandle] = {}
        self._closed = False
        self._settings_json = settings.model_dump_json()
        self._spawning: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.worker_os_layer:
            oslayer.protect_parent()
        workers = await asyncio.gather(*(self._new_worker() for _ in range(self.settings.workers)))
        for worker in workers:
            self._workers.add(worker)
            self._idle.put_nowait(worker)

    async def _new_worker(self) -> _Worker:
        process, sock = await asyncio.to_thread(self._spawn)
        return _Worker(process, await AsyncChannel.open(sock))

    def _spawn(self) -> tuple[Any, socket.socket]:
        """Start a worker and wait (blocking, in a thread) until torch is loaded and warm."""
        parent_sock, child_sock = socket.socketpair()
        process = self._context.Process(target=worker_module.worker_main,
                                        args=(child_sock, self._settings_json,
                                              self._self_test),
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

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.discard(worker)
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._respawn())
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

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
        self._idle.put_nowait(worker)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        for worker in list(self._workers):
            worker.kill()
        self._workers.clear()

    # --- the Executor protocol ----------------------------------------------------------
    def capacity(self) -> Capacity:
        return Capacity(workers=len(self._workers), busy=self._busy, queued=self._waiting,
                        max_queue=self.settings.max_queue)

    async def submit(self, job: Job) -> LocalJobHandle:
        # Jobs already waiting will take the idle workers first; beyond them, max_queue more
        # may wait before the caller is told to come back later.
        if self._waiting >= self._idle.qsize() + self.settings.max_queue:
            raise QueueFullError(retry_after_s=max(1, int(self.settings.deadline_s)))
        handle = LocalJobHandle(id=f"j{next(self._ids)}", job=job,
                                done=asyncio.get_running_loop().create_future())
        self._handles[handle.id] = handle
        self._waiting += 1
        task = asyncio.get_running_loop().create_task(self._drive(handle))
        task.add_done_callback(lambda _t: self._handles.pop(handle.id, None))
        return handle

    async def result(self, handle: LocalJobHandle) -> JobResult:
        return await asyncio.shield(handle.done)

    async def events(self, handle: LocalJobHandle) -> AsyncIterator[dict[str, Any]]:
        while True:
            event = await handle.events.get()
            if event is None:
                return
            yield event

    def cancel(self, handle: LocalJobHandle) -> None:
        handle.cancelled = True
        worker = handle.worker
        if worker is not None and handle.job.kind == "train":
            with contextlib.suppress(OSError):
                worker.conn.send(worker_module.CANCEL)
        elif worker is not None:
            worker.process.kill()  # the driver sees the death and reports the cancellation

    async def run(self, job: Job) -> JobResult:
        return await self.result(await self.submit(job))

    # --- driving one job ----------------------------------------------------------------
    async def _drive(self, handle: LocalJobHandle) -> None:
        try:
            worker = await self._idle.get()
        finally:
            self._waiting -= 1
        if handle.cancelled:
            self._idle.put_nowait(worker)
            self._finish(handle, _error_result("CancelledError", "the job was cancelled "
                                               "before it started", None))
            return
        self._busy += 1
        handle.worker = worker
        try:
            result = await self._exchange(worker, handle)
        finally:
            self._busy -= 1
            handle.worker = None
        self._finish(handle, result)

    def _finish(self, handle: LocalJobHandle, result: JobResult) -> None:
        handle.events.put_nowait(None)
        if not handle.done.done():
            handle.done.set_result(result)

    async def _exchange(self, worker: _Worker, handle: LocalJobHandle) -> JobResult:
        job = handle.job
        message = json.dumps({"kind": job.kind, "payload": job.payload,
                              "deadline_s": job.deadline_s}).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + job.deadline_s + self.settings.kill_grace_s
        try:
            worker.conn.send(message)
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                reply = await asyncio.wait_for(worker.conn.recv(), remaining)
                if reply[:1] == worker_module.EVENT:
                    handle.events.put_nowait(json.loads(reply[1:]))
                    continue
                if reply[:1] != worker_module.RESULT:
                    raise WorkerDiedError("it sent an unexpected message")
                status = int(reply[1:4])
                worker.programs += 1
                if worker.programs >= self.settings.worker_max_programs:
                    self._replace(worker)
                else:
                    self._idle.put_nowait(worker)
                return JobResult(status, reply[4:])
        except TimeoutError:
            self._replace(worker)
            return _error_result(
                "TimeoutError",
                f"the program ran longer than {job.deadline_s:g} s and was stopped; its "
                "sandbox process was replaced (setting deadline_s)",
                "A single huge operation or an endless loop can do this: use smaller "
                "tensors or fewer iterations.")
        except (WorkerDiedError, EOFError, OSError) as died:
            log.warning("sandbox worker failed: %r", died)
            reason = worker.exit_reason() if not isinstance(died, WorkerDiedError) \
                else str(died)
            self._replace(worker)
            if handle.cancelled:
                return _error_result("CancelledError", "the job was cancelled", None)
            return _error_result(
                "WorkerCrash",
                f"the sandbox process stopped while running the program: {reason}. It has "
                "been replaced; other requests were not affected.",
                "Native crashes and memory exhaustion end the process: use smaller tensors, "
                "and avoid operations that resize storage under a live view.")
