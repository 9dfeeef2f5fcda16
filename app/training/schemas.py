"""The JSON shapes of the training-run API (what POST /runs and GET /runs/{id} answer), for
OpenAPI and for clients. The request shape is spec.TrainSpec."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RunStatus = Literal["queued", "running", "paused", "finished", "cancelled", "timed_out",
                    "diverged", "failed"]
# The statuses a run ends in (queued -> running (<-> paused) -> one of these); the one list
# the store, the API and the pages read.
TERMINAL: frozenset[RunStatus] = frozenset({"finished", "cancelled", "timed_out", "diverged",
                                            "failed"})
Control = Literal["pause", "resume", "step"]


class QueueView(BaseModel):
    position: int = Field(ge=1, description="1: the next run of the queue to start. Runs wait "
                          "their fair turn: round-robin over callers, so a later run of "
                          "someone else may start before your second one.")
    estimated_start_s: float = Field(
        ge=0, description="Seconds from now until the run is expected to start, from the "
        "expected length of the runs ahead of it (their recent average on this server).")


class PauseView(BaseModel):
    epoch: int = Field(description="Epochs completed when the run paused (0: before the first).")
    pause_left_s: float = Field(
        description="Seconds of the run's pause budget (setting train_max_pause_s) left now; "
        "when they run out the run resumes by itself.")
    max_pause_s: float = Field(description="The whole budget: train_max_pause_s.")


class RunCreated(BaseModel):
    id: str = Field(description="Unguessable run id; whoever knows it can read or cancel the run.")
    status: RunStatus
    url: str = Field(description="GET: status and metrics so far; DELETE: cancel and forget.")
    events_url: str = Field(description="GET: Server-Sent Events, the history then live.")
    cancel_url: str = Field(description="POST: cancel (the run stays readable).")
    queue: QueueView | None = Field(description="Where the run waits, while it is queued.")


class Progress(BaseModel):
    epoch: int = Field(description="Epochs completed.")
    epochs: int
    total_iteration: int = Field(description="Last reported optimizer step.")
    total_iterations: int
    iterations_per_epoch: int


class Metrics(BaseModel):
    steps: dict[str, list[Any]] = Field(
        description="Reported steps, one list per column: epoch, iteration, total_iteration, "
        "loss, lr, grad_norm, grad_norm_clipped. Non-finite numbers are the strings "
        "\"nan\", \"inf\", \"-inf\".")
    epochs: dict[str, list[Any]] = Field(
        description="One entry per epoch: epoch, mean_step_loss, train_loss, train_accuracy, "
        "val_loss, val_accuracy (null for regression or without validation), elapsed_s.")


class RunView(BaseModel):
    id: str
    status: RunStatus
    cancel_requested: bool
    control_requested: Control | None = Field(
        description="The pause, resume or step sent last, until the run acts on it.")
    pause: PauseView | None = Field(description="While the run is paused.")
    created_at: float = Field(description="Unix time the run was queued.")
    spec: dict[str, Any]
    device: str | None = Field(description="Where the run trains, once it started.")
    notices: list[str]
    progress: Progress
    metrics: Metrics
    latest_snapshot: dict[str, Any] | None = Field(
        description="The last decision-boundary grid (2-D sets) or prediction curve (1-D "
        "regression).")
    summary: dict[str, Any] | None = Field(
        description="Once the run ended: status, reason and hint, final metrics, parameters "
        "(name, shape, norm), optimizer state norms, steps_per_s.")
    events_url: str
    queue: QueueView | None = Field(description="Where the run waits, while it is queued.")
