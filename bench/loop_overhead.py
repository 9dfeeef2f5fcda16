"""The interpreter's overhead on a loop-heavy program, against plain torch in the same process.

The program is the classic "learning PyTorch with examples" nn-module example: a two-layer
``nn.Sequential`` (1000 -> 100 -> ReLU -> 10), 64 random inputs, MSE loss (sum), trained for
500 steps with SGD (the optimizer version uses Adam: ``--optimizer adam``).

Both sides run in this process with one torch thread (like a sandbox worker), interleaved
(sandbox, plain, sandbox, ...), each from the same seed. The sandbox side is ``Sandbox.run``,
the whole of a worker's job: parsing, the interpreter with its budget checks and admission,
the step trace, the views at the end. Its JSON encoding is timed too and printed apart.

Run:  .venv/bin/python bench/loop_overhead.py [--steps 500] [--repeats 5] [--optimizer sgd]
Results: docs/BENCHMARKS.md, section "Loop overhead".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

PROGRAM = """N, D_in, H, D_out = 64, 1000, 100, 10
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H),
    torch.nn.ReLU(),
    torch.nn.Linear(H, D_out),
)
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = {lr}
optimizer = torch.optim.{optimizer}(model.parameters(), lr=learning_rate)
for t in range({steps}):
    y_pred = model(x)
    loss = loss_fn(y_pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
loss.item()
"""

_OPTIMIZERS = {"sgd": ("SGD", 1e-4), "adam": ("Adam", 1e-4)}


def plain(steps: int, optimizer: str, seed: int) -> float:
    """The same program as plain Python; returns the final loss."""
    name, lr = _OPTIMIZERS[optimizer]
    torch.manual_seed(seed)
    n, d_in, h, d_out = 64, 1000, 100, 10
    x = torch.randn(n, d_in)
    y = torch.randn(n, d_out)
    model = torch.nn.Sequential(torch.nn.Linear(d_in, h), torch.nn.ReLU(),
                                torch.nn.Linear(h, d_out))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    opt = getattr(torch.optim, name)(model.parameters(), lr=lr)
    loss = None
    for _ in range(steps):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss is not None
    return loss.item()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--optimizer", choices=sorted(_OPTIMIZERS), default="sgd")
    options = parser.parse_args(argv)

    from app.config import Settings
    from app.engine.program import Sandbox, to_json

    torch.set_num_threads(1)
    name, lr = _OPTIMIZERS[options.optimizer]
    code = PROGRAM.format(steps=options.steps, optimizer=name, lr=lr)
    sandbox = Sandbox(Settings(deadline_s=120.0))
    # Warm-up of both sides (first optimizer imports torch._dynamo, first calls fill caches).
    outcome = sandbox.run(code, seed=0)
    if not outcome.body.get("ok"):
        raise SystemExit(f"the sandbox refused the program: {outcome.body.get('error')}")
    reference = plain(options.steps, options.optimizer, 0)
    shown = outcome.body["result"]["value"] if outcome.body["result"] else None
    print(f"final loss: sandbox {shown}, plain {reference!r}")

    sandbox_s: list[float] = []
    plain_s: list[float] = []
    json_s: list[float] = []
    inside_ms: list[float] = []
    for _ in range(options.repeats):
        start = time.perf_counter()
        outcome = sandbox.run(code, seed=0)
        sandbox_s.append(time.perf_counter() - start)
        inside_ms.append(outcome.body["elapsed_ms"])
        start = time.perf_counter()
        body = to_json(outcome.body)
        json_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        plain(options.steps, options.optimizer, 0)
        plain_s.append(time.perf_counter() - start)
    ratios = [s / p for s, p in zip(sandbox_s, plain_s, strict=True)]
    print(f"torch {torch.__version__}, 1 thread, {options.optimizer}, {options.steps} steps, "
          f"{options.repeats} interleaved repeats")
    print(f"sandbox (Sandbox.run): best {min(sandbox_s) * 1000:.1f} ms, "
          f"median {statistics.median(sandbox_s) * 1000:.1f} ms "
          f"(elapsed_ms median {statistics.median(inside_ms):.1f})")
    print(f"plain torch:           best {min(plain_s) * 1000:.1f} ms, "
          f"median {statistics.median(plain_s) * 1000:.1f} ms")
    print(f"to_json of the result: median {statistics.median(json_s) * 1000:.2f} ms, "
          f"{len(body):,} bytes")
    print(f"ratio sandbox / plain: best {min(sandbox_s) / min(plain_s):.2f}, "
          f"median of paired {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
