"""The run registry of the web process: starts training runs on the executor, keeps each run's
event history and metrics, and lets any number of readers replay and follow it.

One asyncio task per run consumes the executor's events; readers never touch the executor.
With a shared RunStore (setting run_store), that task also writes the run's record and every
event there, and runs started by other web processes are read and followed from it.
Everything here runs on the event loop and does no CPU-heavy work (no torch import).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app import metrics
from app.callers import Caller
from app.config import Settings
from app.executor.base import Executor, Job, JobHandle, JobResult, QueuePosition
from app.message import Message, with_i18n
from app.training import driver
from app.training.control import COMMANDS
from app.training.schemas import TERMINAL
from app.training.spec import RunPlan, TrainSpec, check_limits, plan
from app.training.store import RunStore, StoredRun, StoreError

log = logging.getLogger(__name__)


# Columns kept per step and per epoch for GET /runs/{id} (columnar: ready for a chart).
STEP_COLUMNS = ("epoch", "iteration", "total_iteration", "loss", "lr", "grad_norm",
                "grad_norm_clipped")
EPOCH_COLUMNS = ("epoch", "mean_step_loss", "train_loss", "train_accuracy", "val_loss",
                 "val_accuracy", "elapsed_s")


class RunNotFoundError(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no training run {run_id!r} (finished runs are kept for a while, "
                         "then dropped)")


class RunEndedError(Exception):
    """A control (pause, resume, step) sent to a run that has already ended."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"training run {run_id!r} has already ended (status {status}); "
                         "there is nothing left to pause, resume or step")


