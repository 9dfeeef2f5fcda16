"""What the training-run machinery costs over a plain PyTorch loop, measured in the same run.

The same spec (moons, 1,000 samples, an MLP with two hidden layers of 64, Adam, batch 32) is
trained by ``run_training_job`` (with a no-op emit, so only our own work is measured, not a
pipe) and by the plain loop below, with the same seed and one torch thread like a sandbox
worker. Both include making the data and the model. Two baselines:

- ``plain``: training plus a validation pass per epoch, the loop people write;
- ``bare``: training only, the floor.

Run: PYTHONPATH=. .venv/bin/python bench/training_overhead.py [--epochs 20] [--repeats 5]
(PYTHONPATH is not needed once `make install` has installed the app package.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from app.config import Settings
from app.training import datasets
from app.training.job import run_training_job

SPEC = {
    "dataset": {"name": "moons", "n_samples": 1000, "noise": 0.15, "validation_fraction": 0.2},
    "model": {"hidden": [64, 64], "activation": "relu"},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "batch_size": 32,
    "seed": 0,
    "device": "cpu",
}


def plain_loop(epochs: int, validate: bool) -> list[float]:
    """Train SPEC by hand; returns the validation accuracy per epoch (or nothing)."""
    from app.training.spec import DatasetSpec

    seed = SPEC["seed"]
    torch.manual_seed(seed)
    data = datasets.load(DatasetSpec(**SPEC["dataset"]), seed)
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(seed + 1)
    x, y = data.x_train, data.y_train
    n, bs = x.shape[0], SPEC["batch_size"]
    accuracies = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=shuffle)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        if validate:
            model.eval()
            with torch.no_grad():
                out = model(data.x_val)
                loss_fn(out, data.y_val).item()
                accuracies.append((out.argmax(1) == data.y_val).float().mean().item())
    return accuracies


def job_run(epochs: int) -> dict:
    summary = run_training_job({**SPEC, "epochs": epochs}, lambda event: None, lambda: False,
                               Settings())
    assert summary["status"] == "finished", summary
    return summary


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call. On a shared machine the CPU
    time is the steadier of the two: waiting for a core does not count."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # a sandbox worker runs one torch thread

    # Warm-up: the first optimizer imports torch._dynamo (seconds); neither side pays it below.
    job_run(1)
    plain_loop(1, validate=True)

    times: dict[str, list[tuple[float, float]]] = {"job": [], "plain": [], "bare": []}
    summary: dict = {}
    for _ in range(args.repeats):  # interleaved, so drift in machine speed hits all three
        start = time.perf_counter(), time.process_time()
        summary = job_run(args.epochs)
        times["job"].append((time.perf_counter() - start[0], time.process_time() - start[1]))
        times["plain"].append(timed(lambda: plain_loop(args.epochs, validate=True)))
        times["bare"].append(timed(lambda: plain_loop(args.epochs, validate=False)))

    steps = summary["iterations"]
    print(f"torch {torch.__version__}, 1 thread, {args.epochs} epochs x "
          f"{steps // args.epochs} steps = {steps} steps, {args.repeats} interleaved repeats")
    # Two estimates, since a shared machine's speed drifts: the best repeat of each side (the
    # least disturbed), and the median of per-repeat ratios (job and baseline ran seconds apart,
    # so they share the machine's state). CPU time does not count waiting for a core.
    for clock, column in (("wall", 0), ("cpu", 1)):
        best = {k: min(x[column] for x in v) for k, v in times.items()}
        print(f"{clock} time, best of {args.repeats}: " + ", ".join(
            f"{name} {best[name] * 1000:.1f} ms ({steps / best[name]:.0f} steps/s)"
            for name in ("job", "plain", "bare")))
        for base in ("plain", "bare"):
            paired = statistics.median(
                j[column] / b[column] for j, b in zip(times["job"], times[base], strict=True))
            print(f"  ratio job / {base:5s}: best {best['job'] / best[base]:.3f}, "
                  f"median of paired {paired:.3f}")
    print(f"job steps/s inside its loop (its summary, last repeat): {summary['steps_per_s']}")

if __name__ == "__main__":
    main()
