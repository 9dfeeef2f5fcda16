"""Pause, resume and step one epoch (control.py), driven through a real training job with
scripted commands in place of a student's clicks."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import JobRun, run_job

from app.training.control import PauseControl

SMALL = {"dataset": {"name": "moons", "n_samples": 200}, "model": {"hidden": [8]},
         "batch_size": 16, "seed": 0, "epochs": 6}


class Student:
    """Sends commands as a student would, each once the run has reached a state: "start"
    (at once), "paused" (the run waits) or "epoch N" (epoch N has ended)."""

    def __init__(self, script: list[tuple[str, str]]) -> None:
        self.script = list(script)
        self.paused = False
        self.epochs_seen = 0

    def watch(self, event: dict[str, Any]) -> None:
        if event["type"] == "paused":
            self.paused = True
        elif event["type"] == "resumed":
            self.paused = False
        elif event["type"] == "epoch":
            self.epochs_seen = event["epoch"]

    def controls(self, wait_s: float) -> list[str]:
        if not self.script:
            return []
        when, command = self.script[0]
        if (when == "start" or (when == "paused" and self.paused)
                or (when.startswith("epoch ") and self.epochs_seen >= int(when[6:]))):
            self.script.pop(0)
            return [command]
        return []


def run_with(script: list[tuple[str, str]], **settings: Any) -> tuple[JobRun, Student]:
    student = Student(script)
    run = run_job(SMALL, lambda: False, student.controls, student.watch, **settings)
    return run, student


def kinds(run: JobRun) -> list[str]:
    return [f"{e['type']} {e['epoch']}" for e in run.events
            if e["type"] in ("epoch", "paused", "resumed")]


def test_pause_then_step_trains_one_epoch_at_a_time_then_resume_finishes() -> None:
    run, _ = run_with([("epoch 2", "pause"), ("paused", "step"), ("paused", "step"),
                       ("paused", "resume")])
    assert kinds(run) == ["epoch 1", "epoch 2", "paused 2", "resumed 2", "epoch 3", "paused 3",
                          "resumed 3", "epoch 4", "paused 4", "resumed 4", "epoch 5", "epoch 6"]
    assert [e["reason"] for e in run.of("resumed")] == ["step", "step", "resume"]
    assert run.summary["status"] == "finished" and run.summary["epochs_completed"] == 6


def test_paused_runs_train_the_same_numbers_as_unpaused_ones() -> None:
    plain = run_job(SMALL)
    paused, _ = run_with([("start", "pause"), ("paused", "step"), ("paused", "resume")])
    assert kinds(paused)[:3] == ["paused 0", "resumed 0", "epoch 1"]  # paused before epoch 1
    assert [e["train_loss"] for e in paused.of("epoch")] == \
        [e["train_loss"] for e in plain.of("epoch")]
    assert paused.summary["final"] == plain.summary["final"]


def test_a_pause_snapshots_the_boundary_of_the_epoch_it_stopped_after() -> None:
    # One snapshot per run (the last epoch's) unless paused: the pause adds epoch 3's.
    run, _ = run_with([("epoch 3", "pause"), ("paused", "resume")],
                      train_max_boundary_events=1)
    assert [e["epoch"] for e in run.of("boundary")] == [3, 6]


def test_the_pause_budget_ends_a_pause_and_the_run_finishes() -> None:
    started = time.monotonic()
    run, _ = run_with([("epoch 1", "pause")], train_max_pause_s=0.3)
    took = time.monotonic() - started
    (resumed,) = run.of("resumed")
    assert resumed["reason"] == "pause_limit" and resumed["paused_s"] >= 0.3
    assert run.summary["status"] == "finished"
    assert took < 0.3 + 5.0
    # The wait time is not training time.
    assert run.summary["train_s"] < run.summary["elapsed_s"] - 0.25


def test_a_used_up_budget_refuses_further_pauses_at_once() -> None:
    run, _ = run_with([("epoch 1", "pause"), ("epoch 2", "pause")], train_max_pause_s=0.2)
    reasons = [e["reason"] for e in run.of("resumed")]
    assert reasons == ["pause_limit", "pause_limit"]
    assert len(run.of("paused")) == 1  # the second pause was refused without waiting


def test_cancel_during_a_pause_ends_the_run_as_cancelled() -> None:
    student = Student([("epoch 2", "pause")])
    cancelled: list[bool] = []

    def should_stop() -> bool:  # the executor's cancel flag: set once, stays set
        if student.paused:
            cancelled.append(True)
        return bool(cancelled)

    run = run_job(SMALL, should_stop, student.controls, student.watch)
    assert [e["reason"] for e in run.of("resumed")] == ["cancelled"]
    assert run.summary["status"] == "cancelled" and run.summary["epochs_completed"] == 2


def test_a_pause_asked_in_the_last_epoch_is_dropped() -> None:
    run, _ = run_with([("epoch 6", "pause")])
    assert run.of("paused") == [] and run.summary["status"] == "finished"


@pytest.mark.parametrize(("commands", "paused", "go", "requested"), [
    (["pause"], False, False, True),
    (["pause", "resume"], False, False, False),
    (["step"], True, True, True),
    (["resume"], True, True, False),
    (["pause"], True, False, True),
    (["bogus"], True, False, False),
])
def test_commands_change_the_state(commands: list[str], paused: bool, go: bool,
                                   requested: bool) -> None:
    control = PauseControl(epochs=5, max_pause_s=10)
    assert control.take(commands, paused) is go
    assert control.pause_requested is requested
