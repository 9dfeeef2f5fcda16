"""The worker side of a training run: ``run_training_job`` builds the run from its spec, trains
it through loop.train, turns what the loop reports into JSON-ready events, and returns the
final summary.

It runs inside a sandbox worker (torch imported, one torch thread); tests call it in-process
with a list-collecting ``emit``. Every event and the summary are plain JSON data: non-finite
floats become the strings "nan", "inf", "-inf" as in the /eval contract.

Events, in order (``type`` tells them apart):
- ``start``: device, notices, sizes (iterations_per_epoch, total_iterations, ...), a sample of
  the training points for drawing (2-D and 1-D sets).
- ``step``: epoch, iteration, total_iteration, loss, lr (and lrs per layer when they differ),
  grad_norm, grad_norm_clipped; every ``log_every`` steps, at most train_max_events_per_s.
- ``epoch``: mean_step_loss, train_loss, train_accuracy, val_loss, val_accuracy, elapsed_s.
- ``boundary`` (2-D sets): a grid x grid map of the model's prediction: ``probability`` of
  class 1 for two classes, else ``label`` and ``confidence``; rows run along y, columns along x.
- ``curve`` (1-D regression): the model's prediction at evenly spaced x.
- ``paused`` / ``resumed`` (control.py): the run waits between epochs after a ``pause`` or
  ``step`` command; ``resumed`` says why it goes on (resume, step, cancelled, pause_limit).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import torch
from pydantic import ValidationError

from app.config import Settings
from app.executor.handlers import JobContext
from app.inspect.floats import finite_or_text
from app.message import Message, Text, with_i18n
from app.training import datasets
from app.training.control import PauseControl
from app.training.datasets import Split
from app.training.loop import (
    Divergence,
    EpochReport,
    Outcome,
    Setup,
    StepReport,
    StopReason,
    evaluate,
    train,
)
from app.training.losses import class_probabilities, make_loss, targets_for
from app.training.models import build_mlp
from app.training.optim import make_optimizer, make_scheduler, state_summary
from app.training.spec import RunPlan, SpecLimitError, TrainSpec, check_limits

Emit = Callable[[dict[str, Any]], None]
Controls = Callable[[float], list[str]]


def no_controls(wait_s: float) -> list[str]:
    """The controls of a run nobody can pause (tests, the benchmark)."""
    return []

# Points of the training set sent once for drawing: enough to show the shape of a set, few
# enough that the start event stays small.
DISPLAY_POINTS = 400
# Points along x of a regression curve snapshot.
CURVE_POINTS = 100


def run_training_job(
    payload: dict[str, Any],
    emit: Emit,
    should_stop: Callable[[], bool],
    settings: Settings,
    controls: Controls = no_controls,
) -> dict[str, Any]:
    """Train the run ``payload`` describes (a TrainSpec as JSON); return its final summary.
    ``controls`` gives the pause/resume/step commands sent to the run (control.py).

    Never raises for a bad spec or a failed run: those are results (status failed).
    """
    started = time.monotonic()
    deadline = started + settings.train_deadline_s
    try:
        spec = TrainSpec.model_validate(payload)
        run_plan = check_limits(spec, settings)
    except ValidationError as invalid:
        reasons = "; ".join(e["msg"] for e in invalid.errors())
        return _failed(f"invalid spec: {reasons}", started)
    except SpecLimitError as over:
        return _failed(over.said, started)
    try:
        return _run(spec, run_plan, emit, should_stop, controls, settings, started, deadline)
    except Exception as error:  # a failed run is a result, not a crashed worker
        return _failed(f"{type(error).__name__}: {error}", started, hint=_failure_hint(error))


def _run(
    spec: TrainSpec, run_plan: RunPlan, emit: Emit, should_stop: Callable[[], bool],
    controls: Controls, settings: Settings, started: float, deadline: float,
) -> dict[str, Any]:
    notices: list[str] = []
    device = _pick_device(spec.device, settings, notices)
    if device is None:
        return _failed(Message("device 'cuda' was requested but this server has no GPU"),
                       started, hint=Message("use device 'auto' or 'cpu'"))
    autocast_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    if spec.mixed_precision:
        if device.type == "cuda":
            autocast_dtype = torch.float16
            scaler = torch.amp.GradScaler("cuda")
        else:
            autocast_dtype = torch.bfloat16
            notices.append("Mixed precision on the CPU uses bfloat16 autocast; bfloat16 keeps "
                           "float32's range, so no gradient scaler is needed.")

    torch.manual_seed(spec.seed)  # model init and dropout
    raw = datasets.load(spec.dataset, spec.seed)
    data = Split(raw.x_train, targets_for(spec.loss, raw.y_train),
                 raw.x_val, targets_for(spec.loss, raw.y_val)).to(device)
    model = build_mlp(run_plan.in_features, spec.model, run_plan.out_features,
                      probability_output=spec.loss == "bce").to(device)
    optimizer = make_optimizer(spec.optimizer, model)
    scheduler = make_scheduler(spec.scheduler, optimizer,
                               steps_per_epoch=run_plan.iterations_per_epoch,
                               total_steps=run_plan.total_iterations)
    shuffle_gen = torch.Generator().manual_seed(spec.seed + 1) if spec.shuffle else None
    setup = Setup(
        model=model, optimizer=optimizer, scheduler=scheduler, loss_fn=make_loss(spec.loss),
        loss_name=spec.loss, classification=run_plan.task == "classification", data=data,
        epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle,
        drop_last=spec.drop_last, grad_clip=spec.grad_clip,
        grad_accumulation=spec.grad_accumulation, autocast_dtype=autocast_dtype, scaler=scaler,
        shuffle_generator=shuffle_gen,
    )
    snapshots = _Snapshots(spec, run_plan, raw, settings) if run_plan.in_features <= 2 else None
    emit(_start_event(spec, run_plan, device, notices, raw if snapshots else None))
    pauses = PauseControl(spec.epochs, settings.train_max_pause_s)
    hooks = _JobHooks(emit, should_stop, deadline, spec, settings, setup, snapshots, started,
                      pauses, controls)

    train_started = time.monotonic()
    hooks.pause_point(0)  # paused before it started (a pause sent while it was queued)
    outcome = train(setup, hooks)
    # Time spent paused is not training time (steps_per_s would otherwise read low).
    train_s = time.monotonic() - train_started - pauses.paused_s
    return _summary(spec, run_plan, setup, outcome, device, notices, started, train_s, settings)


def _pick_device(asked: str, settings: Settings, notices: list[str]) -> torch.device | None:
    has_cuda = torch.cuda.is_available()
    if asked == "cpu":
        return torch.device("cpu")
    if has_cuda:
        return torch.device("cuda", torch.cuda.current_device())  # reported as "cuda:0"
    if asked == "cuda":
        if settings.cuda_fallback == "error":
            return None
        notices.append("CUDA was requested but this server has no GPU: the run uses the CPU.")
    else:
        notices.append("This server has no GPU: the run uses the CPU.")
    return torch.device("cpu")


class _JobHooks:
    """The loop's hooks in a worker: rate-limited step events, epoch events with snapshots,
    and the two reasons to stop early (cancel, wall time)."""

    def __init__(
        self, emit: Emit, should_stop: Callable[[], bool], deadline: float, spec: TrainSpec,
        settings: Settings, setup: Setup, snapshots: _Snapshots | None, started: float,
        pauses: PauseControl, controls: Controls,
    ) -> None:
        self._emit = emit
        self._pauses = pauses
        self._controls = controls
        self._should_stop = should_stop
        self._deadline = deadline
        self._log_every = spec.log_every
        rate = settings.train_max_events_per_s
        self._min_interval = 1.0 / rate if rate > 0 else 0.0
        self._last_step_event = -math.inf
        self._setup = setup
        self._snapshots = snapshots
        self._started = started

    def wants_step(self, total_iteration: int) -> bool:
        if total_iteration % self._log_every and total_iteration != 1:
            return False
        now = time.monotonic()
        if now - self._last_step_event < self._min_interval:
            return False
        self._last_step_event = now
        return True

    def on_step(self, r: StepReport) -> None:
        event: dict[str, Any] = {
            "type": "step", "epoch": r.epoch, "iteration": r.iteration,
            "total_iteration": r.total_iteration, "loss": num(r.loss), "lr": num(r.lr),
            "grad_norm": num(r.grad_norm), "grad_norm_clipped": num(r.grad_norm_clipped),
        }
        if len(set(r.lrs)) > 1:
            event["lrs"] = [num(lr) for lr in r.lrs]
        self._emit(event)

    def on_epoch(self, r: EpochReport) -> None:
        self._emit({
            "type": "epoch", "epoch": r.epoch, "mean_step_loss": num(r.mean_step_loss),
            "train_loss": num(r.train_loss), "train_accuracy": num(r.train_accuracy),
            "val_loss": num(r.val_loss), "val_accuracy": num(r.val_accuracy),
            "elapsed_s": round(time.monotonic() - self._started, 3),
        })
        pausing = self._pauses.will_pause(r.epoch, self._controls)
        # A paused run always shows the boundary of the epoch it stopped after.
        if self._snapshots is not None and (pausing or self._snapshots.due(r.epoch)):
            self._emit(self._snapshots.take(self._setup.model, r.epoch))
        if pausing:
            self._wait(r.epoch)

    def pause_point(self, epoch_done: int) -> None:
        """Pause here if asked (before the first epoch; on_epoch handles the others)."""
        if self._pauses.will_pause(epoch_done, self._controls):
            self._wait(epoch_done)

    def _wait(self, epoch_done: int) -> None:
        # The wall-time limit counts training, not waiting.
        self._deadline += self._pauses.wait(epoch_done, self._controls, self._should_stop,
                                            time.monotonic, self._emit_stamped)

    def _emit_stamped(self, event: dict[str, Any]) -> None:
        """Pause events carry the Unix time they happened at, so a reader can count down
        what is left of the pause budget."""
        self._emit({**event, "at": round(time.time(), 3)})

    def stop_reason(self) -> StopReason | None:
        if self._should_stop():
            return "cancelled"
        if time.monotonic() >= self._deadline:
            return "timed_out"
        return None


class _Snapshots:
    """Decision-boundary grids (2-D classification) or prediction curves (1-D regression),
    spread evenly over the epochs, at most train_max_boundary_events of them and at most one
    per train_boundary_min_interval_s, plus one after the last epoch."""

    def __init__(self, spec: TrainSpec, run_plan: RunPlan, raw: Split, settings: Settings):
        self._loss = spec.loss
        self._epochs = spec.epochs
        self._every = max(1, math.ceil(spec.epochs / max(1, settings.train_max_boundary_events)))
        self._enabled = settings.train_max_boundary_events > 0
        self._classes = run_plan.n_classes
        x = torch.cat([raw.x_train, raw.x_val])
        low, high = x.min(dim=0).values, x.max(dim=0).values
        margin = 0.1 * (high - low) + 0.1  # room around the data so the boundary shows
        self.low = (low - margin).tolist()
        self.high = (high + margin).tolist()
        self._grid = settings.train_boundary_grid
        self._min_interval = settings.train_boundary_min_interval_s
        self._last_taken = -math.inf
        if run_plan.in_features == 2:
            xs = torch.linspace(self.low[0], self.high[0], self._grid)
            ys = torch.linspace(self.low[1], self.high[1], self._grid)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # [grid, grid] each; rows follow y
            self._points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # [grid*grid, 2]
        else:
            xs = torch.linspace(self.low[0], self.high[0], CURVE_POINTS)
            self._points = xs.unsqueeze(1)  # [CURVE_POINTS, 1]

    def due(self, epoch: int) -> bool:
        if not self._enabled:
            return False
        if epoch == self._epochs:
            return True
        return epoch % self._every == 0 and (
            time.monotonic() - self._last_taken >= self._min_interval
        )

    @torch.no_grad()
    def take(self, model: torch.nn.Module, epoch: int) -> dict[str, Any]:
        self._last_taken = time.monotonic()
        model.eval()
        device = next(model.parameters()).device
        out = model(self._points.to(device)).float().cpu()
        if self._classes == 0:
            return {"type": "curve", "epoch": epoch, "x": _rounded(self._points[:, 0], 3),
                    "y": _rounded(out[:, 0], 4)}
        g = self._grid
        probs = class_probabilities(self._loss, out)  # [g*g, C]
        event: dict[str, Any] = {
            "type": "boundary", "epoch": epoch, "size": g, "classes": self._classes,
            "x_range": [round(self.low[0], 3), round(self.high[0], 3)],
            "y_range": [round(self.low[1], 3), round(self.high[1], 3)],
        }
        if self._classes == 2:
            event["probability"] = _rounded(probs[:, 1].reshape(g, g), 2)
        else:
            confidence, label = probs.max(dim=1)
            event["label"] = label.reshape(g, g).tolist()
            event["confidence"] = _rounded(confidence.reshape(g, g), 2)
        return event


def _start_event(
    spec: TrainSpec, p: RunPlan, device: torch.device, notices: list[str], raw: Split | None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "start", "device": str(device), "notices": list(notices), "task": p.task,
        "classes": p.n_classes, "in_features": p.in_features, "n_train": p.n_train,
        "n_val": p.n_val, "epochs": spec.epochs, "iterations_per_epoch": p.iterations_per_epoch,
        "total_iterations": p.total_iterations, "parameter_count": p.parameter_count,
    }
    if raw is not None:
        # A fixed sample of the data for drawing the points under the boundary / curve.
        take = min(DISPLAY_POINTS, raw.x_train.shape[0])
        event["points"] = {
            "x": _rounded(raw.x_train[:take], 3),
            "y": raw.y_train[:take].tolist() if p.n_classes else _rounded(raw.y_train[:take, 0], 3),
        }
    return event


def _summary(
    spec: TrainSpec, p: RunPlan, s: Setup, outcome: Outcome, device: torch.device,
    notices: list[str], started: float, train_s: float, settings: Settings,
) -> dict[str, Any]:
    d = s.data
    train_loss, train_acc = evaluate(s.model, s.loss_fn, s.loss_name, s.classification,
                                     d.x_train, d.y_train)
    val_loss: float | None = None
    val_acc: float | None = None
    if d.x_val.shape[0]:
        val_loss, val_acc = evaluate(s.model, s.loss_fn, s.loss_name, s.classification,
                                     d.x_val, d.y_val)
    names = {id(param): name for name, param in s.model.named_parameters()}
    reason, hint = _explain(outcome, spec, settings)
    summary: dict[str, Any] = {
        "status": outcome.status,
        **with_i18n(reason=reason, hint=hint),
        "device": str(device),
        "notices": notices,
        "epochs": spec.epochs,
        "epochs_completed": outcome.epochs_completed,
        "iterations": outcome.iterations,
        "total_iterations": p.total_iterations,
        "elapsed_s": round(time.monotonic() - started, 3),
        "train_s": round(train_s, 3),
        "steps_per_s": round(outcome.iterations / train_s, 1) if train_s > 0 else None,
        "final": {"train_loss": num(train_loss), "train_accuracy": num(train_acc),
                  "val_loss": num(val_loss), "val_accuracy": num(val_acc)},
        "parameter_count": p.parameter_count,
        "parameters": [
            {"name": name, "shape": list(param.shape), "numel": param.numel(),
             "norm": num(float(torch.linalg.vector_norm(param.detach().float())))}
            for name, param in s.model.named_parameters()
        ],
        "optimizer": {
            "name": spec.optimizer.name,
            "param_groups": [{"name": g.get("name"), "lr": num(float(g["lr"])),
                              "weight_decay": num(float(g.get("weight_decay", 0.0)))}
                             for g in s.optimizer.param_groups],
            "state": [{k: num(v) if isinstance(v, float) else v for k, v in row.items()}
                      for row in state_summary(s.optimizer, names)],
        },
    }
    if outcome.divergence is not None:
        summary["divergence"] = _divergence_view(outcome.divergence)
    return summary


def _explain(
    outcome: Outcome, spec: TrainSpec, settings: Settings
) -> tuple[Message | None, Message | None]:
    """A plain-words reason and what to try, for every status but finished."""
    epoch = outcome.epochs_completed + 1
    if outcome.status == "finished":
        return None, None
    if outcome.status == "cancelled":
        return Message("Cancelled during epoch {epoch} of {epochs}.", epoch=epoch,
                       epochs=spec.epochs), None
    if outcome.status == "timed_out":
        return (
            Message("The run reached its wall-time limit of {limit:g} s during epoch {epoch} "
                    "of {epochs}.", limit=settings.train_deadline_s, epoch=epoch,
                    epochs=spec.epochs),
            TIMED_OUT_HINT,
        )
    div = outcome.divergence
    assert div is not None  # status diverged always carries it
    what = Message("loss") if div.where == "loss" else Message("gradient norm")
    value = num(div.loss if div.where == "loss" else div.grad_norm)
    lr = spec.optimizer.base_lr
    hints = Message("lower the learning rate (try {lower:g} instead of {lr:g})",
                    lower=lr / 10, lr=lr)
    for more, wanted in (
            (Message("clip gradients (grad_clip: 1.0)"), spec.grad_clip is None),
            (Message("warm the learning rate up (scheduler: warmup)"),
             spec.scheduler.name == "none"),
            (Message("add batch norm"), not spec.model.batch_norm and bool(spec.model.hidden))):
        if wanted:
            hints = Message("{first}, {then}", first=hints, then=more)
    return (
        Message("Training diverged: the {what} became {value} at epoch {epoch}, iteration "
                "{iteration} (step {step}). The updates grew until the numbers overflowed, so "
                "training stopped before that step changed the model.", what=what,
                value=str(value), epoch=div.epoch, iteration=div.iteration,
                step=div.total_iteration),
        Message("Try to {steps}.", steps=hints),
    )


TIMED_OUT_HINT = Message("Train fewer epochs, use a smaller model or data set, or a larger "
                         "batch_size.")


def _divergence_view(div: Divergence) -> dict[str, Any]:
    return {"epoch": div.epoch, "iteration": div.iteration,
            "total_iteration": div.total_iteration, "loss": num(div.loss),
            "grad_norm": num(div.grad_norm), "where": div.where}


def _failed(reason: Text, started: float, hint: Text | None = None) -> dict[str, Any]:
    return {"status": "failed", **with_i18n(reason=reason, hint=hint),
            "elapsed_s": round(time.monotonic() - started, 3)}


def _failure_hint(error: Exception) -> Message | None:
    if isinstance(error, torch.cuda.OutOfMemoryError | MemoryError):
        return Message("The run ran out of memory: use a smaller model, data set or "
                       "batch_size.")
    return None


def num(value: float | None) -> float | str | None:
    """A JSON-safe number: non-finite floats become "nan", "inf" or "-inf"."""
    return None if value is None else finite_or_text(value)


def _rounded(t: torch.Tensor, digits: int) -> list[Any]:
    # Rounded in float64 so 0.12 is written as 0.12, not as float32's 0.11999999731779099.
    return t.double().round(decimals=digits).tolist()


def handle_train_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """The "train" job handler (registered in app/jobs.py): one run in a sandbox worker, its
    events sent as they come, its summary as the result."""
    started = time.monotonic()
    summary = run_training_job(payload, context.emit, context.should_stop, context.settings,
                               context.controls)
    summary.setdefault("elapsed_s", round(time.monotonic() - started, 3))
    return 200, json.dumps(summary, allow_nan=False).encode()
