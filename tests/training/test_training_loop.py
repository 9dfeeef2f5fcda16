"""The pure loop, driven directly with hand-made hooks: divergence and the gradient-scaler
path (fp16 autocast + GradScaler, which CUDA uses, exercised here on the CPU)."""

from __future__ import annotations

import math

import torch
from torch import nn

from app.training import datasets
from app.training.loop import EpochReport, Setup, StepReport, train
from app.training.spec import DatasetSpec


class Recorder:
    def __init__(self) -> None:
        self.steps: list[StepReport] = []
        self.epochs: list[EpochReport] = []

    def wants_step(self, total_iteration: int) -> bool:
        return True

    def on_step(self, report: StepReport) -> None:
        self.steps.append(report)

    def on_epoch(self, report: EpochReport) -> None:
        self.epochs.append(report)

    def stop_reason(self) -> None:
        return None


def setup(model: nn.Module, **over: object) -> Setup:
    data = datasets.load(DatasetSpec(name="moons", n_samples=200), 0)
    fields = dict(
        model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), scheduler=None,
        loss_fn=nn.CrossEntropyLoss(), loss_name="cross_entropy", classification=True,
        data=data, epochs=3, batch_size=16, shuffle=False, drop_last=False, grad_clip=None,
        grad_accumulation=1, autocast_dtype=None, scaler=None, shuffle_generator=None,
    )
    fields.update(over)
    return Setup(**fields)  # type: ignore[arg-type]


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


class PoisonAfterTwo(Recorder):
    """Sets a weight to NaN after step 2, as an overflow would."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def stop_reason(self) -> None:
        if len(self.steps) == 2:
            with torch.no_grad():
                self.model[0].weight[0, 0] = float("nan")


def test_loop_stops_on_the_first_nan_loss() -> None:
    model = mlp()
    hooks = PoisonAfterTwo(model)
    outcome = train(setup(model), hooks)
    assert outcome.status == "diverged"
    assert outcome.divergence is not None
    assert outcome.divergence.where == "loss" and outcome.divergence.total_iteration == 3
    assert outcome.iterations == 2 and len(hooks.steps) == 2


def test_fp16_with_grad_scaler_trains_and_clips() -> None:
    model = mlp()
    hooks = Recorder()
    scaler = torch.amp.GradScaler("cpu")
    outcome = train(setup(model, optimizer=torch.optim.Adam(model.parameters(), lr=0.01),
                          epochs=10, grad_clip=1.0, grad_accumulation=2,
                          autocast_dtype=torch.float16, scaler=scaler), hooks)
    assert outcome.status == "finished" and outcome.iterations == 50
    assert hooks.epochs[-1].train_loss < hooks.steps[0].loss / 2
    # Norms are measured on unscaled gradients: comparable with the clip threshold.
    assert all(s.grad_norm_clipped <= 1.0 + 1e-4 for s in hooks.steps)
    assert hooks.steps[0].grad_norm < 100


def test_inf_gradients_under_a_scaler_are_skipped_not_divergence() -> None:
    model = mlp()
    hooks = Recorder()
    # A scale this large overflows fp16 gradients: the scaler skips those steps and backs off.
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**40)
    outcome = train(setup(model, epochs=2, autocast_dtype=torch.float16, scaler=scaler), hooks)
    assert outcome.status == "finished"
    assert scaler.get_scale() < 2.0**40
    assert not math.isfinite(hooks.steps[0].grad_norm)  # reported, not treated as divergence
