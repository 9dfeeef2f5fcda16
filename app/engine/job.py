"""The "eval" job handler: runs one program in a worker's Sandbox.

Registered in app/jobs.py; a sandbox worker imports this module and calls ``warm_up`` once
before its OS layer locks it down, then ``run_eval`` per job.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from app.config import Settings
from app.engine.exceptions import PROCESS_STOPS
from app.engine.program import Sandbox, to_json
from app.executor.handlers import JobContext
from app.message import error_body

# A program that touches the common paths once, so the first real request does not pay for
# lazy imports and meta-kernel registration (several hundred ms otherwise), nor for
# matplotlib's first figure.
WARM_UP_PROGRAM = """
A = torch.tensor([[1, 2, 3], [4, 5, 6]])
B = torch.tensor([[1, 4], [2, 5], [3, 6]])
C = torch.mm(A, B) + torch.mul(A, A).sum()
S = torch.stack((A, A), dim=2)
D = torch.cat((A, A), dim=1).float() @ torch.randn(6, 2)
x = torch.randn(2, 2, requires_grad=True)
out = ((x + 2) * (x + 2) * 3).mean()
out.backward()
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
optimizer = optim.Adam(model.parameters(), lr=0.01)
loss = F.cross_entropy(model(torch.randn(4, 4)), torch.tensor([0, 1, 0, 1]))
optimizer.zero_grad()
loss.backward()
optimizer.step()
loader = DataLoader(TensorDataset(torch.randn(6, 4), torch.arange(6)), batch_size=4)
batches = [b[0].shape for b in loader]
import matplotlib.pyplot as plt
fig, axes = plt.subplots(1, 2, figsize=(4, 2))
axes[0].plot([1, 2, 3], [2, 1, 3], "o-", label="warm")
axes[0].legend()
axes[1].imshow(torch.rand(2, 2))
plt.title("warm up")
x.grad
"""

# The payload key under which app/evaluation.py sends the mark of the check the program
# passed in the web process (app/engine/parser.py, check_mark). A request cannot set it:
# EvalRequest refuses fields it does not declare.
CHECKED_MARK = "checked_mark"

# One Sandbox per worker process, made by warm_up (or the first job).
_sandbox: Sandbox | None = None


def _get_sandbox(settings: Settings) -> Sandbox:
    global _sandbox
    if _sandbox is None:
        _sandbox = Sandbox(settings)
    return _sandbox


def warm_up(settings: Settings) -> None:
    sandbox = _get_sandbox(settings)
    # Forked from a forkserver that ran the warm-up program (app/engine/prewarm.py, CPU
    # builds), a worker starts warm: running it again cost ~90 ms of CPU at every
    # replacement (every worker_max_programs programs) to save ~3 ms of the worker's first
    # program and ~6 ms of its first figure (see "worker replacement" in
    # bench/eval_latency.py --profile-worker).
    prewarmed = sys.modules.get("app.engine.prewarm")
    if prewarmed is not None and prewarmed.WARMED:
        return
    sandbox.run(WARM_UP_PROGRAM)


def run_eval(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    sandbox = _get_sandbox(context.settings)
    try:
        outcome = sandbox.run(payload["code"], payload.get("seed", 0),
                              payload.get("device", "auto"), payload.get("repeat", 1),
                              payload.get(CHECKED_MARK))
        return outcome.status, to_json(outcome.body)
    except PROCESS_STOPS:
        raise
    except BaseException as failure:  # a bug of ours must not cost the worker
        return 200, json.dumps(error_body(
            "InternalError", f"the playground could not describe the result "
            f"({type(failure).__name__})", None,
            "Please report the program; end it with a simpler value.")).encode()
