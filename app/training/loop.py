"""The training loop itself: no I/O, no clock, no JSON, no settings.

Everything it does not decide itself (which steps to report, when to stop) it asks its
``Hooks``; everything it measures it hands to them as plain dataclasses. job.py supplies the
hooks in a worker; tests and the benchmark drive it directly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import nn

from app.training.datasets import Split
from app.training.losses import predicted_class
from app.training.optim import LRScheduler

StopReason = Literal["cancelled", "timed_out"]
Status = Literal["finished", "cancelled", "timed_out", "diverged"]


@dataclass
class Setup:
    """Everything one run needs, already built and on its device."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: LRScheduler | None
    loss_fn: nn.Module
    loss_name: str
    classification: bool
    data: Split  # targets already shaped for the loss (losses.targets_for)
    epochs: int
    batch_size: int
    shuffle: bool
    drop_last: bool
    grad_clip: float | None
    grad_accumulation: int
    autocast_dtype: torch.dtype | None  # None: full precision
    scaler: torch.amp.GradScaler | None  # fp16 on CUDA only
    shuffle_generator: torch.Generator | None


@dataclass(frozen=True)
class StepReport:
    epoch: int  # 1-based
    iteration: int  # optimizer step within the epoch, 1-based
    total_iteration: int  # iterations_per_epoch * (epoch - 1) + iteration
    loss: float  # mean loss of the step's mini-batches (dropout on, as trained)
    lr: float  # first param group's lr used by this step
    lrs: tuple[float, ...]  # every param group's lr (per-layer learning rates)
    grad_norm: float  # total gradient norm before clipping
    grad_norm_clipped: float  # after clipping (equal to grad_norm when nothing was clipped)


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    mean_step_loss: float  # mean of this epoch's mini-batch losses, as trained
    train_loss: float  # the model at the end of the epoch, eval mode, on the training set
    train_accuracy: float | None  # classification only
    val_loss: float | None  # None without a validation set
    val_accuracy: float | None


