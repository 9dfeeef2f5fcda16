"""How a run ends: diverged, cancelled, timed_out, failed, each with its reason."""

from __future__ import annotations

import math
from itertools import count

import pytest
import torch
from conftest import run_job

from app import i18n
from app.message import Message
from tests.japanese import in_japanese

SMALL = {"dataset": {"name": "moons", "n_samples": 200}, "model": {"hidden": [8]},
         "batch_size": 16, "seed": 0}


def test_exploding_lr_diverges_at_once_and_explains() -> None:
    run = run_job({"dataset": {"name": "linear", "n_samples": 200}, "loss": "mse",
                   "model": {"hidden": [32, 32]}, "optimizer": {"name": "sgd", "lr": 10.0},
                   "epochs": 50, "batch_size": 16})
    s = run.summary
    assert s["status"] == "diverged"
    div = s["divergence"]
    # Caught on the first non-finite loss or gradient norm (here the gradients overflow first).
    assert div[{"loss": "loss", "gradient": "grad_norm"}[div["where"]]] in ("nan", "inf", "-inf")
    # Every reported step before it was finite, and the run stopped there, long before its
    # 500 steps.
    steps = run.of("step")
    assert all(isinstance(e["loss"], float) for e in steps)
    assert steps[-1]["total_iteration"] == div["total_iteration"] - 1 == s["iterations"]
    assert s["iterations"] < 100
    assert "learning rate" in s["hint"] and "try 1 instead of 10" in s["hint"]
    assert "grad_clip" in s["hint"]
    assert "diverged" in s["reason"] and f"step {div['total_iteration']}" in s["reason"]
    # The same sentences as messages, so a Japanese page says them in Japanese.
    reason, hint = Message.from_json(s["reason_i18n"]), Message.from_json(s["hint_i18n"])
    assert reason is not None and hint is not None
    assert (str(reason), str(hint)) == (s["reason"], s["hint"])
    assert in_japanese(reason) and in_japanese(hint)
    assert i18n.translate(hint, "ja").startswith(
        "次を試してください: 学習率を下げる（10 の代わりに 1 を試す）、勾配をクリップする")
    # Stopped before the bad update: the model in the summary is still finite.
    assert all(isinstance(p["norm"], float) and math.isfinite(p["norm"])
               for p in s["parameters"])


def test_should_stop_cancels_between_steps() -> None:
    polls = count(1)
    run = run_job({**SMALL, "epochs": 20}, should_stop=lambda: next(polls) > 25)
    s = run.summary
    assert s["status"] == "cancelled"
    assert s["iterations"] == 25  # polled before each step; the 26th poll said stop
    assert s["epochs_completed"] == 2  # 10 steps per epoch
    assert s["reason"] == "Cancelled during epoch 3 of 20."
    reason = Message.from_json(s["reason_i18n"])
    assert reason is not None
    assert i18n.translate(reason, "ja") == "20 エポック中 3 エポック目の途中で取り消されました。"
    assert len(run.of("epoch")) == 2
    assert s["final"]["val_accuracy"] is not None  # metrics of the model as it was


def test_wall_time_limit_stops_the_run_itself() -> None:
    run = run_job({**SMALL, "epochs": 1000}, train_deadline_s=0.3)
    s = run.summary
    assert s["status"] == "timed_out"
    assert 0 < s["iterations"] < 10_000
    assert "wall-time limit of 0.3 s" in s["reason"]
    assert "fewer epochs" in s["hint"]
    assert s["elapsed_s"] < 0.3 + 2.0  # stopped by itself, long before any kill


def test_invalid_payload_fails_with_the_reason() -> None:
    run = run_job({"dataset": {"name": "moons"}, "loss": "mse"})
    assert run.summary["status"] == "failed"
    assert "regression loss" in run.summary["reason"]
    assert run.events == []


def test_over_a_limit_fails_in_the_worker_too() -> None:
    run = run_job({**SMALL, "epochs": 50}, train_max_epochs=10)
    assert run.summary["status"] == "failed"
    assert "epochs is 50, the limit is 10" in run.summary["reason"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="about servers without a GPU")
def test_cuda_without_gpu_runs_on_cpu_with_a_notice_or_fails_when_configured() -> None:
    run = run_job({**SMALL, "epochs": 1, "device": "cuda"})
    assert run.summary["status"] == "finished"
    assert run.summary["device"] == "cpu"
    assert any("no GPU" in n for n in run.summary["notices"])
    assert run.of("start")[0]["notices"] == run.summary["notices"]
    refused = run_job({**SMALL, "epochs": 1, "device": "cuda"}, cuda_fallback="error")
    assert refused.summary["status"] == "failed"
    assert "no GPU" in refused.summary["reason"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_fp16_with_grad_scaler_trains() -> None:
    run = run_job({**SMALL, "epochs": 10, "device": "cuda", "mixed_precision": True,
                   "loss": "bce", "grad_clip": 1.0})
    s = run.summary
    assert s["status"] == "finished", s
    assert s["device"].startswith("cuda")
    assert s["final"]["train_loss"] < run.of("step")[0]["loss"]
