"""The gradient trace (app/inspect/gradtrace.py) against plain torch: every gradient a node
received or sent, and every leaf's .grad before and after, is what torch computes for the same
program; nodes come in the order autograd ran them; our hooks are gone afterwards."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from app.engine.program import Sandbox
from app.inspect.gradtrace import LOCAL_RULES, GradTraceRecorder


def run(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(code, device="cpu")
    assert outcome.status == 200 and outcome.body["ok"], outcome.body.get("error")
    return outcome.body


def values(view: dict[str, Any] | None) -> list[float]:
    assert view is not None
    return view["values"]


def flat(tensor: torch.Tensor) -> list[float]:
    return tensor.detach().reshape(-1).tolist()


def test_each_node_received_and_sent_what_torch_computes(sandbox: Sandbox) -> None:
    body = run(sandbox, "a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
                        "b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)\n"
                        "c = a * b\nd = torch.sigmoid(c).sum()\nd.backward()\n")
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = a * b
    c.retain_grad()
    s = torch.sigmoid(c)
    s.retain_grad()
    s.sum().backward()
    [call] = body["grad_trace"]["calls"]
    assert call["call"] == "backward()" and call["line"] == 5
    names = [node["name"] for node in call["nodes"]]
    assert names[:3] == ["SumBackward0", "SigmoidBackward0", "MulBackward0"]
    assert sorted(names[3:]) == ["AccumulateGrad", "AccumulateGrad"]
    assert [node["order"] for node in call["nodes"]] == [1, 2, 3, 4, 5]
    by_name = {node["name"]: node for node in call["nodes"][:3]}
    assert values(call["grad_outputs"][0]) == [1.0]
    assert values(by_name["SigmoidBackward0"]["received"][0]) == pytest.approx(flat(s.grad))
    assert values(by_name["MulBackward0"]["received"][0]) == pytest.approx(flat(c.grad))
    sent = [values(edge["grad"]) for edge in by_name["MulBackward0"]["sent"]]
    assert sent == [pytest.approx(flat(a.grad)), pytest.approx(flat(b.grad))]
    assert by_name["MulBackward0"]["rule"] == LOCAL_RULES["MulBackward0"]
    leaves = {node["leaf"]: node for node in call["nodes"][3:]}
    assert values(leaves["a"]["grad_after"]) == pytest.approx(flat(a.grad))
    assert values(leaves["b"]["grad_after"]) == pytest.approx(flat(b.grad))
    assert leaves["a"]["grad_before"] is None


def test_backward_twice_shows_the_accumulation(sandbox: Sandbox) -> None:
    body = run(sandbox, "w = torch.tensor([2.0, -1.0], requires_grad=True)\n"
                        "loss = (w ** 3).sum()\nloss.backward(retain_graph=True)\n"
                        "loss.backward()\n")
    w = torch.tensor([2.0, -1.0], requires_grad=True)
    loss = (w ** 3).sum()
    loss.backward(retain_graph=True)
    once = flat(w.grad)
    loss.backward()
    first, second = body["grad_trace"]["calls"]
    accumulate = next(n for n in second["nodes"] if n["name"] == "AccumulateGrad")
    assert values(accumulate["grad_before"]) == pytest.approx(once)
    assert values(accumulate["grad_after"]) == pytest.approx(flat(w.grad))
    assert next(n for n in first["nodes"] if n["name"] == "AccumulateGrad")["grad_before"] \
        is None
    pow_node = next(n for n in first["nodes"] if n["name"] == "PowBackward0")
    assert values(pow_node["sent"][0]["grad"]) == pytest.approx(once)


def test_a_leaf_used_twice_receives_two_contributions(sandbox: Sandbox) -> None:
    body = run(sandbox, "x = torch.tensor([3.0], requires_grad=True)\n"
                        "y = x * 2 + torch.exp(x)\ny.backward()\n")
    x = torch.tensor([3.0], requires_grad=True)
    (x * 2 + torch.exp(x)).backward()
    [call] = body["grad_trace"]["calls"]
    [leaf] = [n for n in call["nodes"] if n["name"] == "AccumulateGrad"]
    assert leaf["contributions"] == 2
    assert values(leaf["received"][0]) == pytest.approx(flat(x.grad))
    into_leaf = sorted(values(edge["grad"])[0] for node in call["nodes"]
                       for edge in node["sent"] if edge["to"] == leaf["id"])
    assert into_leaf == pytest.approx(sorted([2.0, float(torch.exp(torch.tensor(3.0)))]))


def test_a_non_scalar_output_shows_the_grad_outputs_used(sandbox: Sandbox) -> None:
    body = run(sandbox, "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                        "y = x * x\ny.backward(torch.tensor([0.5, -1.0]))\n")
    [call] = body["grad_trace"]["calls"]
    assert values(call["grad_outputs"][0]) == [0.5, -1.0]
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(torch.tensor([0.5, -1.0]))
    leaf = next(n for n in call["nodes"] if n["name"] == "AccumulateGrad")
    assert values(leaf["grad_after"]) == pytest.approx(flat(x.grad))


def test_autograd_grad_is_traced_too(sandbox: Sandbox) -> None:
    body = run(sandbox, "x = torch.tensor([1.5, 2.0], requires_grad=True)\n"
                        "(g,) = torch.autograd.grad((torch.tanh(x)).sum(), x)\n")
    [call] = body["grad_trace"]["calls"]
    assert call["call"] == "torch.autograd.grad"
    tanh = next(n for n in call["nodes"] if n["name"] == "TanhBackward0")
    x = torch.tensor([1.5, 2.0], requires_grad=True)
    (expected,) = torch.autograd.grad(torch.tanh(x).sum(), x)
    assert values(tanh["sent"][0]["grad"]) == pytest.approx(flat(expected))


def test_calls_nodes_and_values_are_bounded(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    body = run(sandbox, "w = torch.randn(100, requires_grad=True)\n"
                        "for i in range(10):\n"
                        "    loss = (w * w).sum()\n    loss.backward()\n")
    trace = body["grad_trace"]
    assert len(trace["calls"]) == settings.max_grad_trace_calls
    assert trace["skipped_calls"] == 10 - settings.max_grad_trace_calls
    node = trace["calls"][0]["nodes"][1]
    assert len(node["received"][0]["values"]) == settings.max_trace_values
    assert node["received"][0]["more"] is True
    deep = "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(200):\n" \
           "    y = y * 1.0\ny.sum().backward()\n"
    call = run(sandbox, deep)["grad_trace"]["calls"][0]
    assert call["truncated"] is True
    assert len(call["nodes"]) <= settings.max_grad_trace_nodes


def test_our_hooks_are_removed_after_the_call() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    recorder = GradTraceRecorder(4, 50, 8)
    finish = recorder.start("backward()", [y], 1)
    y.backward(retain_graph=True)
    finish()
    assert len(recorder.calls[0].nodes) == 3
    # Even with the call marked active again, no hook of ours runs: they were removed, not
    # only silenced.
    recorder._active = recorder.calls[0]
    y.backward()
    assert len(recorder.calls[0].nodes) == 3


def test_a_raising_call_leaves_no_recording_hook(sandbox: Sandbox) -> None:
    code = ("x = torch.tensor([1.0], requires_grad=True)\ny = x * 2\ny.backward()\n"
            "try:\n    y.backward()\nexcept RuntimeError:\n    pass\nx.grad\n")
    body = run(sandbox, code)
    first, second = body["grad_trace"]["calls"]
    assert [n["name"] for n in first["nodes"]] == ["MulBackward0", "AccumulateGrad"]
    assert second["nodes"] == []  # the graph was freed: torch raised before any node ran


def test_the_drawn_graph_shows_what_flowed_into_each_node(sandbox: Sandbox) -> None:
    """Each op node of /eval's graph carries the gradient it received (against torch's own
    retain_grad) and its local rule; the stepper's (call, order) steps name when it ran."""
    body = run(sandbox, "x = torch.tensor([1., -2., 3.], requires_grad=True)\n"
                        "w = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)\n"
                        "h = x * w\np = h.pow(2)\nloss = p.sum()\nloss.backward()\n")
    nodes = {n["var"]: n for n in body["graph"]["nodes"] if n["kind"] != "leaf"}
    x = torch.tensor([1., -2., 3.], requires_grad=True)
    w = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    h = x * w
    h.retain_grad()
    p = h.pow(2)
    p.retain_grad()
    p.sum().backward()
    assert nodes["h"]["backward"]["received"]["values"] == flat(h.grad)
    assert nodes["p"]["backward"]["received"]["values"] == flat(p.grad)
    assert nodes["h"]["backward"]["rule"] == LOCAL_RULES["MulBackward0"]
    assert nodes["h"]["backward"]["norm"] == pytest.approx(float(h.grad.norm()))
    order = {n["name"]: n["order"] for n in body["grad_trace"]["calls"][0]["nodes"]}
    assert nodes["h"]["backward"]["steps"] == [[1, order["MulBackward0"]]]
    assert nodes["loss"]["backward"]["steps"] == [[1, order["SumBackward0"]]]


def test_a_graph_without_backward_has_no_flow(sandbox: Sandbox) -> None:
    body = run(sandbox, "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n")
    assert all("backward" not in n for n in body["graph"]["nodes"])


def test_norms_are_float64_reductions_of_the_gradient() -> None:
    from app.inspect.gradtrace import _norm

    torch.manual_seed(0)
    grad = torch.randn(64, 64) * 1e-3
    assert _norm(grad) == float(torch.linalg.vector_norm(grad.double()))
    complex_grad = torch.randn(5, dtype=torch.complex64)
    assert _norm(complex_grad) == float(torch.linalg.vector_norm(complex_grad.abs().double()))
    assert _norm(torch.tensor([float("inf"), 1.0])) is None
    assert _norm(torch.zeros(0)) is None
