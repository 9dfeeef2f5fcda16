"""Every optimizer, loss and scheduler choice trains a tiny problem below a loss threshold."""

from __future__ import annotations

import itertools

import pytest
from conftest import run_job

# 200 points: 160 for training in 10 batches of 16, so 10 steps per epoch, 150 in all.
TINY = {"model": {"hidden": [16]}, "epochs": 15, "batch_size": 16, "seed": 0}
MOONS = {"name": "moons", "n_samples": 200, "noise": 0.1}
LINE = {"name": "linear", "n_samples": 200, "noise": 0.1}


def trained(spec: dict) -> tuple[dict, list[dict]]:
    run = run_job({**TINY, **spec})
    assert run.summary["status"] == "finished", run.summary
    return run.summary, run.of("step")


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"])
def test_each_optimizer_trains(optimizer: str) -> None:
    summary, steps = trained(
        {"dataset": MOONS, "loss": "cross_entropy", "optimizer": {"name": optimizer}}
    )
    first = steps[0]["loss"]
    assert summary["final"]["train_loss"] < min(0.4, first / 2)
    assert summary["final"]["val_accuracy"] >= 0.9
    assert summary["optimizer"]["name"] == optimizer


@pytest.mark.parametrize(
    ("loss", "dataset", "threshold"),
    [
        ("cross_entropy", MOONS, 0.4),
        ("bce", MOONS, 0.4),
        ("bce_with_logits", MOONS, 0.4),
        ("mse", LINE, 0.05),
        ("l1", LINE, 0.15),
        ("huber", LINE, 0.03),
        ("smooth_l1", LINE, 0.03),
    ],
)
def test_each_loss_trains(loss: str, dataset: dict, threshold: float) -> None:
    summary, steps = trained({"dataset": dataset, "loss": loss, "optimizer": {"name": "adam"}})
    assert summary["final"]["train_loss"] < threshold < steps[0]["loss"]
    assert summary["final"]["val_loss"] < threshold
    if dataset is MOONS:
        assert summary["final"]["val_accuracy"] >= 0.9
    else:
        assert summary["final"]["val_accuracy"] is None  # regression has no accuracy


@pytest.mark.parametrize("scheduler", ["none", "step", "cosine", "warmup"])
def test_each_scheduler_shapes_the_lr_and_trains(scheduler: str) -> None:
    summary, steps = trained({
        "dataset": MOONS, "loss": "cross_entropy", "optimizer": {"name": "adam", "lr": 0.01},
        "scheduler": {"name": scheduler, "step_size": 5, "gamma": 0.5, "warmup_steps": 30,
                      "warmup_start_factor": 0.01, "min_lr": 0.0},
    })
    lrs = [s["lr"] for s in steps]
    assert len(lrs) == 150
    if scheduler == "none":
        assert set(lrs) == {0.01}
    elif scheduler == "step":  # halves every 5 epochs = 50 steps
        assert lrs[49] == pytest.approx(0.01)
        assert lrs[50] == pytest.approx(0.005)
        assert lrs[-1] == pytest.approx(0.0025)
    elif scheduler == "cosine":
        assert lrs[0] == 0.01
        assert all(a >= b for a, b in itertools.pairwise(lrs))
        assert lrs[-1] < 1e-4
    else:  # warmup: linear from 1% of lr to lr over 30 steps, then constant
        assert lrs[0] == pytest.approx(0.0001)
        assert lrs[15] == pytest.approx(0.0001 + 15 / 30 * (0.01 - 0.0001))
        assert lrs[30:] == pytest.approx([0.01] * 120)
    assert summary["final"]["train_loss"] < 0.4


def test_per_layer_learning_rates_are_param_groups() -> None:
    summary, steps = trained({
        "dataset": MOONS, "model": {"hidden": [16, 8]},
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "layer_lrs": {"out": 0.01}},
    })
    groups = {g["name"]: g["lr"] for g in summary["optimizer"]["param_groups"]}
    assert groups == {"default": 0.1, "out": 0.01}
    assert steps[0]["lrs"] == [0.1, 0.01]
    assert summary["final"]["train_loss"] < 0.4


def test_optimizer_state_summary_names_the_buffers() -> None:
    adam, _ = trained({"dataset": MOONS, "optimizer": {"name": "adam"}})
    state = {row["name"]: row for row in adam["optimizer"]["state"]}
    assert set(state) == {"fc0.weight", "fc0.bias", "out.weight", "out.bias"}
    assert state["fc0.weight"]["step"] == 150
    assert state["fc0.weight"]["exp_avg_norm"] > 0 and state["fc0.weight"]["exp_avg_sq_norm"] > 0
    sgd, _ = trained({"dataset": MOONS, "optimizer": {"name": "sgd", "momentum": 0.9}})
    assert all(row["momentum_buffer_norm"] > 0 for row in sgd["optimizer"]["state"])


def test_batch_norm_dropout_and_mixed_precision_on_cpu() -> None:
    run = run_job({**TINY, "dataset": MOONS, "device": "cpu", "mixed_precision": True,
                   "model": {"hidden": [16], "batch_norm": True, "dropout": 0.1}})
    assert run.summary["status"] == "finished"
    assert any("bfloat16" in n for n in run.summary["notices"])
    assert run.summary["final"]["train_loss"] < 0.4
    names = [p["name"] for p in run.summary["parameters"]]
    assert names == ["fc0.weight", "fc0.bias", "bn0.weight", "bn0.bias", "out.weight", "out.bias"]


def test_digits_train() -> None:
    run = run_job({"dataset": {"name": "digits", "n_samples": 600}, "model": {"hidden": [32]},
                   "epochs": 8, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}})
    assert run.summary["status"] == "finished"
    assert run.summary["final"]["val_accuracy"] > 0.85
