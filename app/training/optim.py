"""Optimizer and learning-rate scheduler of a run, built from its spec."""

from __future__ import annotations

import torch
from torch import nn

from app.training.models import parameter_groups
from app.training.spec import OptimizerSpec, SchedulerSpec

LRScheduler = torch.optim.lr_scheduler.LRScheduler


def make_optimizer(spec: OptimizerSpec, model: nn.Module) -> torch.optim.Optimizer:
    groups = parameter_groups(model, spec.base_lr, spec.layer_lrs)
    lr, wd = spec.base_lr, spec.weight_decay
    if spec.name == "sgd":
        return torch.optim.SGD(
            groups, lr=lr, momentum=spec.momentum, nesterov=spec.nesterov, weight_decay=wd
        )
    if spec.name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=spec.betas, weight_decay=wd)
    if spec.name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=spec.betas, weight_decay=wd)
    if spec.name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, momentum=spec.momentum, weight_decay=wd)
    if spec.name == "adagrad":
        return torch.optim.Adagrad(groups, lr=lr, weight_decay=wd)
    if spec.name == "adadelta":
        return torch.optim.Adadelta(groups, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {spec.name!r}")  # the spec's Literal prevents this


def make_scheduler(
    spec: SchedulerSpec, optimizer: torch.optim.Optimizer, *, steps_per_epoch: int,
    total_steps: int,
) -> LRScheduler | None:
    """A scheduler stepped once per optimizer step, or None for a constant lr."""
    if spec.name == "none":
        return None
    if spec.name == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=spec.step_size * steps_per_epoch, gamma=spec.gamma
        )
    if spec.name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, total_steps), eta_min=spec.min_lr
        )
    if spec.name == "warmup":
        # Linear ramp from start_factor * lr to lr over warmup_steps, then constant.
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=spec.warmup_start_factor, end_factor=1.0,
            total_iters=spec.warmup_steps,
        )
    raise ValueError(f"unknown scheduler {spec.name!r}")


def state_summary(optimizer: torch.optim.Optimizer, names: dict[int, str]) -> list[dict]:
    """Per parameter, the norm of every state tensor the optimizer keeps (Adam's exp_avg and
    exp_avg_sq, SGD's momentum_buffer, RMSprop's square_avg, ...) and its step count.

    ``names`` maps id(parameter) to its name in the model.
    """
    rows = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            row: dict[str, object] = {"name": names.get(id(param), "?")}
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.dim() > 0:
                    row[f"{key}_norm"] = float(torch.linalg.vector_norm(value.float()))
                elif key == "step":
                    row["step"] = int(value)
            rows.append(row)
    return rows
