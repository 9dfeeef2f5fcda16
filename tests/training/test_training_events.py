"""The progress events a run emits: their order, fields, rates and snapshots."""

from __future__ import annotations

import torch
from conftest import run_job

MOONS = {"name": "moons", "n_samples": 200}
BASE = {"dataset": MOONS, "model": {"hidden": [8]}, "batch_size": 16, "epochs": 4}


def test_event_sequence_and_fields() -> None:
    run = run_job(BASE)
    kinds = [e["type"] for e in run.events]
    assert kinds[0] == "start"
    start = run.events[0]
    assert start["iterations_per_epoch"] == 10 and start["total_iterations"] == 40
    assert (start["n_train"], start["n_val"], start["classes"]) == (160, 40, 2)
    assert len(start["points"]["x"]) == len(start["points"]["y"]) == 160
    steps, epochs = run.of("step"), run.of("epoch")
    assert len(steps) == 40 and len(epochs) == 4
    for s in steps:
        assert s["total_iteration"] == 10 * (s["epoch"] - 1) + s["iteration"]
        assert set(s) == {"type", "epoch", "iteration", "total_iteration", "loss", "lr",
                          "grad_norm", "grad_norm_clipped"}
        assert s["grad_norm"] == s["grad_norm_clipped"] > 0  # no clipping asked
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    last = epochs[-1]
    assert 0 <= last["train_accuracy"] <= 1 and 0 <= last["val_accuracy"] <= 1
    assert last["val_loss"] == run.summary["final"]["val_loss"]
    # each epoch's events come after its steps
    assert kinds.index("epoch") > max(i for i, k in enumerate(kinds) if
                                      k == "step" and run.events[i]["epoch"] == 1)


def test_step_events_follow_log_every_and_the_rate_cap() -> None:
    every_5th = run_job({**BASE, "log_every": 5})
    reported = [s["total_iteration"] for s in every_5th.of("step")]
    assert reported == [1, 5, 10, 15, 20, 25, 30, 35, 40]  # the first step is always reported
    capped = run_job({**BASE, "epochs": 15}, train_max_events_per_s=1.0)
    # 150 steps at one event per second: the first step, and at most one more per second.
    elapsed = capped.summary["train_s"]
    assert 1 <= len(capped.of("step")) <= 2 + elapsed
    assert len(capped.of("epoch")) == 15  # epoch events are never dropped


def test_binary_boundary_grid() -> None:
    run = run_job({**BASE, "epochs": 6}, train_max_boundary_events=3,
                  train_boundary_min_interval_s=0.0, train_boundary_grid=12)
    grids = run.of("boundary")
    assert [g["epoch"] for g in grids] == [2, 4, 6]
    g = grids[-1]
    assert g["size"] == 12 and g["classes"] == 2
    assert len(g["probability"]) == 12 and all(len(row) == 12 for row in g["probability"])
    values = [v for row in g["probability"] for v in row]
    assert all(0.0 <= v <= 1.0 and round(v, 2) == v for v in values)
    assert min(values) < 0.2 and max(values) > 0.8  # a trained model separates the moons
    x0, x1 = g["x_range"]
    points = torch.tensor(run.events[0]["points"]["x"])
    assert x0 < points[:, 0].min().item() and points[:, 0].max().item() < x1


def test_boundary_snapshots_respect_their_time_interval() -> None:
    run = run_job({**BASE, "epochs": 10}, train_boundary_min_interval_s=3600.0)
    # The first due epoch gets one, the interval blocks the rest, the last epoch always gets one.
    assert [g["epoch"] for g in run.of("boundary")] == [1, 10]


def test_multiclass_boundary_has_labels_and_confidence() -> None:
    run = run_job({**BASE, "dataset": {"name": "blobs", "n_samples": 150, "n_classes": 3},
                   "epochs": 2}, train_boundary_grid=8)
    g = run.of("boundary")[-1]
    assert g["classes"] == 3
    labels = {v for row in g["label"] for v in row}
    assert labels <= {0, 1, 2} and len(labels) >= 2
    assert all(1 / 3 - 0.01 <= v <= 1 for row in g["confidence"] for v in row)


def test_regression_curve_snapshot() -> None:
    run = run_job({**BASE, "dataset": {"name": "sine", "n_samples": 200}, "loss": "mse",
                   "model": {"hidden": [32], "activation": "tanh"}, "epochs": 3})
    curve = run.of("curve")[-1]
    assert len(curve["x"]) == len(curve["y"]) == 100
    assert curve["x"] == sorted(curve["x"])
    assert run.of("boundary") == []
    assert run.events[0]["classes"] == 0


def test_digits_send_no_snapshots_or_points() -> None:
    run = run_job({"dataset": {"name": "digits", "n_samples": 200}, "epochs": 1})
    assert run.of("boundary") == run.of("curve") == []
    assert "points" not in run.events[0]
