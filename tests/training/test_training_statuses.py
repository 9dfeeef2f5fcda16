"""One vocabulary of run statuses: the API's RunStatus; the statuses a run ends in and the
ones the training loop itself can end with are drawn from it."""

from __future__ import annotations

from typing import get_args

from app.playground import train_views
from app.training import loop, runs
from app.training.schemas import TERMINAL, RunStatus


def test_the_statuses_a_run_ends_in_are_api_statuses() -> None:
    assert set(TERMINAL) < set(get_args(RunStatus))
    assert {"queued", "running", "paused"}.isdisjoint(TERMINAL)
    assert runs.TERMINAL is TERMINAL and train_views.TERMINAL is TERMINAL


def test_the_loops_outcomes_are_terminal_statuses() -> None:
    assert set(get_args(loop.Status)) <= TERMINAL
    assert set(get_args(loop.StopReason)) <= TERMINAL
