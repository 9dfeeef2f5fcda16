"""Pause, resume and step one epoch: what a running training run does with the control
commands a student sends (POST /runs/{id}/pause, /resume, /step).

A run pauses only between epochs, so what the page shows while it waits (the epoch table,
the decision boundary) is always a whole epoch. The commands:

- ``pause``: pause at the next epoch boundary (or before the first epoch, if it has not
  started yet).
- ``resume``: go on training (and forget a pause not yet reached).
- ``step``: paused, train one more epoch and pause again; running, the same as ``pause``.

A paused run holds a sandbox worker, so the time a run may spend paused is bounded
(setting train_max_pause_s, for the whole run): when it is used up the run resumes by
itself and trains to the end, freeing its worker within its wall-time limit.

No torch, no I/O: job.py feeds it commands and the clock, and emits what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

COMMANDS = ("pause", "resume", "step")
Command = Literal["pause", "resume", "step"]

# How often a paused run wakes to check whether it was cancelled (the cancel arrives on the
# same channel, so this only bounds a lost wake-up).
WAKE_S = 1.0


@dataclass
class PauseControl:
    """The pause state of one run, asked at every epoch boundary (will_pause, then wait)."""

    epochs: int
    max_pause_s: float
    pause_requested: bool = False
    paused_s: float = 0.0  # time spent paused so far, over the whole run

    def take(self, commands: Iterable[str], paused: bool) -> bool:
        """Apply commands; returns True when a paused run should go on now."""
        go = False
        for command in commands:
            if command == "pause":
                self.pause_requested = True
            elif command == "resume":
                self.pause_requested = False
                go = True
            elif command == "step":
                # Paused: train one epoch, then pause again. Running: pause at the boundary.
                self.pause_requested = True
                go = True
        return go and paused

    @property
    def pause_left_s(self) -> float:
        return max(0.0, self.max_pause_s - self.paused_s)

    def will_pause(self, epoch_done: int, controls: Callable[[float], list[str]]) -> bool:
        """Whether the run pauses at the boundary after ``epoch_done`` epochs (0: before the
        first), taking the commands sent so far. Never after the last epoch: nothing is left
        to pause before."""
        self.take(controls(0.0), paused=False)
        return self.pause_requested and epoch_done < self.epochs

    def wait(
        self,
        epoch_done: int,
        controls: Callable[[float], list[str]],
        should_stop: Callable[[], bool],
        clock: Callable[[], float],
        emit: Callable[[dict[str, Any]], None],
    ) -> float:
        """Pause (after will_pause said so) until resume, step, cancel or the end of the
        pause budget. Returns the seconds spent paused (the caller moves its wall-time
        deadline by as much)."""
        self.pause_requested = False
        if self.pause_left_s <= 0:
            emit({"type": "resumed", "epoch": epoch_done, "reason": "pause_limit",
                  "paused_s": 0.0, "max_pause_s": self.max_pause_s})
            return 0.0
        started = clock()
        emit({"type": "paused", "epoch": epoch_done, "pause_left_s": round(self.pause_left_s, 1),
              "max_pause_s": self.max_pause_s})
        reason = "pause_limit"
        while True:
            left = self.pause_left_s - (clock() - started)
            if should_stop():
                reason = "cancelled"
                break
            if left <= 0:
                break
            if self.take(controls(min(WAKE_S, left)), paused=True):
                reason = "step" if self.pause_requested else "resume"
                break
        paused_for = clock() - started
        self.paused_s += paused_for
        emit({"type": "resumed", "epoch": epoch_done, "reason": reason,
              "paused_s": round(paused_for, 3), "max_pause_s": self.max_pause_s})
        return paused_for
