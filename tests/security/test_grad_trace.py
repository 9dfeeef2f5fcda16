"""The gradient trace's hooks change nothing a program can see: the same programs give the
same result, variables, gradients and output with capture on and off (max_grad_trace_calls
0 registers no hook), and the trace stays bounded whatever the program does."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.engine.program import Sandbox

PROGRAMS = {
    "mul-and-sum": "x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)\n"
                   "y = (x * x * 3).sum()\ny.backward()\nx.grad\n",
    "backward-twice": "w = torch.tensor([0.5, 2.0], requires_grad=True)\n"
                      "loss = (w.exp() * w).sum()\nloss.backward(retain_graph=True)\n"
                      "loss.backward()\nw.grad\n",
    "custom-function": """class Twice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        print('grad_fn of x in backward:', x.grad_fn, 'g:', g)
        return g * 2
x = torch.ones(3, requires_grad=True)
y = Twice.apply(x).sum()
y.backward()
print(y.grad_fn.name(), y.grad_fn.next_functions[0][0].name())
x.grad
""",
    "autograd-grad": "x = torch.tensor([0.3, 0.7], requires_grad=True)\n"
                     "(g,) = torch.autograd.grad(torch.sigmoid(x).sum(), x, create_graph=True)\n"
                     "(h,) = torch.autograd.grad(g.sum(), x)\nh\n",
    "training-loop": "torch.manual_seed(0)\nm = nn.Linear(3, 1)\n"
                     "o = optim.SGD(m.parameters(), lr=0.1)\nX = torch.randn(8, 3)\n"
                     "Y = torch.randn(8, 1)\nfor i in range(6):\n    o.zero_grad()\n"
                     "    loss = F.mse_loss(m(X), Y)\n    loss.backward()\n    o.step()\n"
                     "loss.item()\n",
}

_COMPARED = ("ok", "result", "variables", "stdout", "steps", "error")


def visible(sandbox: Sandbox, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    outcome = sandbox.run(code, device="cpu")
    assert outcome.status == 200, outcome.body
    return {key: outcome.body.get(key) for key in _COMPARED}, outcome.body


@pytest.fixture(scope="module")
def without_capture(settings: Settings) -> Sandbox:
    return Sandbox(settings.model_copy(update={"max_grad_trace_calls": 0}))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_program_sees_the_same_with_and_without_capture(
        name: str, sandbox: Sandbox, without_capture: Sandbox) -> None:
    captured, body = visible(sandbox, PROGRAMS[name])
    plain, plain_body = visible(without_capture, PROGRAMS[name])
    assert captured["ok"], captured["error"]
    assert captured == plain
    assert body["grad_trace"]["calls"], "capture was on: something was recorded"
    assert plain_body["grad_trace"]["calls"] == []


def test_capture_of_a_huge_graph_is_bounded(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    body = sandbox.run("x = torch.ones(10**6, requires_grad=True)\ny = x\n"
                       "for i in range(300):\n    y = y * 1.0001\ny.sum().backward()\n",
                       device="cpu").body
    assert body["ok"], body.get("error")
    [call] = body["grad_trace"]["calls"]
    assert call["truncated"] and len(call["nodes"]) <= settings.max_grad_trace_nodes
    assert all(len(g["values"]) <= settings.max_trace_values
               for node in call["nodes"] for g in node["received"] if g is not None)
