"""The Executor protocol: where sandboxed jobs run.

Routes and services depend only on this protocol, so another backend (for example a Ray
cluster) can replace the local worker pool without touching them. A handle is an opaque,
plain-data id: it crosses process or machine boundaries, and every backend takes the same
type, so each one satisfies the protocol under ``mypy --strict``.

The executor knows no domain package: a job's ``kind`` names a handler that the app
registers (``app/jobs.py``) as ``"module:function"``; the workers import it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.message import Message

# Interactive jobs (a program, a lesson check) never wait behind batch jobs (training runs):
# each lane has its own queue, and batch jobs may use only some of the workers.
Lane = Literal["interactive", "batch"]
LANES: tuple[Lane, ...] = ("interactive", "batch")


@dataclass(frozen=True)
class Job:
    """One unit of sandboxed work. ``kind`` selects the registered handler inside the worker
    (``"eval"`` for a program, ``"train"`` for a training run); ``payload`` is plain JSON data."""

    kind: str
    payload: dict[str, Any]
    # Wall-clock budget of the job; the worker is killed when it passes (plus a grace period).
    deadline_s: float
    lane: Lane = "interactive"
    # Whose job it is (a Caller's key) and their class: the queue is fair between owners,
    # then between classes, and quotas count per owner.
    owner: str = ""
    group: str | None = None
    # How long the job is expected to take until its lane has measured any job (then the
    # lane's running average is used), for the start estimates of jobs behind it. None: the
    # deadline, the most it can take.
    expected_s: float | None = None


@dataclass(frozen=True)
class JobHandle:
    id: str


@dataclass(frozen=True)
class JobResult:
    """What a finished job produced. ``body`` is the JSON document the worker wrote; ``status``
    is the HTTP status it maps to (200, or 413 for a limit known before the work was done)."""

    status: int
    body: bytes


@dataclass(frozen=True)
class QueuePosition:
    """Where a job waits: ``position`` 1 starts next in its lane; ``estimated_start_s`` is
    seconds from now, from the expected durations of the jobs running and ahead of it."""

    position: int
    estimated_start_s: float


@dataclass
class Capacity:
    workers: int
    busy: int
    queued: int
    max_queue: int
    extra: dict[str, Any] = field(default_factory=dict)


class QueueFullError(Exception):
    """The lane's wait queue is full; answer 503 with Retry-After."""

    def __init__(self, retry_after_s: int, message: Message | None = None) -> None:
        self.said = message or Message("all sandbox workers are busy; retry in {seconds} s",
                                       seconds=retry_after_s)
        super().__init__(str(self.said))
        self.retry_after_s = retry_after_s


class UnknownJobError(LookupError):
    """A handle this executor never issued, or whose job ended and was forgotten."""


class Executor(Protocol):
    async def start(self) -> None:
        """Bring the backend up (workers warm); the app awaits it before serving."""
        ...

    async def submit(self, job: Job) -> JobHandle:
        """Queue a job; raises QueueFullError when its lane's queue is full."""
        ...

    async def result(self, handle: JobHandle) -> JobResult:
        """Wait for the job's final result (never raises for user errors: they are results)."""
        ...

    def events(self, handle: JobHandle) -> AsyncIterator[dict[str, Any]]:
        """Progress events the job emits before its result (training runs), in order."""
        ...

    def cancel(self, handle: JobHandle) -> None:
        """Stop the job, queued or running; its result reports that it was cancelled."""
        ...

    def control(self, handle: JobHandle, command: str) -> bool:
        """Send a control command (a short ASCII word, e.g. "pause") to the job, which reads
        it through JobContext.controls; a queued job gets it as soon as it starts. False when
        the job has ended (or was never issued): nothing was sent."""
        ...

    def position(self, handle: JobHandle) -> QueuePosition | None:
        """Where the job waits in its lane; None once it runs (or ended)."""
        ...

    def capacity(self) -> Capacity: ...

    def ready(self) -> bool:
        """True while the backend can run jobs now (workers warm, not closed)."""
        ...

    async def close(self) -> None: ...

    async def run(self, job: Job) -> JobResult:
        """submit() then result(): the common case."""
        ...
