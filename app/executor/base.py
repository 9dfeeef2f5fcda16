"""The Executor protocol: where sandboxed jobs run.

Routes and services depend only on this protocol, so a distributed backend (for example a
Ray cluster) can replace the local worker pool without touching them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Job:
    """One unit of sandboxed work. ``kind`` selects the handler inside the worker
    (``"eval"`` for a program, ``"train"`` for a training run); ``payload`` is plain JSON data."""

    kind: str
    payload: dict[str, Any]
    # Wall-clock budget of the job; the worker is killed when it passes (plus a grace period).
    deadline_s: float


@dataclass(frozen=True)
class JobResult:
    """What a finished job produced. ``body`` is the JSON document the worker wrote; ``status``
    is the HTTP status it maps to (200, or 413 for a limit known before the work was done)."""

    status: int
    body: bytes


@dataclass
class Capacity:
    workers: int
    busy: int
    queued: int
    max_queue: int
    extra: dict[str, Any] = field(default_factory=dict)


class QueueFullError(Exception):
    """Every worker is busy and the wait queue is full; answer 503 with Retry-After."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"all sandbox workers are busy; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class JobHandle(Protocol):
    id: str


class Executor(Protocol):
    async def submit(self, job: Job) -> JobHandle:
        """Queue a job; raises QueueFullError when the queue is full."""
        ...

    async def result(self, handle: JobHandle) -> JobResult:
        """Wait for the job's final result (never raises for user errors: they are results)."""
        ...

    def events(self, handle: JobHandle) -> AsyncIterator[dict[str, Any]]:
        """Progress events the job emits before its result (training runs), in order."""
        ...

    def cancel(self, handle: JobHandle) -> None:
        """Stop the job; its result reports that it was cancelled."""
        ...

    def capacity(self) -> Capacity: ...

    async def close(self) -> None: ...

    async def run(self, job: Job) -> JobResult:
        """submit() then result(): the common case."""
        ...
