"""Shared helpers of the training tests: run a job in-process and collect its events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from app.config import Settings
from app.training.job import Controls, no_controls, run_training_job

# Unthrottled step events, so a test sees every optimizer step.
EVERY_STEP = {"train_max_events_per_s": 1e9}


@dataclass
class JobRun:
    summary: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


def run_job(
    spec: dict[str, Any],
    should_stop: Callable[[], bool] = lambda: False,
    controls: Controls = no_controls,
    watch: Callable[[dict[str, Any]], None] = lambda event: None,
    **settings: Any,
) -> JobRun:
    """``watch`` sees each event as it is emitted (a scripted student reacts to them)."""
    events: list[dict[str, Any]] = []

    def emit(event: dict[str, Any]) -> None:
        # The worker sends events as JSON: each must survive a strict round trip.
        events.append(json.loads(json.dumps(event, allow_nan=False)))
        watch(event)

    summary = run_training_job(spec, emit, should_stop, Settings(**{**EVERY_STEP, **settings}),
                               controls)
    json.dumps(summary, allow_nan=False)
    return JobRun(summary, events)


@pytest.fixture
def job() -> Callable[..., JobRun]:
    return run_job


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train with one torch thread, as a sandbox worker does: the same numbers as there, and
    no OpenMP threads spinning against other processes on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server (Debian's redis-server) for the shared run store's tests."""
    from tests.services import ServiceMissingError, redis_server

    try:
        with redis_server() as url:
            yield url
    except ServiceMissingError as missing:
        pytest.skip(str(missing))
