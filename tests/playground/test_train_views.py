"""What the training pages show, built from real runs: a job trained in this process, its
events recorded by the registry's own Run, then turned into page views."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from app.callers import Caller
from app.config import Settings
from app.playground import train_views
from app.training.job import run_training_job
from app.training.runs import Run
from app.training.spec import TrainSpec, plan

SETTINGS = Settings(train_max_events_per_s=1e9, train_boundary_min_interval_s=0)


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def recorded_run(spec: dict[str, Any], run_id: str = "run-a") -> Run:
    """A finished Run holding everything a worker would have sent for ``spec``."""
    parsed = TrainSpec.model_validate(spec)
    run = Run(id=run_id, caller=Caller("anonymous", "test"), spec=parsed, plan=plan(parsed),
              created_at=time.time(), created_mono=time.monotonic())
    events: list[dict[str, Any]] = []
    summary = run_training_job(spec, events.append, lambda: False, SETTINGS)
    for event in events:
        run.record(json.loads(json.dumps(event)))  # as it crosses the worker's pipe
    run.finish(summary)
    return run


MOONS = {"dataset": {"name": "moons", "n_samples": 120}, "model": {"hidden": [6]},
         "epochs": 4, "batch_size": 16, "seed": 1}


@pytest.fixture(scope="module")
def moons() -> Run:
    return recorded_run(MOONS)


def test_recent_ids_keep_ids_only_newest_first_and_capped() -> None:
    assert train_views.recent_ids("a1.b2.<script>..a1.c-3_") == ["a1", "b2", "c-3_"]
    cookie = ""
    for i in range(train_views.MAX_RECENT + 3):
        cookie = train_views.remember(cookie, f"r{i}")
    ids = train_views.recent_ids(cookie)
    assert len(ids) == train_views.MAX_RECENT and ids[0] == f"r{train_views.MAX_RECENT + 2}"
    assert train_views.recent_ids(train_views.remember(cookie, "r5"))[0] == "r5"


def test_selected_ids_from_commas_or_repeated_parameters() -> None:
    assert train_views.selected_ids(["a,b", "c", "a", " d ", "x/y"]) == ["a", "b", "c", "d"]
    many = [f"r{i}" for i in range(10)]
    assert len(train_views.selected_ids(many)) == train_views.MAX_COMPARED


def test_a_finished_run_page(moons: Run) -> None:
    page = train_views.run_page(moons.view(), moons.start)
    assert page.done and page.status == "finished" and page.task == "classification"
    assert page.label == "Adam lr=0.01 · moons · run-a"
    # 96 training samples in batches of 16: 6 steps per epoch, 24 in all, all taken.
    c = page.counters
    assert (c.epoch, c.iteration, c.total_iteration, c.total_iterations) == (4, 6, 24, 24)
    assert c.percent == 100
    assert page.loss.lines[0].points == 24  # one point per reported step
    assert page.loss.points == 24 + 4 + 4  # and one per epoch, on training and validation
    labels = [line.label for line in page.loss.lines]
    assert labels == ["per-step loss (mini-batches, as trained)",
                      "training loss (end of epoch)", "validation loss"]
    assert page.accuracy is not None and page.accuracy.points == 4 + 4
    assert page.boundary is not None and page.boundary.epoch == 4 and page.fit is None
    assert page.parameters is not None
    assert page.parameters.rows[0][:3] == ["fc0.weight", "[6, 2]", "12"]
    state = page.optimizer_state
    assert state is not None and state.columns == ["name", "step", "‖exp_avg‖", "‖exp_avg_sq‖"]
    assert state.rows[0][:2] == ["fc0.weight", "24"]
    assert page.epoch_table is not None and len(page.epoch_table.rows) == 4
    final = dict(page.final)
    assert final["Optimizer steps"] == "24 / 24" and final["Epochs completed"] == "4 / 4"


def test_a_running_run_counts_its_last_reported_step() -> None:
    view = {
        "id": "x", "status": "running", "cancel_requested": False, "device": "cpu",
        "notices": [], "latest_snapshot": None, "summary": None,
        "spec": TrainSpec().model_dump(mode="json"),
        "progress": {"epoch": 2, "epochs": 20, "total_iteration": 57, "total_iterations": 500,
                     "iterations_per_epoch": 25},
        "metrics": {"steps": {"epoch": [1, 3], "iteration": [1, 7], "total_iteration": [1, 57],
                              "loss": [0.7, 0.4], "lr": [0.01, 0.01], "grad_norm": [1.0, 0.5],
                              "grad_norm_clipped": [1.0, 0.5]},
                    "epochs": {k: [] for k in ("epoch", "mean_step_loss", "train_loss",
                                               "train_accuracy", "val_loss", "val_accuracy",
                                               "elapsed_s")}},
    }
    page = train_views.run_page(view, None)
    assert not page.done and page.summary is None and page.parameters is None
    c = page.counters
    # total_iteration = iterations_per_epoch x (epoch - 1) + iteration
    assert (c.epoch, c.iteration, c.total_iteration) == (3, 7, 57) == (3, 7, 25 * 2 + 7)
    assert c.percent == 11
    # The per-step loss is drawn in epochs: step 57 of 25 per epoch is at x = 2.28.
    assert page.loss.lines[0].last_x == pytest.approx(2.28)


def test_regression_shows_the_fitted_curve_not_accuracy() -> None:
    run = recorded_run({"dataset": {"name": "sine", "n_samples": 100}, "loss": "mse",
                        "model": {"hidden": [8]}, "epochs": 2, "batch_size": 20,
                        "grad_clip": 0.5})
    page = train_views.run_page(run.view(), run.start)
    assert page.accuracy is None and page.boundary is None
    assert page.fit is not None and page.fit.dots and page.fit.points == 100
    # With clipping: both norms and the threshold line.
    assert [line.label for line in page.grad.lines] == [
        "gradient norm before clipping", "gradient norm after clipping"]
    assert [r.value for r in page.grad.rules] == [0.5]
    # Without the start event (a run read back from the store), the dataset tells the task.
    assert page.task == train_views.run_page(run.view(), None).task == "regression"


def test_a_diverged_run_keeps_its_reason() -> None:
    run = recorded_run({"dataset": {"name": "linear", "n_samples": 100}, "loss": "mse",
                        "model": {"hidden": [32, 32]}, "optimizer": {"name": "sgd", "lr": 10.0},
                        "epochs": 20, "batch_size": 16})
    page = train_views.run_page(run.view(), run.start)
    assert page.status == "diverged" and page.summary is not None
    assert "diverged" in page.summary["reason"] and "learning rate" in page.summary["hint"]
    # Stopped long before its 140 steps: the counters say where.
    assert page.counters.total_iteration == page.summary["iterations"] < 140


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU's notices")
def test_the_cores_cpu_notices_are_known_so_they_can_be_translated() -> None:
    run = recorded_run({**MOONS, "epochs": 1, "mixed_precision": True, "device": "cuda"})
    page = train_views.run_page(run.view(), run.start)
    assert len(page.notices) == 2
    assert all(known for _, known in page.notices), page.notices


def test_compare_overlays_runs_and_marks_the_best(moons: Run) -> None:
    sgd = recorded_run({**MOONS, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
                       run_id="run-b")
    page = train_views.compare_page([moons.view(), sgd.view()])
    assert not page.running and page.ids == ["run-a", "run-b"]
    assert [r.label for r in page.rows] == ["Adam lr=0.01 · moons · run-a",
                                            "SGD + momentum lr=0.1 · moons · run-b"]
    assert [r.tone for r in page.rows] == [4, 5]
    # One line per run and set, each with its run's tone; validation dashed.
    assert [(line.run, line.label, line.css) for line in page.loss.lines] == [
        ("Adam lr=0.01 · moons · run-a", "training loss", "tone-4"),
        ("Adam lr=0.01 · moons · run-a", "validation loss", "tone-4 dashed"),
        ("SGD + momentum lr=0.1 · moons · run-b", "training loss", "tone-5"),
        ("SGD + momentum lr=0.1 · moons · run-b", "validation loss", "tone-5 dashed")]
    column = [k for k, _, _ in page.columns].index("train_loss")
    losses = [moons.summary["final"]["train_loss"], sgd.summary["final"]["train_loss"]]
    best = losses.index(min(losses))
    assert [r.best[column] for r in page.rows] == [i == best for i in range(2)]


def test_recent_runs_list(moons: Run) -> None:
    (item,) = train_views.recent_runs([moons.view()], selected=["run-a"])
    assert item.checked and item.done and item.status == "finished"
    assert item.metric is not None and item.metric.startswith("val_accuracy ")