class TooManyRunsError(Exception):
    """This caller, or its class, has as many runs queued or running as its quota allows."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(eq=False)
class Run:
    id: str
    caller: Caller
    spec: TrainSpec
    plan: RunPlan
    created_at: float  # time.time(), for people
    created_mono: float  # time.monotonic(), for deadlines
    status: str = "queued"  # queued -> running (<-> paused) -> one of TERMINAL
    cancel_requested: bool = False
    # The last control sent (pause, resume, step) until the run acts on it; the paused and
    # resumed events say what the run did.
    control_requested: str | None = None
    paused_event: dict[str, Any] | None = None
    start: dict[str, Any] | None = None
    latest_snapshot: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    # Every event as the JSON text sent to SSE readers (kept encoded: the decision-boundary
    # grids are ~10 kB of text but several times that as Python lists).
    history: list[tuple[str, str]] = field(default_factory=list)  # (type, json)
    steps: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in STEP_COLUMNS})
    epochs: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in EPOCH_COLUMNS})
    handle: JobHandle | None = None
    # Where the run waits while queued (the executor's answer, read by view()).
    queue: Callable[[], QueuePosition | None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def record(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", "event"))
        if kind == "start":
            self.start = event
            self.status = "running"
        elif kind == "step":
            for column in STEP_COLUMNS:
                self.steps[column].append(event.get(column))
        elif kind == "epoch":
            for column in EPOCH_COLUMNS:
                self.epochs[column].append(event.get(column))
        elif kind in ("boundary", "curve"):
            self.latest_snapshot = event
        elif kind == "paused":
            self.status = "paused"
            self.paused_event = event
            self.control_requested = None
        elif kind == "resumed":
            self.status = "running"
            self.paused_event = None
            if self.control_requested != "pause":  # a pause sent after this step stays asked
                self.control_requested = None
        self._append(kind, event)

    def finish(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        self.status = summary["status"]
        self._append("end", {"type": "end", **summary})

    def next_change(self) -> asyncio.Event:
        """Set when the next event is appended (take it before reading the history)."""
        return self._changed

    def _append(self, kind: str, event: dict[str, Any]) -> None:
        self.history.append((kind, json.dumps(event, allow_nan=False)))
        # Wake every reader waiting on the old event, then arm a fresh one for the next wait.
        self._changed.set()
        self._changed = asyncio.Event()

    def view(self) -> dict[str, Any]:
        """Status and metrics so far, as plain data (schemas.RunView documents it)."""
        last_step = self.steps["total_iteration"][-1] if self.steps["total_iteration"] else 0
        last_epoch = self.epochs["epoch"][-1] if self.epochs["epoch"] else 0
        return {
            "id": self.id,
            "status": self.status,
            "cancel_requested": self.cancel_requested,
            "control_requested": self.control_requested,
            "pause": self._pause_view(),
            "created_at": self.created_at,
            "spec": self.spec.model_dump(mode="json"),
            "device": self.start.get("device") if self.start else None,
            "notices": self.start.get("notices", []) if self.start else [],
            "progress": {
                "epoch": last_epoch, "epochs": self.spec.epochs,
                "total_iteration": last_step, "total_iterations": self.plan.total_iterations,
                "iterations_per_epoch": self.plan.iterations_per_epoch,
            },
            "metrics": {"steps": self.steps, "epochs": self.epochs},
            "latest_snapshot": self.latest_snapshot,
            "summary": self.summary,
            "events_url": f"/runs/{self.id}/events",
            "queue": self._queue_view(),
        }

    def _pause_view(self) -> dict[str, Any] | None:
        """While paused: after which epoch, and how much of the pause budget was left then."""
        if self.status != "paused" or self.paused_event is None:
            return None
        left = float(self.paused_event.get("pause_left_s") or 0.0)
        at = self.paused_event.get("at")
        if isinstance(at, int | float):  # counted down from when it paused
            left = max(0.0, left - max(0.0, time.time() - at))
        return {"epoch": self.paused_event.get("epoch"), "pause_left_s": round(left, 1),
                "max_pause_s": self.paused_event.get("max_pause_s")}

    def _queue_view(self) -> dict[str, Any] | None:
        if self.status != "queued" or self.queue is None:
            return None
        where = self.queue()
        if where is None:  # handed to a worker; its start event is on the way
            return None
        return {"position": where.position, "estimated_start_s": where.estimated_start_s}


# What secrets.token_urlsafe(9) makes. Any other id is unknown without asking the store, so a
# request's id never names another key there (":events", ":cancel", patterns).
RUN_ID = re.compile(r"[A-Za-z0-9_-]{12}")

# A run read from the store was started by another web process, or before a restart: its
# caller is not known here (the store keeps no client addresses), and quotas only count this
# process's runs.
ELSEWHERE = Caller(kind="anonymous", id="another web process")


def run_from_store(stored: StoredRun) -> Run:
    """A run started by another process, rebuilt from its record and events (read-only)."""
    spec = TrainSpec.model_validate(stored.record["spec"])
    run = Run(id=stored.record["id"], caller=ELSEWHERE, spec=spec, plan=plan(spec),
              created_at=stored.record["created_at"], created_mono=time.monotonic())
    for kind, text in stored.events:
        event = json.loads(text)
        if kind == "end":
            event.pop("type", None)
            run.finish(event)
        else:
            run.record(event)
    return run


def replay(run: Run, epoch: int) -> Run:
    """The run as it was when epoch ``epoch`` ended (0: when it started), rebuilt from its
    history: what a student watching live saw then, for replaying a fast run at a pace they
    can follow. The copy is read-only and never ends (it has no ``end`` event)."""
    copy = Run(id=run.id, caller=run.caller, spec=run.spec, plan=run.plan,
               created_at=run.created_at, created_mono=run.created_mono)
    for kind, text in run.history:
        if kind == "end":
            break
        event = json.loads(text)
        if kind in ("step", "epoch") and int(event.get("epoch", 0)) > epoch:
            break
        copy.record(event)
    if copy.status == "paused":  # a pause is live state, not part of the story replayed
        copy.status, copy.paused_event = "running", None
    return copy


class RunRegistry:
    def __init__(self, executor: Executor, settings: Settings,
                 store: RunStore | None = None) -> None:
        self.executor = executor
        self.settings = settings
        # None: this process's table is the only one (run_store = "memory").
        self.store = store
        self._runs: OrderedDict[str, Run] = OrderedDict()  # creation order, for eviction
        self._drivers: set[asyncio.Task[None]] = set()

    # --- creating, reading, cancelling --------------------------------------------------
    async def create(self, spec: TrainSpec, caller: Caller) -> Run:
        """Queue a run; it waits its fair turn for a worker. Raises SpecLimitError (over a
        limit), TooManyRunsError (over a quota), or the executor's QueueFullError; in every
        case nothing is left behind."""
        run_plan = check_limits(spec, self.settings)
        self._check_quotas(caller)
        run = Run(id=secrets.token_urlsafe(9), caller=caller, spec=spec, plan=run_plan,
                  created_at=time.time(), created_mono=time.monotonic())
        # Registered before the await below, so a concurrent create from the same client
        # already counts it against the caps.
        self._runs[run.id] = run
        try:
            if self.store is not None:
                await self.store.create(run.id, {"id": run.id, "created_at": run.created_at,
                                                 "spec": spec.model_dump(mode="json"),
                                                 "driver": driver.this_process()})
        except BaseException:
            del self._runs[run.id]
            raise
        job = Job(kind="train", payload=spec.model_dump(mode="json"),
                  deadline_s=self.settings.train_deadline_s + self.settings.train_wrapup_s
                  + self.settings.train_max_pause_s,
                  lane="batch", owner=caller.key, group=caller.class_id,
                  expected_s=self.settings.train_expected_s)
        try:
            handle = run.handle = await self.executor.submit(job)
        except BaseException:
            del self._runs[run.id]
            if self.store is not None:
                with contextlib.suppress(StoreError):
                    await self.store.delete(run.id)
            raise
        run.queue = lambda: self.executor.position(handle)
        task = asyncio.get_running_loop().create_task(self._drive(run), name=f"run-{run.id}")
        self._drivers.add(task)
        task.add_done_callback(self._drivers.discard)
        return run

    def get(self, run_id: str) -> Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise RunNotFoundError(run_id) from None

    async def find(self, run_id: str) -> Run:
        """The run, from this process or else from the shared store (started elsewhere)."""
        run = self._runs.get(run_id)
        if run is not None:
            return run
        if self.store is None or not RUN_ID.fullmatch(run_id):
            raise RunNotFoundError(run_id)
        stored = await self.store.load(run_id)
        if stored is None:
            raise RunNotFoundError(run_id)
        run = run_from_store(stored)
        if not run.done and driver.is_gone(stored.record.get("driver")):
            await self._end_orphan(run)
        return run

    async def _end_orphan(self, run: Run) -> None:
        """End a run whose driving process was killed, for every reader (see driver.py)."""
        assert self.store is not None
        run.finish(dict(driver.ORPHANED))
        log.warning("training run %s: its process is gone; recorded it as failed", run.id)
        kind, text = run.history[-1]
        await self.store.append(run.id, kind, text)

    async def _check_driver(self, run_id: str) -> None:
        """While following a run from the store: end it if its driver has gone."""
        assert self.store is not None
        stored = await self.store.load(run_id)
        if stored is not None and not any(kind == "end" for kind, _ in stored.events) \
                and driver.is_gone(stored.record.get("driver")):
            await self._end_orphan(run_from_store(stored))

    async def cancel_anywhere(self, run_id: str) -> Run:
        """cancel(), or for a run another process drives, ask that process to cancel it (it
        does at the run's next event)."""
        if run_id in self._runs or self.store is None:
            return self.cancel(run_id)
        run = await self.find(run_id)
        if not run.done:
            await self.store.request_cancel(run_id)
            run.cancel_requested = True
        return run

    def control(self, run_id: str, command: str) -> Run:
        """Send pause, resume or step (control.py says what each does) to a run this process
        drives. A queued run gets it when it starts. Raises RunEndedError for an ended run."""
        if command not in COMMANDS:
            raise ValueError(f"unknown control {command!r}; one of {', '.join(COMMANDS)}")
        run = self.get(run_id)
        if run.done or run.cancel_requested or run.handle is None:
            raise RunEndedError(run_id, run.status)
        if self.executor.control(run.handle, command):
            run.control_requested = command
        return run

    async def control_anywhere(self, run_id: str, command: str) -> Run:
        """control(), or for a run another process drives, ask that process to send it (it
        polls the store while it drives the run, paused or not)."""
        if run_id in self._runs or self.store is None:
            return self.control(run_id, command)
        if command not in COMMANDS:
            raise ValueError(f"unknown control {command!r}; one of {', '.join(COMMANDS)}")
        run = await self.find(run_id)
        if run.done:
            raise RunEndedError(run_id, run.status)
        await self.store.request_control(run_id, command)
        run.control_requested = command
        return run

    async def delete_anywhere(self, run_id: str) -> None:
        if run_id in self._runs:
            self.delete(run_id)
        else:
            await self.cancel_anywhere(run_id)  # RunNotFoundError when nobody has it
        if self.store is not None:
            await self.store.delete(run_id)

    def cancel(self, run_id: str) -> Run:
        """Stop the run: a queued run leaves the queue; a running one is asked to stop, and
        ends (status cancelled, its metrics kept) once it has."""
        run = self.get(run_id)
        if not run.done and not run.cancel_requested and run.handle is not None:
            run.cancel_requested = True
            self.executor.cancel(run.handle)
        return run

    def delete(self, run_id: str) -> None:
        """Cancel the run if it is live and forget it: it is no longer readable."""
        self.cancel(run_id)
        del self._runs[run_id]

    async def stream(
        self, run_id: str, after: int = -1, heartbeat_s: float = 15.0
    ) -> AsyncIterator[tuple[int, str, str] | None]:
        """(index, type, json) of every event after ``after``: the history first, then live
        ones as they come, ending after the run's ``end`` event. Yields None when nothing
        happened for ``heartbeat_s`` (so the caller can keep its connection alive)."""
        if run_id not in self._runs and self.store is not None:
            if not RUN_ID.fullmatch(run_id):
                raise RunNotFoundError(run_id)
            await self._check_driver(run_id)
            async for item in self.store.follow(run_id, after, heartbeat_s):
                if item is None:  # quiet: is anyone still driving it?
                    await self._check_driver(run_id)
                yield item
            return
        run = self.get(run_id)
        index = after + 1
        while True:
            waiter = run.next_change()  # taken before draining: an append while we yield sets it
            while index < len(run.history):
                kind, text = run.history[index]
                yield index, kind, text
                index += 1
            if run.done:
                return
            try:
                await asyncio.wait_for(waiter.wait(), heartbeat_s)
            except TimeoutError:  # not the builtin on Python 3.10
                yield None

    def active(self, caller: Caller | None = None) -> list[Run]:
        return [r for r in self._runs.values()
                if not r.done and (caller is None or r.caller == caller)]

    async def close(self) -> None:
        """Stop following runs (server shutdown); the executor stops the workers."""
        handles = [run.handle for run in self.active() if run.handle is not None]
        # The drivers first: each records "The server shut down." and publishes it. Cancelling
        # the jobs first raced them: a worker's own "Cancelled during epoch N" could land
        # before the driver's task was cancelled, and the reason depended on timing.
        for task in list(self._drivers):
            task.cancel()
        await asyncio.gather(*self._drivers, return_exceptions=True)
        for handle in handles:
            with contextlib.suppress(Exception):
                self.executor.cancel(handle)
        if self.store is not None:
            await self.store.close()

    # --- internals ----------------------------------------------------------------------
    def _check_quotas(self, caller: Caller) -> None:
        mine = self.active(caller)
        if caller.max_runs == 0:  # an API key its teacher made for /eval alone
            raise TooManyRunsError(
                "this API key may not start training runs (its run quota is 0); ask the "
                "teacher for a key with a run quota", self._retry_after(mine))
        if caller.max_runs is not None and len(mine) >= caller.max_runs:
            # An API key's own quota, set by its teacher.
            raise TooManyRunsError(
                f"this API key may have {caller.max_runs} training runs queued or running at "
                f"once and has {len(mine)}; wait for one to end, or ask the teacher for a key "
                "with a larger run quota", self._retry_after(mine))
        if caller.max_runs is None and len(mine) >= self.settings.train_max_runs_per_client:
            raise TooManyRunsError(
                f"you already have {len(mine)} training runs queued or running, the most one "
                "caller may have (setting train_max_runs_per_client); wait for one to end or "
                "cancel it", self._retry_after(mine))
        if caller.class_id is None:
            return
        in_class = [r for r in self.active() if r.caller.class_id == caller.class_id]
        if len(in_class) >= self.settings.train_max_runs_per_class:
            raise TooManyRunsError(
                f"your class already has {len(in_class)} training runs queued or running, the "
                "most one class may have (setting train_max_runs_per_class); try again when "
                "one ends", self._retry_after(in_class))

    def _retry_after(self, runs: list[Run]) -> int:
        """Seconds until the first of ``runs`` is expected to have ended: its estimated start
        (queued) plus a run's wall-time limit."""
        limit = self.settings.train_deadline_s + self.settings.train_wrapup_s
        now = time.monotonic()
        ends = []
        for run in runs:
            where = run.queue() if run.queue is not None else None
            if where is not None:
                ends.append(where.estimated_start_s + limit)
            else:
                ends.append(run.created_mono + limit - now)
        # No run of its own (a key with a quota of 0): waiting helps no sooner than a run's limit.
        return max(1, math.ceil(min(ends, default=limit)))

    async def _drive(self, run: Run) -> None:
        assert run.handle is not None  # set by create() before this task starts
        watcher = (asyncio.get_running_loop().create_task(self._watch_store(run))
                   if self.store is not None else None)
        try:
            async for event in self.executor.events(run.handle):
                run.record(event)
                await self._publish(run)
                if (self.store is not None and not run.cancel_requested
                        and await self._cancel_requested_elsewhere(run)):
                    self.cancel(run.id)
            summary = summary_from_result(await self.executor.result(run.handle),
                                          run.cancel_requested)
        except asyncio.CancelledError:
            run.finish({"status": "cancelled",
                        **with_i18n(reason=Message("The server shut down."), hint=None)})
            await self._publish(run)  # so other processes see the run end, not hang
            raise
        except Exception as error:  # the executor broke, not the run: report it as failed
            log.exception("training run %s: the executor failed", run.id)
            summary = {"status": "failed", "reason": f"the sandbox failed: {error}", "hint": None}
        finally:
            if watcher is not None:
                watcher.cancel()
        run.finish(summary)
        await self._publish(run)
        metrics.RUNS.labels(run.status).inc()
        self._evict()

    async def _publish(self, run: Run) -> None:
        """Write the run's newest event to the shared store. A store failure costs other
        processes their view of the run, never the run itself: it is logged, not raised."""
        if self.store is None:
            return
        kind, text = run.history[-1]
        try:
            await self.store.append(run.id, kind, text)
        except StoreError:
            log.exception("training run %s: could not write its %s event to the run store",
                          run.id, kind)

    async def _watch_store(self, run: Run) -> None:
        """While this process drives the run: the cancels and controls other processes put
        in the store. Polled, not only at each event: a paused run sends no events."""
        assert self.store is not None and run.handle is not None
        while not run.done:
            await asyncio.sleep(self.settings.run_control_poll_s)
            try:
                commands = await self.store.take_controls(run.id)
                cancel = not run.cancel_requested and await self.store.cancel_requested(run.id)
            except StoreError:
                continue
            if cancel:
                self.cancel(run.id)
            for command in commands:
                if command in COMMANDS and not run.done and self.executor.control(run.handle,
                                                                                    command):
                    run.control_requested = command

    async def _cancel_requested_elsewhere(self, run: Run) -> bool:
        assert self.store is not None
        try:
            return await self.store.cancel_requested(run.id)
        except StoreError:
            return False

    def _evict(self) -> None:
        finished = [r for r in self._runs.values() if r.done]
        for run in finished[: max(0, len(finished) - self.settings.train_runs_kept)]:
            del self._runs[run.id]


def summary_from_result(result: JobResult, cancel_requested: bool) -> dict[str, Any]:
    """The run's summary from the job's result: what run_training_job returned, or, when the
    executor stopped the worker itself, a summary saying why."""
    try:
        body = json.loads(result.body)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") in TERMINAL:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    kind = error.get("type")
    # The executor's own sentences are messages ("the job was cancelled"), shown in the
    # page's language; anything else as it came.
    message = (Message.from_json(error.get("message_i18n"))
               or str(error.get("message") or "the sandbox returned no summary"))
    if kind == "CancelledError" or cancel_requested:
        return {"status": "cancelled",
                **with_i18n(reason=Message("Cancelled: {why}", why=message), hint=None)}
    if kind == "TimeoutError":
        hint = Message("Train fewer epochs, use a smaller model or data set, or a larger "
                       "batch_size.")
        return {"status": "timed_out", **with_i18n(reason=message, hint=hint)}
    said = Message.from_json(error.get("hint_i18n")) or error.get("hint")
    return {"status": "failed", **with_i18n(reason=message, hint=said)}
