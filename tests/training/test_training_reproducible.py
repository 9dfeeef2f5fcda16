"""The same spec and seed give the loss curve a plain PyTorch loop gives (torch is the
reference answer), and the same curve on every run."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import run_job
from torch import nn

from app.training import datasets
from app.training.spec import DatasetSpec

MOONS = {"name": "moons", "n_samples": 200, "noise": 0.2}


def reference_losses(
    spec: dict, model: nn.Module, make_optimizer, make_scheduler=None, loss_fn=None
) -> tuple[list[float], nn.Module]:
    """A plain loop: the step losses of ``spec``, trained by hand."""
    seed = spec["seed"]
    data = datasets.load(DatasetSpec(**spec["dataset"]), seed)
    x, y = data.x_train, data.y_train
    if y.dtype == torch.float32 and y.dim() == 1:
        y = y.unsqueeze(1)
    opt = make_optimizer(model.parameters())
    sched = make_scheduler(opt) if make_scheduler else None
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(seed + 1)
    bs, clip = spec["batch_size"], spec.get("grad_clip")
    accumulate = spec.get("grad_accumulation", 1)
    n = x.shape[0]
    losses = []
    for _ in range(spec["epochs"]):
        model.train()
        order = torch.randperm(n, generator=shuffle)
        starts = list(range(0, n, bs))
        for g in range(0, len(starts), accumulate):
            group = starts[g : g + accumulate]
            samples = sum(min(s + bs, n) - s for s in group)
            step_loss = 0.0
            for s in group:
                idx = order[s : s + bs]
                loss = loss_fn(model(x[idx]), y[idx])
                share = idx.shape[0] / samples
                (loss * share if len(group) > 1 else loss).backward()
                step_loss += loss.item() * share
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            opt.zero_grad()
            if sched:
                sched.step()
            losses.append(step_loss)
    return losses, model


def step_losses(run) -> list[float]:
    return [e["loss"] for e in run.of("step")]


def test_adam_on_moons_matches_a_plain_loop() -> None:
    spec = {"dataset": MOONS, "model": {"hidden": [8]}, "loss": "cross_entropy",
            "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 3, "batch_size": 16, "seed": 5}
    run = run_job(spec)
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    expected, model = reference_losses(spec, model, lambda p: torch.optim.Adam(p, lr=0.01))

    assert run.summary["status"] == "finished"
    assert len(step_losses(run)) == len(expected) == 30  # 160 / 16 = 10 steps x 3 epochs
    torch.testing.assert_close(step_losses(run), expected, rtol=1e-5, atol=1e-6)
    norms = [p["norm"] for p in run.summary["parameters"]]
    torch.testing.assert_close(norms, [p.norm().item() for p in model.parameters()])


def test_sgd_nesterov_clip_accumulation_dropout_cosine_matches_a_plain_loop() -> None:
    spec = {
        "dataset": {"name": "sine", "n_samples": 150, "noise": 0.1},
        "model": {"hidden": [12, 12], "activation": "tanh", "dropout": 0.2},
        "loss": "huber",
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True,
                      "weight_decay": 1e-3},
        "scheduler": {"name": "cosine", "min_lr": 0.001},
        "grad_clip": 0.5, "grad_accumulation": 2, "epochs": 4, "batch_size": 16, "seed": 11,
    }
    run = run_job(spec)
    torch.manual_seed(11)
    model = nn.Sequential(
        nn.Linear(1, 12), nn.Tanh(), nn.Dropout(0.2),
        nn.Linear(12, 12), nn.Tanh(), nn.Dropout(0.2), nn.Linear(12, 1),
    )
    # 120 training samples: 8 batches of 16 -> 4 steps per epoch, 16 steps in all.
    expected, _ = reference_losses(
        spec, model,
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=16, eta_min=0.001),
        nn.HuberLoss(),
    )
    assert run.summary["status"] == "finished"
    assert len(expected) == 16
    torch.testing.assert_close(step_losses(run), expected, rtol=1e-5, atol=1e-6)
    # Clipping is visible: no reported norm after clipping exceeds the max norm.
    assert all(e["grad_norm_clipped"] <= 0.5 + 1e-5 for e in run.of("step"))
    assert any(e["grad_norm"] > 0.5 for e in run.of("step"))


def test_same_spec_twice_gives_the_same_curve() -> None:
    spec = {"dataset": {"name": "spirals", "n_samples": 150}, "model": {"dropout": 0.1},
            "epochs": 2, "seed": 3}
    first, second = run_job(spec), run_job(spec)
    assert step_losses(first) == step_losses(second)
    assert first.summary["final"] == second.summary["final"]
    third = run_job({**spec, "seed": 4})
    assert step_losses(third) != step_losses(first)


@pytest.mark.parametrize("accumulate", [1, 3])
def test_accumulated_step_equals_one_big_batch(accumulate: int) -> None:
    """Gradient accumulation over k batches of b gives the step one batch of k*b gives."""
    base = {"dataset": MOONS, "model": {"hidden": [8]}, "optimizer": {"name": "sgd", "lr": 0.1},
            "epochs": 1, "shuffle": False, "seed": 0}
    small = run_job({**base, "batch_size": 10, "grad_accumulation": accumulate})
    big = run_job({**base, "batch_size": 10 * accumulate})
    a, b = step_losses(small), step_losses(big)
    assert len(a) == len(b) == math.ceil(160 / (10 * accumulate))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
