"""The RunStore protocol: a run's record (its spec and when it was made) and its append-only
list of events (the JSON text SSE readers get), which any web process can read and follow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

# An event as stored and streamed: (index in the run's history, type, JSON text).
StoredEvent = tuple[int, str, str]


class StoreError(RuntimeError):
    """The shared store could not be reached or answered nonsense."""


@dataclass(frozen=True)
class StoredRun:
    record: dict[str, Any]  # what create() stored: id, spec, created_at
    events: list[tuple[str, str]]  # (type, JSON text), in order


class RunStore(Protocol):
    async def create(self, run_id: str, record: dict[str, Any]) -> None:
        """Store a new run's record (before any of its events)."""

    async def append(self, run_id: str, kind: str, data: str) -> None:
        """Append one event; an ``end`` event is the run's last and starts its retention."""

    async def load(self, run_id: str) -> StoredRun | None:
        """The record and every event so far, or None for an unknown (or expired) run."""

    def follow(self, run_id: str, after: int,
               heartbeat_s: float) -> AsyncIterator[StoredEvent | None]:
        """Every event after index ``after``, then live ones as they are appended, ending
        after ``end``; None when nothing came for ``heartbeat_s``."""

    async def request_cancel(self, run_id: str) -> None:
        """Ask the process driving the run to cancel it."""

    async def cancel_requested(self, run_id: str) -> bool:
        """Whether request_cancel() was called for the run."""

    async def request_control(self, run_id: str, command: str) -> None:
        """Ask the process driving the run to send it a control (pause, resume, step)."""

    async def take_controls(self, run_id: str) -> list[str]:
        """The controls requested since the last call, oldest first (each is taken once)."""

    async def delete(self, run_id: str) -> None:
        """Forget the run."""

    async def close(self) -> None:
        """Release connections (server shutdown)."""