@dataclass(frozen=True)
class Divergence:
    epoch: int
    iteration: int
    total_iteration: int
    loss: float
    grad_norm: float | None
    where: Literal["loss", "gradient"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    epochs_completed: int
    iterations: int  # optimizer steps taken
    last_epoch: EpochReport | None
    divergence: Divergence | None = None


class Hooks(Protocol):
    def wants_step(self, total_iteration: int) -> bool:
        """Whether to measure and report this step (gradient norms cost a pass over grads)."""
        ...

    def on_step(self, report: StepReport) -> None: ...

    def on_epoch(self, report: EpochReport) -> None: ...

    def stop_reason(self) -> StopReason | None:
        """Polled before every optimizer step: cancelled, out of time, or go on."""
        ...


def batch_bounds(n: int, batch_size: int, drop_last: bool) -> list[tuple[int, int]]:
    """(start, end) of each mini-batch of an epoch over n samples."""
    stop = n - n % batch_size if drop_last else n
    return [(s, min(s + batch_size, n)) for s in range(0, stop, batch_size)]


def accumulation_groups(
    bounds: list[tuple[int, int]], accumulation: int
) -> list[list[tuple[int, int, float]]]:
    """Mini-batches whose gradients add up into one optimizer step, as (start, end, weight).

    The weight is the mini-batch's share of the step's samples, so an accumulated step's
    gradient equals that of one big batch (also for a shorter last group of an epoch)."""
    groups = []
    for i in range(0, len(bounds), accumulation):
        group = bounds[i : i + accumulation]
        samples = sum(end - start for start, end in group)
        groups.append([(start, end, (end - start) / samples) for start, end in group])
    return groups


def train(setup: Setup, hooks: Hooks) -> Outcome:
    if setup.scaler is not None:
        # A GradScaler skips the optimizer step when it finds inf gradients (normal in fp16);
        # the scheduler's "step() before optimizer.step()" warning would be noise then.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*")
            return _train(setup, hooks)
    return _train(setup, hooks)


def _train(s: Setup, hooks: Hooks) -> Outcome:
    x, y = s.data.x_train, s.data.y_train
    n = x.shape[0]
    groups = accumulation_groups(batch_bounds(n, s.batch_size, s.drop_last), s.grad_accumulation)
    params = [p for p in s.model.parameters() if p.requires_grad]
    device_type = x.device.type
    total = 0
    last: EpochReport | None = None
    for epoch in range(1, s.epochs + 1):
        s.model.train()
        order = (
            torch.randperm(n, generator=s.shuffle_generator).to(x.device) if s.shuffle else None
        )
        step_losses = 0.0
        for iteration, group in enumerate(groups, start=1):
            stop = hooks.stop_reason()
            if stop is not None:
                return Outcome(stop, epoch - 1, total, last)
            step_loss = 0.0
            for start, end, weight in group:
                index = order[start:end] if order is not None else slice(start, end)
                xb, yb = x[index], y[index]
                if s.autocast_dtype is None:
                    out = s.model(xb)
                else:
                    with torch.autocast(device_type=device_type, dtype=s.autocast_dtype):
                        out = s.model(xb)
                # The loss runs in float32 outside autocast: BCELoss refuses fp16 autocast, and
                # a float32 loss keeps small differences visible.
                loss = s.loss_fn(out.float(), yb)
                scaled = loss * weight if weight != 1.0 else loss
                if s.scaler is not None:
                    s.scaler.scale(scaled).backward()
                else:
                    scaled.backward()
                step_loss += loss.item() * weight
            total += 1
            if not math.isfinite(step_loss):
                # Stop before the step, so the parameters in the summary are still finite.
                div = Divergence(epoch, iteration, total, step_loss, None, "loss")
                return Outcome("diverged", epoch - 1, total - 1, last, div)
            report = hooks.wants_step(total)
            norm = _gradient_norms(s, params, measure=report)
            if norm is not None and s.scaler is None and not math.isfinite(norm[0]):
                div = Divergence(epoch, iteration, total, step_loss, norm[0], "gradient")
                return Outcome("diverged", epoch - 1, total - 1, last, div)
            if report:
                lrs = tuple(float(g["lr"]) for g in s.optimizer.param_groups)
                assert norm is not None  # measured because report is true
                hooks.on_step(
                    StepReport(epoch, iteration, total, step_loss, lrs[0], lrs, norm[0], norm[1])
                )
            if s.scaler is not None:
                s.scaler.step(s.optimizer)
                s.scaler.update()
            else:
                s.optimizer.step()
            s.optimizer.zero_grad(set_to_none=True)
            if s.scheduler is not None:
                s.scheduler.step()
            step_losses += step_loss
        last = _epoch_report(s, epoch, step_losses / len(groups))
        hooks.on_epoch(last)
    return Outcome("finished", s.epochs, total, last)


def _gradient_norms(
    s: Setup, params: list[nn.Parameter], *, measure: bool
) -> tuple[float, float] | None:
    """Clip when asked; return (norm before, norm after) when measured, else None."""
    if not (measure or s.grad_clip):
        return None
    if s.scaler is not None:
        s.scaler.unscale_(s.optimizer)  # norms and clipping must see the true gradients
    if s.grad_clip:
        before_t = torch.nn.utils.clip_grad_norm_(params, s.grad_clip)
        if not measure:
            return None
        before = float(before_t)
        # clip_grad_norm_ scales by max_norm / (norm + 1e-6) when that is below 1; the norm
        # after clipping follows without a second pass over the gradients.
        coef = min(1.0, s.grad_clip / (before + 1e-6)) if math.isfinite(before) else 1.0
        after = before * coef
        return before, after
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0, 0.0
    per_tensor = torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])
    norm = float(torch.linalg.vector_norm(per_tensor))
    return norm, norm


@torch.no_grad()
def evaluate(
    model: nn.Module, loss_fn: nn.Module, loss_name: str, classification: bool,
    x: torch.Tensor, y: torch.Tensor, chunk: int = 4096,
) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) of the model in eval mode over (x, y)."""
    model.eval()
    n = x.shape[0]
    loss_sum = 0.0
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, n, chunk):
        xb, yb = x[start : start + chunk], y[start : start + chunk]
        out = model(xb).float()
        loss_sum += loss_fn(out, yb).item() * xb.shape[0]
        if classification:
            target = yb if yb.dim() == 1 else yb[:, 0].long()
            correct += (predicted_class(loss_name, out) == target).sum()
    accuracy = int(correct) / n if classification else None
    return loss_sum / n, accuracy


def _epoch_report(s: Setup, epoch: int, mean_step_loss: float) -> EpochReport:
    d = s.data
    train_loss, train_acc = evaluate(
        s.model, s.loss_fn, s.loss_name, s.classification, d.x_train, d.y_train
    )
    val_loss: float | None = None
    val_acc: float | None = None
    if d.x_val.shape[0]:
        val_loss, val_acc = evaluate(
            s.model, s.loss_fn, s.loss_name, s.classification, d.x_val, d.y_val
        )
    return EpochReport(epoch, mean_step_loss, train_loss, train_acc, val_loss, val_acc)

