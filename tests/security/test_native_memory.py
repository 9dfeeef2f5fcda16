"""Native kernels that trust memory layout, and tensors without data.

The optimizer kernels (fused, foreach, GradScaler's unscale) walk ``numel`` elements from a
data pointer; a stride-0 parameter or gradient, or a replaced state entry, made them read
another request's freed memory and write past their buffers, so the NEXT program on the same
worker died. A meta tensor handed to a CPU kernel returned uninitialised heap memory.

Each attack runs on a real one-worker pool and is followed, on the same worker, by a program
whose answer is checked against torch run here; the legitimate forms of the same calls still
give torch's numbers.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn, optim

from app.engine.program import Sandbox
from app.executor.local import LocalExecutor
from tests.security.conftest import Canary
from tests.security.test_worker_isolation import run_in_pool, run_pool

ATTACKS = {
    "stride0-parameter-fused": "p = nn.Parameter(torch.zeros(1).expand(100000))\n"
                               "o = optim.SGD([p], lr=0.1, fused=True)\n"
                               "p.sum().backward()\no.step()",
    "stride0-grad": "w = nn.Parameter(torch.zeros(100000))\n"
                    "w.grad = torch.zeros(1).expand(100000)\n"
                    "o = optim.Adam([w], lr=0.1)\no.step()",
    "replaced-state": "w = nn.Parameter(torch.zeros(100000))\no = optim.Adam([w], lr=0.1)\n"
                      "w.sum().backward()\no.step()\n"
                      "o.state[w]['exp_avg'] = torch.zeros(1)\n"
                      "o.param_groups[0]['fused'] = True\no.step()\nw[:4]",
    "fused-via-groups": "w = nn.Parameter(torch.zeros(100000))\no = optim.AdamW([w])\n"
                        "o.param_groups[0]['fused'] = True\nw.sum().backward()\no.step()",
    "stride0-plain-param": "t = torch.zeros(1).expand(100000).requires_grad_()\n"
                           "o = optim.Adagrad([t])\nt.sum().backward()\no.step()",
    "meta-matmul": "torch.eye(128) @ torch.zeros(128, 128, device='meta')",
    "meta-linear": "F.linear(torch.ones(2, 3), torch.zeros(4, 3, device='meta'))",
    "meta-assign": "m = nn.Linear(3, 3)\nm.load_state_dict({'weight': torch.ones(3, 3), "
                   "'bias': torch.ones(3)}, assign=True)",
}
# What the next program on the same worker must compute: torch's own answer, below.
FOLLOW_UP = ("torch.manual_seed(1)\nw = nn.Parameter(torch.randn(64))\n"
             "o = optim.Adam([w], lr=0.1)\nfor i in range(3):\n    o.zero_grad()\n"
             "    (w * w).sum().backward()\n    o.step()\nw.detach()")


def follow_up_in_torch() -> list[float]:
    torch.manual_seed(1)
    w = nn.Parameter(torch.randn(64))
    o = optim.Adam([w], lr=0.1)
    for _ in range(3):
        o.zero_grad()
        (w * w).sum().backward()
        o.step()
    return w.detach().tolist()


def test_each_attack_is_refused_and_the_next_program_on_that_worker_is_right(
        intact: Canary) -> None:
    expected = follow_up_in_torch()

    async def scenario(executor: LocalExecutor) -> None:
        worker = next(iter(executor._workers))
        for name, code in ATTACKS.items():
            status, body = await run_in_pool(executor, code, deadline_s=30)
            assert body["ok"] is False, (name, body)
            assert (status, body["error"]["type"]) == (400, "ForbiddenError"), (name, body)
            status, body = await run_in_pool(executor, FOLLOW_UP, deadline_s=30)
            assert (status, body["ok"]) == (200, True), (name, body)
            assert body["result"]["values"] == pytest.approx(expected, rel=1e-6), name
            assert executor._workers == {worker} and worker.process.is_alive(), name

    run_pool(scenario, deadline_s=30)


def run(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(code)
    assert outcome.body["ok"] is True, outcome.body.get("error")
    return outcome.body


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "NAdam"])
def test_optimizers_still_step_like_torch(name: str, sandbox: Sandbox, intact: Canary) -> None:
    """The default (single-tensor) update gives torch's numbers, with a transposed (dense)
    parameter among the ordinary ones."""
    code = (f"torch.manual_seed(0)\nw = nn.Parameter(torch.randn(3, 4).t())\n"
            f"b = nn.Parameter(torch.randn(4))\no = optim.{name}([w, b], lr=0.05)\n"
            "for i in range(4):\n    o.zero_grad()\n    ((w.sum(1) + b) ** 2).sum().backward()\n"
            "    o.step()\n[w.detach(), b.detach()]")
    body = run(sandbox, code)
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3, 4).t())
    b = nn.Parameter(torch.randn(4))
    o = getattr(optim, name)([w, b], lr=0.05)
    for _ in range(4):
        o.zero_grad()
        ((w.sum(1) + b) ** 2).sum().backward()
        o.step()
    got = [torch.tensor(item["values"]) for item in body["result"]["items"]]
    torch.testing.assert_close(got[0], w.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got[1], b.detach(), rtol=1e-5, atol=1e-6)


def test_dense_gradients_clipping_and_vectors_work_like_torch(sandbox: Sandbox,
                                                              intact: Canary) -> None:
    code = ("m = nn.Linear(3, 2)\nwith torch.no_grad():\n    m.weight.fill_(1.0)\n"
            "    m.bias.fill_(0.5)\nm.weight.grad = torch.full_like(m.weight, 3.0)\n"
            "m.bias.grad = torch.full_like(m.bias, 4.0)\n"
            "n = nn.utils.clip_grad_norm_(m.parameters(), 1.0)\n"
            "v = nn.utils.parameters_to_vector(m.parameters())\n"
            "nn.utils.vector_to_parameters(v * 2, m.parameters())\n"
            "[n, m.weight.grad, m.bias.detach()]")
    body = run(sandbox, code)
    norm, grad, bias = body["result"]["items"]
    total = math.sqrt(6 * 9 + 2 * 16)
    assert norm["values"] == pytest.approx(total, rel=1e-6)
    torch.testing.assert_close(torch.tensor(grad["values"]), torch.full((2, 3), 3.0 / total))
    assert bias["values"] == [1.0, 1.0]


def test_optimizer_state_reads_but_cannot_be_replaced(sandbox: Sandbox, intact: Canary) -> None:
    code = ("w = nn.Parameter(torch.ones(3))\no = optim.Adam([w], lr=0.1)\n"
            "(w * 2).sum().backward()\no.step()\ns = o.state[w]\ns['exp_avg'] = torch.zeros(1)\n"
            "[o.state[w]['exp_avg'], sorted(o.state[w].keys())]")
    body = run(sandbox, code)
    exp_avg, keys = body["result"]["items"]
    assert exp_avg["values"] == pytest.approx([0.2, 0.2, 0.2])  # (1 - 0.9) * grad 2
    assert [item["value"] for item in keys["items"]] == ["exp_avg", "exp_avg_sq", "step"]


def test_a_scheduler_state_dict_holds_no_interpreter(sandbox: Sandbox, intact: Canary) -> None:
    """As in torch, a function given as lr_lambda is stored as None."""
    body = run(sandbox, "o = optim.SGD([nn.Parameter(torch.ones(1))], lr=1.0)\n"
                        "def f(epoch):\n    return 0.5 ** epoch\n"
                        "s = optim.lr_scheduler.LambdaLR(o, f)\ns.step()\ns.step()\n"
                        "[s.state_dict()['lr_lambdas'], s.get_last_lr()]")
    lambdas, last = body["result"]["items"]
    assert lambdas["items"] == [{"kind": "none"}]
    assert last["items"][0]["value"] == 0.25


@pytest.mark.parametrize("code", [
    "torch.zeros(2, device='meta')", "torch.ones(3).to('meta')",
    "torch.ones(3).to(device='meta')", "torch.device('meta')", "torch.randn(3, device='meta')",
    "nn.Linear(2, 2, device='meta')", "nn.Linear(2, 2, True, 'meta')",
    "nn.Conv2d(1, 1, 3, 1, 0, 1, 1, True, 'zeros', 'meta')", "nn.Linear(2, 2).to('meta')",
    "torch.empty(3, device=torch.device('meta'))",
])
def test_no_program_holds_a_tensor_without_data(code: str, sandbox: Sandbox,
                                                intact: Canary) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False
    assert body["error"]["type"] == "ForbiddenError"
    assert "the device 'meta' is not available" in body["error"]["message"]
